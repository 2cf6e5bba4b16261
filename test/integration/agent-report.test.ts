// The agent's status reports (issue 10): a report is written only when it differs from what
// this node last wrote, in this process or, after a restart, as etcd holds it (the node's own
// status subtree is in its view). 10,000 NICs must not cost 10,000 rewrites per agent restart.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/index.js';
import { NodeStatusReporter, notReady } from '../../pkg/agent/context.js';
import type { NodeWatch } from '../../pkg/store/types.js';
import type { ContainerNic, Kind } from '../../pkg/api/index.js';
import { obj, eventually } from './helpers.js';

let etcd: TestEtcd;
let store: EtcdStore;
let view: NodeWatch;
const prefix = `/ar${Math.random().toString(36).slice(2, 8)}`;
beforeAll(async () => {
  etcd = await startEtcd();
  store = createEtcdStore(etcd.client(), prefix);
  view = store.nodeView('host-1');
  await view.start();
});
// etcd is stopped also when closing the view throws
afterAll(async () => { try { await view?.close(); } finally { await etcd?.stop(); } });

/** How many times the report key was written (etcd's version of the key). */
async function writes(name: string): Promise<number> {
  const r = await etcd.client().kv.range({ key: Buffer.from(store.keys.status('ContainerNic', name, { node: 'host-1' })) });
  return Number(r.kvs[0]?.version ?? 0);
}

const viewed = async (name: string) => (await view.list('ContainerNic')).items.find((n) => n.metadata.name === name) as ContainerNic | undefined;

/** A NIC of host-1 applied and seen in the view, and a fresh reporter reading the view's own status keys. */
async function nicAndReporter(name: string): Promise<{ nic: ContainerNic; rep: NodeStatusReporter }> {
  await store.applyAll([obj('ContainerNic', name, { node: 'host-1', container: name.split('-')[0], ifName: 'eth1', network: { clusterNetwork: 'default' } })]);
  const nic = await eventually(() => viewed(name), 'the NIC in the view');
  return { nic, rep: new NodeStatusReporter(store, 'host-1', undefined, (kind, n) => view.ownStatus?.(kind, n)) };
}

describe('NodeStatusReporter', () => {
  it('writes an unchanged report once, also across a restart; a changed one is written', async () => {
    await store.applyAll([obj('ContainerNic', 'r-eth1', { node: 'host-1', container: 'r', ifName: 'eth1', network: { clusterNetwork: 'default' } })]);
    const stored = (kind: Kind, name: string) => view.ownStatus?.(kind, name);
    const first = new NodeStatusReporter(store, 'host-1', undefined, stored);
    const nic = await eventually(() => viewed('r-eth1'), 'the NIC in the view');
    const missing = notReady('ContainerNotFound', 'no container "r" on node host-1');
    await first.write('ContainerNic', nic, {}, missing);
    await first.write('ContainerNic', nic, {}, missing);
    expect(await writes('r-eth1')).toBe(1);
    // the agent starts again: its view holds the report (and the merged NIC its Ready condition)
    const again = await eventually(async () => { const n = await viewed('r-eth1'); return n?.status ? n : undefined; }, 'the report in the view');
    const restarted = new NodeStatusReporter(store, 'host-1', undefined, stored);
    await restarted.write('ContainerNic', again, {}, missing);
    expect(await writes('r-eth1')).toBe(1);
    expect(await restarted.reported('ContainerNic', again)).toBe(true);
    await restarted.write('ContainerNic', again, { containerId: 'abc' }, notReady('ContainerNotRunning', 'container r is not running'));
    expect(await writes('r-eth1')).toBe(2);
  });

  it('writes a report again after someone else deleted it; its own writes coming back late change nothing', async () => {
    const { nic, rep } = await nicAndReporter('g-eth1');
    const attaching = notReady('Attaching', 'putting eth1 into container g');
    await rep.write('ContainerNic', nic, {}, attaching);
    const first = view.ownStatus ? await eventually(async () => view.ownStatus!('ContainerNic', 'g-eth1'), 'the first report in the view') : undefined;
    await rep.write('ContainerNic', nic, { containerId: 'c1' }, notReady('ContainerNotRunning', 'container g is not running'));
    expect(await writes('g-eth1')).toBe(2);
    // the first write's event arriving after the second: our own, nothing to do
    expect(rep.forgetIfChanged('ContainerNic', 'g-eth1', first)).toBe(false);
    expect(rep.forgetIfChanged('ContainerNic', 'g-eth1', '{"conditions":[]}')).toBe(true);
    // deleted (as by hand): the same report is written again by the next reconcile
    await etcd.client().delete().key(store.keys.status('ContainerNic', 'g-eth1', { node: 'host-1' }));
    await eventually(async () => view.ownStatus?.('ContainerNic', 'g-eth1') === undefined, 'the report gone from the view');
    expect(rep.forgetIfChanged('ContainerNic', 'g-eth1', undefined)).toBe(false);
    await rep.write('ContainerNic', nic, { containerId: 'c1' }, notReady('ContainerNotRunning', 'container g is not running'));
    expect(await writes('g-eth1')).toBe(1);
  });

  it('takes the delete of a report written once for someone else\'s change', async () => {
    const { nic, rep } = await nicAndReporter('h-eth1');
    await rep.write('ContainerNic', nic, {}, notReady('ContainerNotFound', 'no container "h" on node host-1'));
    expect(rep.forgetIfChanged('ContainerNic', 'h-eth1', undefined)).toBe(true);
  });
});
