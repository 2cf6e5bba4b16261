// A directory of this test worker's own for what its files make once and reuse (the etcd
// certificates of pki-cache.ts, the busybox image's root filesystem tar): made on first use,
// removed when the worker exits (vitest may end a worker by a signal, without its 'exit': the
// next worker to make one removes those of workers that are gone). Never shared across workers or runs.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// kept on the process, not the module: the `isolated` project's files load this module afresh
const KEY = Symbol.for('xnet.test.workerCacheDir');
const proc = process as unknown as Record<symbol, string | undefined>;

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** The directories of earlier workers that ended without removing theirs. */
function removeOrphans(): void {
  for (const name of readdirSync(tmpdir())) {
    const m = /^xnet-worker-(\d+)-/.exec(name);
    if (m && !alive(Number(m[1]))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

export function workerCacheDir(): string {
  let dir = proc[KEY];
  if (!dir) {
    removeOrphans();
    const made = mkdtempSync(join(tmpdir(), `xnet-worker-${process.pid}-`));
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
    proc[KEY] = dir = made;
  }
  return dir;
}
