// A directory of this test worker's own for what its files make once and reuse (the etcd
// certificates of pki-cache.ts, the busybox image's root filesystem tar): made on first use,
// removed when the worker exits. Never shared across workers or runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// kept on the process, not the module: the `isolated` project's files load this module afresh
const KEY = Symbol.for('xnet.test.workerCacheDir');
const proc = process as unknown as Record<symbol, string | undefined>;

export function workerCacheDir(): string {
  let dir = proc[KEY];
  if (!dir) {
    const made = mkdtempSync(join(tmpdir(), `xnet-worker-${process.pid}-`));
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
    proc[KEY] = dir = made;
  }
  return dir;
}
