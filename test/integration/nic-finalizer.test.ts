// The keep-until-gone finalizer of ContainerNics (issue 10, NIC allocation cost): `xctl apply`
// creates a NIC with it, so the controller's allocation transaction does not rewrite the NIC
// and its node-index copy; a NIC stored without it (an older xctl, a raw etcd write) still gets
// it from the controller, in the transaction that gives it its address.
import { describe, it, expect } from 'vitest';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture } from './controller-helpers.js';
import { NIC_FINALIZER, API_VERSION } from '../../pkg/api/index.js';
import { Keys } from '../../pkg/store/keys.js';
import { listEvents } from '../../pkg/events/read.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix);

/** A key as etcd holds it now, or at `revision`. */
async function raw(key: string, revision?: string): Promise<{ value: Record<string, any>; mod: string } | undefined> {
  const r = await fx.etcd.client().kv.range({ key: Buffer.from(key), ...(revision ? { revision } : {}) });
  const kv = r.kvs[0];
  return kv ? { value: JSON.parse(kv.value.toString()), mod: String(kv.mod_revision) } : undefined;
}

const keys = new Keys(prefix);
const nicKey = (name: string) => keys.object('ContainerNic', name);
const copyKey = (node: string, name: string) => keys.indexed(node, nicKey(name));

async function addressOf(name: string): Promise<string> {
  return eventually(async () => statusOf(await fx.store.get('ContainerNic', name)).ip as string | undefined, `an address for ${name}`);
}

describe('ContainerNic finalizer', () => {
  it('an applied NIC carries it from its first revision; allocating it does not rewrite the NIC', async () => {
    await fx.store.applyAll([
      obj('ClusterNetwork', 'default', { cidr: '10.77.0.0/16', hostPrefix: 24 }),
      obj('Node', 'host-1', { address: '198.18.0.11' }),
    ]);
    const [change] = await fx.store.applyAll([obj('ContainerNic', 'a-eth1', { node: 'host-1', container: 'a', ifName: 'eth1', network: { clusterNetwork: 'default' } })]);
    // read at the apply's own revision: the controller may have written since
    const rev = change.object.metadata.resourceVersion!;
    const applied = await raw(nicKey('a-eth1'), rev);
    expect(applied?.value.metadata.finalizers).toEqual([NIC_FINALIZER]);
    expect((await raw(copyKey('host-1', 'a-eth1'), rev))?.value.metadata.finalizers).toEqual([NIC_FINALIZER]);
    expect(await addressOf('a-eth1')).toMatch(/^10\.77\./);
    // the same revision of the NIC and of its copy: the allocation wrote neither
    expect((await raw(nicKey('a-eth1')))?.mod).toBe(applied!.mod);
    expect((await raw(copyKey('host-1', 'a-eth1')))?.value).toEqual(applied!.value);
    // a re-apply keeps it (it belongs to the system, not to the manifest)
    await fx.store.applyAll([obj('ContainerNic', 'a-eth1', { node: 'host-1', container: 'a2', ifName: 'eth1', network: { clusterNetwork: 'default' } })]);
    expect((await raw(nicKey('a-eth1')))?.value.metadata.finalizers).toEqual([NIC_FINALIZER]);
  });

  it('a NIC written without it (raw etcd put, as an older xctl did) gets it with its address', async () => {
    const nic = {
      apiVersion: API_VERSION, kind: 'ContainerNic',
      metadata: { name: 'b-eth1', uid: 'b-uid-1', generation: 1, creationTimestamp: new Date().toISOString() },
      spec: { node: 'host-1', container: 'b', ifName: 'eth1', network: { clusterNetwork: 'default' } },
    };
    const value = JSON.stringify(nic);
    await fx.etcd.client().kv.txn({
      compare: [],
      success: [nicKey('b-eth1'), copyKey('host-1', 'b-eth1')].map((k) => ({ request_put: { key: Buffer.from(k), value: Buffer.from(value) } })),
      failure: [],
    });
    expect(await addressOf('b-eth1')).toMatch(/^10\.77\./);
    expect((await raw(nicKey('b-eth1')))?.value.metadata.finalizers).toEqual([NIC_FINALIZER]);
    expect((await raw(copyKey('host-1', 'b-eth1')))?.value.metadata.finalizers).toEqual([NIC_FINALIZER]);
    // a delete now only marks it: the agent has not reported it out of its container... nor ever
    // reported on it, so the controller lets it go at once
    await fx.store.delete('ContainerNic', 'b-eth1');
    await eventually(async () => ((await raw(nicKey('b-eth1'))) ? undefined : true), 'b-eth1 gone');
  });

  it('a report that is there but does not decode is not "taken out": the deleting NIC keeps its address until the report goes', async () => {
    const client = fx.etcd.client();
    const report = (name: string) => keys.status('ContainerNic', name, { node: 'host-1' });
    await fx.store.applyAll(['c-eth1', 'd-eth1'].map((n) => obj('ContainerNic', n, { node: 'host-1', container: n, ifName: 'eth1', network: { clusterNetwork: 'default' } })));
    const ip = await addressOf('c-eth1');
    await addressOf('d-eth1');
    const claimKey = async () => Object.entries(await client.getAll().prefix(`${prefix}/ipam/clusternetworks/default/addresses/`).strings())
      .find(([, v]) => JSON.parse(v).owner?.name === 'c-eth1')?.[0];
    expect(await claimKey()).toBeDefined();
    // both nodes' reports: c's then overwritten with bytes no agent version writes
    for (const n of ['c-eth1', 'd-eth1']) await fx.store.writeStatus('ContainerNic', n, { node: 'host-1' }, { containerId: `id-${n}` });
    await client.put(report('c-eth1')).value('{"containerId": 7, "conditions": "garbage"');
    expect(await client.get(report('c-eth1')).string()).toContain('garbage');
    // d's agent took its NIC out (its report went): d goes, and with it the round that judged c
    await fx.store.delete('ContainerNic', 'c-eth1');
    await fx.store.delete('ContainerNic', 'd-eth1');
    await client.delete().key(report('d-eth1'));
    await eventually(async () => ((await raw(nicKey('d-eth1'))) ? undefined : true), 'd-eth1 gone');
    await new Promise((r) => setTimeout(r, 500));
    expect((await raw(nicKey('c-eth1')))?.value.metadata.deletionTimestamp).toBeDefined();
    expect(await claimKey()).toBeDefined();
    // and it says why it waits (the unreadable report adds nothing to the merged view)
    expect(statusOf(await fx.store.get('ContainerNic', 'c-eth1')).conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False', reason: 'Terminating', message: 'node "host-1"\'s report of eth1 does not decode; the address is kept until that report is readable or removed',
    });
    // the unreadable report goes: now the address may go too
    await client.delete().key(report('c-eth1'));
    await eventually(async () => ((await raw(nicKey('c-eth1'))) ? undefined : true), 'c-eth1 gone once its report went');
    expect(await claimKey()).toBeUndefined();
    expect(ip).toMatch(/^10\.77\./);
  });

  it('a Node whose agent report does not decode is Ready=False ReportUnreadable, not NodeLost', async () => {
    const client = fx.etcd.client();
    const report = keys.status('Node', 'host-1', { node: 'host-1' });
    const ready = async () => statusOf(await fx.store.get('Node', 'host-1')).conditions?.find((c) => c.type === 'Ready');
    const now = new Date().toISOString();
    await fx.store.writeStatus('Node', 'host-1', { node: 'host-1' }, { lastHeartbeatTime: now, conditions: [{ type: 'Ready', status: 'True', reason: 'AgentReady', message: 'ok', lastTransitionTime: now }] });
    await eventually(async () => (await ready())?.reason === 'AgentReady' || undefined, 'the agent report shown');
    await client.put(report).value('not json at all');
    const cond = await eventually(async () => { const c = await ready(); return c?.reason === 'ReportUnreadable' ? c : undefined; }, 'ReportUnreadable');
    expect(cond.status).toBe('False');
    expect(cond.message).toContain('does not decode');
    await new Promise((r) => setTimeout(r, 500)); // an event is written after the change that caused it
    const lost = (await listEvents(client, prefix)).items.filter((e) => e.reason === 'NodeLost' && e.involvedObject.name === 'host-1');
    expect(lost).toEqual([]);
  });
});
