// What xctl loads before it runs any command: the static (value) imports reachable from its
// entry. Each xctl run is a new process, and each module file costs start time (about half a
// second of CPU for the agent, lab and Docker code, which only `verify`, `lab` and `auth`'s
// certificates need): those are imported by the command that runs them. This walks the source,
// so a new static import that pulls them back in fails here, naming the chain.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(__dirname, '../..');

/** value imports and re-exports of a TypeScript file (`import type` and `export type` left out) */
function valueImports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of src.matchAll(/^(import|export)\s+(type\s)?[^'";]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm)) {
    if (m[2]) continue;
    specs.push(m[3] ?? m[4]);
  }
  return specs;
}

/** every module reachable from entry: path (repo-relative) or package name, with who imported it first */
function reachable(entry: string): Map<string, string | null> {
  const firstBy = new Map<string, string | null>([[entry, null]]);
  const queue = [entry];
  while (queue.length) {
    const file = queue.shift()!;
    for (const spec of valueImports(join(ROOT, file))) {
      const target = spec.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), spec)).replace(/\.js$/, '.ts') : spec;
      if (firstBy.has(target)) continue;
      firstBy.set(target, file);
      if (spec.startsWith('.')) queue.push(target);
    }
  }
  return firstBy;
}

function chain(firstBy: Map<string, string | null>, target: string): string {
  const path: string[] = [];
  for (let at: string | null | undefined = target; at; at = firstBy.get(at)) path.unshift(at);
  return path.join(' -> ');
}

describe('xctl start', () => {
  const loaded = reachable('cmd/xctl.ts');

  test('the walk sees what xctl needs for every command (etcd, the API, the manifest reader)', () => {
    for (const m of ['etcd3', 'commander', 'yaml', 'pkg/api/index.ts', 'pkg/manifest/load.ts', 'pkg/cli/commands/get.ts']) {
      expect(loaded.has(m), m).toBe(true);
    }
  });

  test('loads no agent, controller, lab, Docker, metrics, winston or process-spawning code', () => {
    const heavy = [...loaded.keys()].filter((m) =>
      /^pkg\/(agent|controller|lab\/(up|down|status|exec|services)|dockeripam|netlink|verify\/verify)\b/.test(m) ||
      ['dockerode', 'execa', 'prom-client', 'winston'].includes(m));
    expect(heavy.map((m) => chain(loaded, m))).toEqual([]);
  });
});
