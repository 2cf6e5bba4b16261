// The built programs (dist/cmd/*.js, bundles: scripts/bundle.mjs) are newer than every source
// they are made of. Only `npm run build` and scripts/setup.sh bundle; `tsc` alone (incremental
// or --watch) leaves the bundles as they were, and a test of the programs would then run code
// older than the sources it is read next to. Checked once per worker, where tests start programs.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const PROGRAMS = ['xctl', 'xnet-agent', 'xnet-controller'].map((p) => resolve('dist', 'cmd', `${p}.js`));
let checked = false;

function newestSource(dir: string): { file: string; mtimeMs: number } {
  let newest = { file: '', mtimeMs: 0 };
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    if (!/\.(ts|cjs)$/.test(f)) continue;
    const mtimeMs = statSync(join(dir, f)).mtimeMs;
    if (mtimeMs > newest.mtimeMs) newest = { file: join(dir, f), mtimeMs };
  }
  return newest;
}

/** Throws, naming the newer source, when a built program is missing or older than pkg/ or cmd/. */
export function assertProgramsBuilt(): void {
  if (checked) return;
  const sources = [newestSource(resolve('pkg')), newestSource(resolve('cmd'))].sort((a, b) => b.mtimeMs - a.mtimeMs)[0];
  for (const p of PROGRAMS) {
    let built: number;
    try { built = statSync(p).mtimeMs; } catch { throw new Error(`${p} is missing: run "npm run build" (the test command builds it) first`); }
    if (built < sources.mtimeMs) throw new Error(`${p} is older than ${sources.file}: run "npm run build" (tsc alone does not bundle the programs)`);
  }
  checked = true;
}
