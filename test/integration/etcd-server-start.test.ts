// Starting etcd when its binary is missing fails at once with an error that says what to do,
// instead of an uncaught spawn error and a wait for the whole health deadline.
import { describe, it, expect } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcdServer } from '../../pkg/etcd/server.js';

describe('starting etcd', () => {
  it('without its binary: a clear error, not a wait for the health deadline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xnet-etcd-missing-'));
    try {
      const missing = /cannot run .*no-such-etcd: .*ENOENT.*scripts\/setup\.sh installs it/;
      await expect(startEtcdServer({ dataDir: dir, binary: join(dir, 'no-such-etcd') })).rejects.toThrow(missing);
      // a cluster member, which does not wait to be healthy on its own, says so as well
      const member = startEtcdServer({ dataDir: dir, name: 'm1', binary: join(dir, 'no-such-etcd'), initialCluster: 'm1=http://127.0.0.1:1' });
      await expect(member).rejects.toThrow(missing);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
