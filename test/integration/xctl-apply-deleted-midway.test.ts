// An apply of several transactions that meets, in a later transaction, an object someone else
// marked for deletion meanwhile stops there (exit 3, "apply it again once it is gone"). Its
// message went on to promise that re-running the same apply converges, which, until the
// object is gone, is refused again, writing nothing. It now says what the re-run waits for.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startStoreEtcd, type TestEtcd } from '../harness/etcd.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { runXctl } from '../../pkg/cli/program.js';
import type { EtcdStore } from '../../pkg/store/etcd-store.js';

let etcd: TestEtcd;
let client: Etcd3;
let store: EtcdStore;
let dir: string;
beforeAll(async () => {
  ({ etcd, client, store } = await startStoreEtcd());
  dir = mkdtempSync(join(tmpdir(), 'xctl-deleted-midway-'));
});
afterAll(async () => {
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function xctl(args: string[], endpoints = etcd.endpoints.join(',')): Promise<{ code: number; out: string; err: string }> {
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(args, { out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, stdin: async () => '', env: { XCTL_ENDPOINTS: endpoints } });
  return r;
}

const nic = (i: number, container: string) => `apiVersion: xnet.io/v1alpha1\nkind: ContainerNic\nmetadata:\n  name: g-${i}\n` +
  `spec: {node: h1, container: ${container}-${i}, ifName: eth1, network: {clusterNetwork: cn}}\n`;
function manifest(name: string, docs: string[]): string {
  const f = join(dir, name);
  writeFileSync(f, docs.join('---\n'));
  return f;
}

describe('an apply that meets an object being deleted in a later transaction', () => {
  it('stops, exit 3, and says the re-run converges once that object is gone, not at once', async () => {
    // g-199 is stored, and the apply changes it: it is in the last of 4 transactions (64 NICs each)
    expect((await xctl(['apply', '-f', manifest('old.yaml', [nic(199, 'old')])])).code).toBe(0);
    const f = manifest('all.yaml', Array.from({ length: 200 }, (_, i) => nic(i, 'new')));
    // requests wait 300 ms in the proxy: once the first transaction is seen committed, someone deletes g-199 (marked: it has a finalizer)
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: etcd.members[0].clientPort }, { holdMs: 300 });
    const watcher = await client.watch().prefix(store.keys.objects('ContainerNic') + 'g-0').create();
    watcher.once('put', () => { void store.delete('ContainerNic', 'g-199'); });
    let r;
    try {
      r = await xctl(['apply', '-f', f], proxy.endpoint);
    } finally {
      await watcher.cancel();
      await proxy.close();
    }
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/^error: apply stopped after 3 of 4 transactions: 192 of 200 objects written .*: conflict: .*containernic\/g-199\).*is being deleted/);
    expect(r.err).not.toContain('Re-running the same apply converges');
    expect(r.err).toContain('Re-running converges once containernic/g-199 is gone (xctl wait containernic g-199 --for delete); what is already applied is left unchanged.');
    // as it says: at once, the same apply is refused again, writing nothing
    const again = await xctl(['apply', '-f', f]);
    expect(again.code).toBe(3);
    expect(again.err).toContain('nothing was written');
  }, 60_000);
});
