// The tests of the built `xctl` program (dist/cmd/xctl.js, as a user runs it) share this:
// the program checked to be built, and a real etcd started before the file's tests and
// stopped after them. Registered first, so a file's own beforeAll may use the etcd.
import { resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { assertProgramsBuilt } from '../harness/built-fresh.js';

export const XCTL_BIN = resolve('dist/cmd/xctl.js');

/** The file's etcd, read in tests and hooks (set before them). */
export function useBuiltXctl(): { readonly etcd: TestEtcd } {
  const env = {} as { etcd: TestEtcd };
  beforeAll(async () => {
    assertProgramsBuilt();
    env.etcd = await startEtcd();
  });
  afterAll(async () => { await env.etcd?.stop(); });
  return env;
}
