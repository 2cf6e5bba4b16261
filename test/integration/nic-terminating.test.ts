// A deleted ContainerNic whose node has not reported it out of its container keeps its address
// (nic-finalizer.ts); while it waits, its status says so: Ready False `Terminating`, naming the
// node, over the node's last report (Ready True from before the delete), with Allocated True
// and the address kept. The "node's report" is the agent's status key, written here by the
// test: no agent runs. xctl (in-process) reads it as a user does.
import { describe, it, expect } from 'vitest';
import { obj, eventually, statusOf, useControllerFixture } from './controller-helpers.js';
import { DEFAULT_PREFIX, Keys } from '../../pkg/store/keys.js';
import { runXctl } from '../../pkg/cli/program.js';

// xctl's own prefix, so that xctl reads what this controller writes
const fx = useControllerFixture(DEFAULT_PREFIX);
const keys = new Keys(DEFAULT_PREFIX);
const node = { node: 'host-1' };

async function xctl(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(args, {
    out: (t) => { r.out += t; }, err: (t) => { r.err += t; },
    stdin: async () => '', env: { XCTL_ENDPOINTS: fx.etcd.endpoints.join(',') },
  });
  return r;
}

/** NIC <container>-eth1 on host-1 (ClusterNetwork default, host-1 made too), once it has an address: that address. */
async function allocatedNic(container: string): Promise<string> {
  await fx.store.applyAll([
    obj('ClusterNetwork', 'default', { cidr: '10.78.0.0/16', hostPrefix: 24 }),
    obj('Node', 'host-1', { address: '198.18.0.11' }),
    obj('ContainerNic', `${container}-eth1`, { node: 'host-1', container, ifName: 'eth1', network: { clusterNetwork: 'default' } }),
  ]);
  return eventually(async () => statusOf(await fx.store.get('ContainerNic', `${container}-eth1`)).ip as string | undefined, 'an address');
}

const condition = async (name: string, type: string) => statusOf(await fx.store.get('ContainerNic', name)).conditions?.find((c) => c.type === type);
const modOf = async (key: string) => String((await fx.etcd.client().kv.range({ key: Buffer.from(key) })).kvs[0]?.mod_revision ?? 'absent');

describe('a deleting ContainerNic says why it waits', () => {
  it('shows Ready False Terminating naming its node while the node still reports it, then goes when the report goes', async () => {
    const ip = await allocatedNic('web');
    // the agent's last report before the delete: in its container, Ready
    const now = new Date().toISOString();
    await fx.store.writeStatus('ContainerNic', 'web-eth1', node, { containerId: 'id-web', conditions: [{ type: 'Ready', status: 'True' as const, reason: 'Converged', message: 'in container web', lastTransitionTime: now }] });
    await eventually(async () => (await condition('web-eth1', 'Ready'))?.status === 'True' || undefined, 'the node\'s Ready True shown');

    const deletedAt = Date.now();
    await fx.store.delete('ContainerNic', 'web-eth1');
    const ready = await eventually(async () => { const c = await condition('web-eth1', 'Ready'); return c?.reason === 'Terminating' ? c : undefined; },
      'Ready Terminating', 10_000);
    expect(ready.status).toBe('False');
    // Ready, True until the delete, turned False with it: not "False since the NIC was made"
    // (the controller's own Ready, WaitingForAgent, that the node's True was shown over)
    expect(Date.parse(ready.lastTransitionTime!)).toBeGreaterThanOrEqual(deletedAt);
    expect(ready.message).toBe('node "host-1" has not reported eth1 removed from container "web" yet');
    const st = statusOf(await fx.store.get('ContainerNic', 'web-eth1'));
    expect(st.ip).toBe(ip);
    expect(st.conditions?.find((c) => c.type === 'Allocated')?.status).toBe('True');
    // the node's report is still there, untouched
    expect(await fx.store.hasStatus('ContainerNic', 'web-eth1', node)).toBe(true);

    // what a user runs
    const get = await xctl(['get', 'containernic', 'web-eth1']);
    expect(get.code).toBe(0);
    expect(get.out).toMatch(new RegExp(`web-eth1\\s+host-1\\s+web\\s+eth1\\s+${ip.replace(/\./g, '\\.')}/24\\s+False \\(deleting\\)`));
    const d = await xctl(['describe', 'containernic', 'web-eth1']);
    expect(d.code).toBe(0);
    expect(d.out).toMatch(/Deleting: +since .*waiting for finalizers xnet\.io\/address-in-use/);
    expect(d.out).toMatch(/Ready +False +Terminating +\S+ +node "host-1" has not reported eth1 removed from container "web" yet/);

    // written once: looked at again (a label on its ClusterNetwork queues its NICs), the
    // status with the same reason and message is not written again
    const statusKey = keys.controllerStatus('ContainerNic', 'web-eth1', 'host-1')!;
    const mod = await modOf(statusKey);
    await fx.store.applyAll([obj('ClusterNetwork', 'default', { cidr: '10.78.0.0/16', hostPrefix: 24 }, { touched: 'yes' })]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await modOf(statusKey)).toBe(mod);

    // the node reports it out of its container: the NIC and its address go
    await fx.store.deleteStatus('ContainerNic', 'web-eth1', node);
    await eventually(async () => (await fx.store.get('ContainerNic', 'web-eth1')) === undefined || undefined, 'web-eth1 gone once its report went', 10_000);
    const claims = await fx.etcd.client().getAll().prefix(`${DEFAULT_PREFIX}/ipam/clusternetworks/default/addresses/`).strings();
    expect(Object.values(claims).filter((v) => JSON.parse(v).owner?.name === 'web-eth1')).toEqual([]);
  });

  it('rewrites its message when its node\'s report turns unreadable, and again when it is readable', async () => {
    await allocatedNic('rr');
    const report = { containerId: 'id-rr', conditions: [{ type: 'Ready', status: 'True' as const, reason: 'Converged', message: 'in container rr', lastTransitionTime: new Date().toISOString() }] };
    await fx.store.writeStatus('ContainerNic', 'rr-eth1', node, report);
    await eventually(async () => (await condition('rr-eth1', 'Ready'))?.status === 'True' || undefined, 'the node\'s Ready True shown');
    await fx.store.delete('ContainerNic', 'rr-eth1');
    const notYet = 'node "host-1" has not reported eth1 removed from container "rr" yet';
    const unreadable = 'node "host-1"\'s report of eth1 does not decode; the address is kept until that report is readable or removed';
    const message = async () => (await condition('rr-eth1', 'Ready'))?.message;
    await eventually(async () => (await message()) === notYet || undefined, 'Terminating: not reported yet', 10_000);

    // the report turns unreadable (bytes no agent writes): the message says so, well before a resync
    const client = fx.etcd.client();
    const reportKey = keys.status('ContainerNic', 'rr-eth1', node);
    await client.put(reportKey).value('{"containerId": 7, "conditions": "garbage"');
    expect(await client.get(reportKey).string()).toContain('garbage');
    await eventually(async () => (await message()) === unreadable || undefined, 'Terminating: the report does not decode', 10_000);

    // readable again (the agent wrote it anew): back to "not reported yet"
    await fx.store.writeStatus('ContainerNic', 'rr-eth1', node, report);
    expect(await client.get(reportKey).string()).not.toContain('garbage');
    await eventually(async () => (await message()) === notYet || undefined, 'Terminating: not reported yet, once the report decodes again', 10_000);
    // still held: the report is there
    expect((await fx.store.get('ContainerNic', 'rr-eth1'))?.metadata.deletionTimestamp).toBeDefined();
  });

  it('describe shows the node\'s own Ready of a deleting NIC, which Terminating hides in the merged view', async () => {
    await allocatedNic('nd');
    const why = 'removing eth1 from container nd: its network namespace is gone';
    await fx.store.writeStatus('ContainerNic', 'nd-eth1', node, { containerId: 'id-nd', conditions: [{ type: 'Ready', status: 'False', reason: 'Failed', message: why, lastTransitionTime: new Date().toISOString() }] });
    await eventually(async () => (await condition('nd-eth1', 'Ready'))?.reason === 'Failed' || undefined, 'the node\'s Ready False shown');
    const failedSince = (await condition('nd-eth1', 'Ready'))!.lastTransitionTime;
    await fx.store.delete('ContainerNic', 'nd-eth1');
    const ready = await eventually(async () => { const c = await condition('nd-eth1', 'Ready'); return c?.reason === 'Terminating' ? c : undefined; }, 'Ready Terminating', 10_000);
    // False before the delete (the node's Failed) and after it: no transition, the time stays the node's
    expect(ready.lastTransitionTime).toBe(failedSince);

    const d = await xctl(['describe', 'containernic', 'nd-eth1']);
    expect(d.code).toBe(0);
    expect(d.out).toMatch(/\n +Ready +False +Terminating +\S+ +node "host-1" has not reported eth1 removed from container "nd" yet\n/);
    // the node's own, in its own row, named by its node
    expect(d.out).toMatch(/\n +Ready \(node host-1\) +False +Failed +\S+ +removing eth1 from container nd: its network namespace is gone\n/);
    // the merged view (get -o yaml, the API) is unchanged: one Ready, the controller's
    const y = await xctl(['get', 'containernic', 'nd-eth1', '-o', 'json']);
    expect(JSON.parse(y.out).status.conditions.filter((c: { type: string }) => c.type === 'Ready')).toMatchObject([{ reason: 'Terminating' }]);
  });

  it('a NIC whose address went but that waits for another program\'s finalizer says so, from the transaction that released it', async () => {
    await fx.store.applyAll([obj('ClusterNetwork', 'default', { cidr: '10.78.0.0/16', hostPrefix: 24 }), obj('Node', 'host-1', { address: '198.18.0.11' })]);
    const nicObj = obj('ContainerNic', 'bk-eth1', { node: 'host-1', container: 'bk', ifName: 'eth1', network: { clusterNetwork: 'default' } });
    await fx.store.create({ ...nicObj, metadata: { ...nicObj.metadata, finalizers: ['xnet.io/address-in-use', 'example.com/backup'] } });
    await eventually(async () => statusOf(await fx.store.get('ContainerNic', 'bk-eth1')).ip || undefined, 'an address');
    await fx.store.delete('ContainerNic', 'bk-eth1');
    // no agent ever reported on it: the address goes, and only xnet's finalizer with it
    await eventually(async () => (await fx.store.get('ContainerNic', 'bk-eth1'))?.metadata.finalizers?.join() === 'example.com/backup' || undefined, 'own finalizer off', 10_000);
    // from the very transaction that took xnet's finalizer off (nothing queues the NIC after it)
    const released = (await fx.etcd.client().kv.range({ key: Buffer.from(keys.object('ContainerNic', 'bk-eth1')) })).kvs[0].mod_revision;
    const atRelease = (await fx.etcd.client().kv.range({ key: Buffer.from(keys.controllerStatus('ContainerNic', 'bk-eth1', 'host-1')!), revision: released })).kvs[0];
    expect(atRelease && JSON.parse(atRelease.value.toString()).conditions).toMatchObject([{ type: 'Ready', reason: 'Terminating', message: 'waiting for finalizers example.com/backup' }]);
    const ready = await eventually(async () => { const c = await condition('bk-eth1', 'Ready'); return c?.reason === 'Terminating' ? c : undefined; },
      'Ready Terminating while the other finalizer stays', 5_000);
    expect(ready).toMatchObject({ status: 'False', message: 'waiting for finalizers example.com/backup' });
    const get = await xctl(['get', 'containernic', 'bk-eth1']);
    expect(get.out).toMatch(/bk-eth1\s+host-1\s+bk\s+eth1\s+\S+\s+False \(deleting\)/);
  });
});
