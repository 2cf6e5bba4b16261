// The repository's own documentation links only to itself, and every link lands: the file
// exists and, with a #fragment, a heading of that file has that anchor (as GitHub makes it).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const PAGES = [
  'README.md', 'deploy/README.md',
  ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
];

/** GitHub's heading anchor: lower case, markup and punctuation dropped, spaces to hyphens, repeats numbered. */
export function anchorsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (!m) continue;
    const text = m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
    const base = text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Inline links [text](target) outside code, with their line numbers. */
function linksOf(markdown: string): Array<{ target: string; line: number }> {
  const out: Array<{ target: string; line: number }> = [];
  let fenced = false;
  markdown.split('\n').forEach((line, i) => {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) return;
    const prose = line.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) out.push({ target: m[1], line: i + 1 });
  });
  return out;
}

function brokenLinks(page: string): string[] {
  const text = readFileSync(join(ROOT, page), 'utf8');
  const problems: string[] = [];
  for (const { target, line } of linksOf(text)) {
    const where = `${page}:${line} -> ${target}`;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) { problems.push(`${where}: points outside the repository`); continue; }
    const [path, fragment] = target.split('#');
    const file = path ? join(ROOT, dirname(page), path) : join(ROOT, page);
    if (!existsSync(file)) { problems.push(`${where}: no such file`); continue; }
    if (fragment === undefined || statSync(file).isDirectory()) continue;
    if (!anchorsOf(readFileSync(file, 'utf8')).has(fragment)) problems.push(`${where}: ${relative(ROOT, file)} has no heading with that anchor`);
  }
  return problems;
}

describe('documentation links', () => {
  it('makes anchors the way GitHub does', () => {
    const a = anchorsOf('# xnet\n## Node liveness (agent <-> controller contract)\n### `bench/scale.ts`: hollow nodes\n## Runs\n## Runs\n```\n# not a heading\n```');
    expect([...a]).toEqual(['xnet', 'node-liveness-agent---controller-contract', 'benchscalets-hollow-nodes', 'runs', 'runs-1']);
  });

  it.each(PAGES)('%s: every link lands inside the repository', (page) => {
    expect(brokenLinks(page)).toEqual([]);
  });
});
