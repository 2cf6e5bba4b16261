// An apply of several transactions that meets, in a later transaction, an object someone else
// marked for deletion meanwhile stops there (exit 3, "apply it again once it is gone"). Its
// message went on to promise that re-running the same apply converges, which, until the
// object is gone, is refused again, writing nothing. It now says what the re-run waits for.
import { describe, expect, it } from 'vitest';
import { xctlInProcess } from '../harness/xctl-in-process.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';

const lab = xctlInProcess('xctl-deleted-midway');
const xctl = (args: string[], endpoints?: string) => lab.xctl(args, { endpoints });

const nic = (i: number, container: string) => `apiVersion: xnet.io/v1alpha1\nkind: ContainerNic\nmetadata:\n  name: g-${i}\n` +
  `spec: {node: h1, container: ${container}-${i}, ifName: eth1, network: {clusterNetwork: cn}}\n`;
const manifest = (name: string, docs: string[]): string => lab.file(name, docs.join('---\n'));

describe('an apply that meets an object being deleted in a later transaction', () => {
  it('stops, exit 3, and says the re-run converges once that object is gone, not at once', async () => {
    // g-199 is stored, and the apply changes it: it is in the last of 4 transactions (64 NICs each)
    expect((await xctl(['apply', '-f', manifest('old.yaml', [nic(199, 'old')])])).code).toBe(0);
    const f = manifest('all.yaml', Array.from({ length: 200 }, (_, i) => nic(i, 'new')));
    // requests wait 300 ms in the proxy: once the first transaction is seen committed, someone deletes g-199 (marked: it has a finalizer)
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: lab.etcd.members[0].clientPort }, { holdMs: 300 });
    const watcher = await lab.client.watch().prefix(lab.store.keys.objects('ContainerNic') + 'g-0').create();
    watcher.once('put', () => { void lab.store.delete('ContainerNic', 'g-199'); });
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
