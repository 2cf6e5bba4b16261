// docs/api.md against the code: every field of the zod schemas is documented under its kind
// (or under "Common fields"), no documented field is missing from the schemas, defaults agree,
// every condition reason the controller and agent set is listed, and the commands and exit
// codes are the program's. The page cannot drift without this failing.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { KINDS } from '../../pkg/api/kinds.js';
import { buildProgram } from '../../pkg/cli/program.js';
import { EXIT } from '../../pkg/cli/exit.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');

/** The body of a `### title` or `## title` section, up to the next heading of that level or above. */
function section(title: string): string {
  const lines = DOC.split('\n');
  const start = lines.findIndex((l) => /^#{2,3} /.test(l) && l.replace(/^#+ /, '') === title);
  if (start < 0) throw new Error(`docs/api.md has no section "${title}"`);
  const level = lines[start].indexOf(' ');
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && l.indexOf(' ') <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** Table rows whose first cell is a `code` span: first cell -> the other cells. */
function rows(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^\| `([^`]+)` \|(.*)\|$/.exec(line);
    if (m) out.set(m[1], m[2].split(/(?<!\\)\|/).map((c) => c.trim()));
  }
  return out;
}

interface SchemaField { path: string; default?: unknown }

/** Every field path of a kind's input JSON Schema (spec.nodes[].name), with its default. */
function schemaFields(schema: z.ZodTypeAny): SchemaField[] {
  const out: SchemaField[] = [];
  const walk = (js: Record<string, any>, prefix: string) => {
    for (const alt of js.anyOf ?? []) walk(alt, prefix);
    if (js.type === 'array' && js.items) walk(js.items, `${prefix}[]`);
    for (const [k, v] of Object.entries<Record<string, any>>(js.properties ?? {})) {
      const path = prefix ? `${prefix}.${k}` : k;
      out.push({ path, default: v.default });
      walk(v, path);
    }
  };
  walk(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, any>, '');
  return out.filter((f) => !['metadata', 'spec', 'status'].includes(f.path));
}

const common = rows(section('Common fields'));

describe('docs/api.md documents the schemas', () => {
  for (const k of KINDS) {
    it(`${k.kind}: every schema field is documented, every documented field exists, defaults agree`, () => {
      const own = rows(section(k.kind));
      const fields = schemaFields(k.schema);
      const documented = (p: string) => own.get(p) ?? common.get(p);
      const undocumented = fields.filter((f) => !documented(f.path)).map((f) => f.path);
      expect(undocumented, `add these fields of ${k.kind} to docs/api.md`).toEqual([]);
      const known = new Set(fields.map((f) => f.path));
      const stale = [...own.keys(), ...common.keys()].filter((p) => !known.has(p));
      expect(stale, `docs/api.md documents fields ${k.kind} does not have`).toEqual([]);
      for (const f of fields) {
        const cell = documented(f.path)![1];
        const want = f.default === undefined ? '—' : `\`${typeof f.default === 'string' ? f.default : JSON.stringify(f.default)}\``;
        expect(`${f.path}: ${cell}`).toBe(`${f.path}: ${want}`);
      }
    });
  }
});

/** Every `.ts` file under dir. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('docs/api.md lists every condition reason', () => {
  it('each reason the controller, agent, IPAM and Docker code can set has a row', () => {
    const code = ['agent', 'controller', 'docker', 'ipam', 'netlink'].flatMap((d) => sources(join(ROOT, 'pkg', d)))
      .map((f) => readFileSync(f, 'utf8')).join('\n');
    const found = new Set<string>();
    const patterns = [/reason: *'([A-Z]\w+)'/g, /(?:notReady|Error|super)\('([A-Z]\w+)'/g, /AllocationFailure = ([^;]+);/g];
    for (const re of patterns) {
      for (const m of code.matchAll(re)) for (const r of m[1].match(/[A-Z]\w+/g) ?? []) found.add(r);
    }
    // the controller's own transaction errors: retried or ending a term, never a condition's
    // reason (conditions carry AllocationError reasons: nics.ts, hostsubnets.ts)
    for (const internal of ['Conflict', 'DuplicateKey', 'NotLeader']) found.delete(internal);
    expect(found.size).toBeGreaterThan(20);
    const listed = rows(section('Condition reasons'));
    expect([...found].filter((r) => !listed.has(r)).sort(), 'add these reasons to docs/api.md').toEqual([]);
  });
});

describe('docs/api.md lists every xctl command and exit code', () => {
  it('the command table names exactly the program\'s top-level commands', () => {
    const program = buildProgram({ out: () => undefined, err: () => undefined, env: {} } as never, async () => undefined);
    const commands = program.commands.filter((c) => !(c as unknown as { _hidden: boolean })._hidden).map((c) => c.name()).sort();
    const documented = [...rows(section('xctl commands')).keys()].map((c) => c.split(' ')[0]);
    expect([...new Set(documented)].sort()).toEqual(commands);
  });

  it('the exit code table is EXIT', () => {
    const table = section('Exit codes').split('\n').map((l) => /^\| (\d+) \|/.exec(l)?.[1]).filter(Boolean).map(Number);
    expect(table).toEqual(Object.values(EXIT).sort((a, b) => a - b));
  });
});

describe('README and docs link only inside the repository', () => {
  it('no relative link leaves the repository and every one resolves', () => {
    const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const bad: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      if (/shared\/api\.md/.test(text)) bad.push(`${f}: mentions shared/api.md`);
      for (const m of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/.test(target)) continue;
        const abs = join(ROOT, f, '..', target);
        if (!abs.startsWith(ROOT + '/') || !exists(abs)) bad.push(`${f}: ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

function exists(p: string): boolean {
  try { statSync(p); return true; } catch { return false; }
}
