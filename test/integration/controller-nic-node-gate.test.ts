// A ContainerNic whose spec.node names no Node (a typo: host1 for host-1, or the Node not applied
// yet). Before, one on a MacvlanNet took an address from the pool and held it, and only a Warning
// NodeNotFound 15 s later said something was wrong; one on a ClusterNetwork did the same through
// a HostSubnet written by hand for that node. Now it waits without an address, Allocated False
// NodeNotFound (with the closest Node named), and gets one within seconds once the Node is
// applied. A NIC that holds an address when its Node is deleted keeps it. Real etcd, in-process
// controller (controller/nic-node-gate.ts).
import { describe, expect, it } from 'vitest';
import { getCondition, type AnyObject } from '../../pkg/api/index.js';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture } from './controller-helpers.js';

const prefix = uniquePrefix();
const f = useControllerFixture(prefix, { addressCooldownMs: 0 });

type Cond = { status?: string; reason?: string; message?: string };
const cond = (o: AnyObject | undefined, type: string) => getCondition(statusOf(o).conditions as never, type) as Cond | undefined;
const nicNow = (name: string) => f.store.get('ContainerNic', name);
const allocated = async (name: string) => cond(await nicNow(name), 'Allocated');
/** The ContainerNic claims (owner names) in etcd under a pool's addresses. */
async function claimOwners(pool: string): Promise<string[]> {
  const kvs = await f.etcd.client().getAll().prefix(`${prefix}/ipam/${pool}/addresses/`).strings();
  return Object.values(kvs).map((v) => (JSON.parse(v) as { owner: { kind: string; name: string } }).owner).filter((o) => o.kind === 'ContainerNic').map((o) => o.name);
}
const waitAllocatedFalse = (name: string, what: string) =>
  eventually(async () => { const c = await allocated(name); return c?.status === 'False' ? c : undefined; }, what, 10_000);
const waitIp = (name: string, what: string) =>
  eventually(async () => { const o = await nicNow(name); return cond(o, 'Allocated')?.status === 'True' && statusOf(o).ip ? String(statusOf(o).ip) : undefined; }, what, 10_000);

describe('a ContainerNic whose spec.node names no Node', () => {
  it('on a MacvlanNet waits without an address (NodeNotFound, did you mean), and gets one once the Node is applied', async () => {
    await f.store.applyAll([
      obj('MacvlanNet', 'mv', { subnet: '192.168.201.0/24' }),
      obj('Node', 'host-1', { address: '198.18.0.11' }),
      obj('ContainerNic', 'typo', { node: 'host1', container: 'web', ifName: 'eth1', network: { macvlanNet: 'mv' } }),
    ]);
    const c = await waitAllocatedFalse('typo', 'typo refused an address');
    expect(c).toMatchObject({ reason: 'NodeNotFound' });
    expect(c?.message).toBe('no Node "host1" exists (did you mean "host-1"?): check spec.node; the NIC gets an address once a Node of that name exists');
    expect(cond(await nicNow('typo'), 'Ready')).toMatchObject({ status: 'False', reason: 'NodeNotFound' });
    expect(statusOf(await nicNow('typo')).ip, 'no address in its status').toBeUndefined();
    expect(await claimOwners('macvlannets/mv'), 'no claim in the pool').not.toContain('typo');

    await f.store.applyAll([obj('Node', 'host1', { address: '198.18.0.21' })]);
    const ip = await waitIp('typo', 'typo gets an address once Node host1 exists');
    expect(ip).toMatch(/^192\.168\.201\./);
    expect(await claimOwners('macvlannets/mv')).toContain('typo');
  });

  it('on a ClusterNetwork with a HostSubnet written by hand for that node waits too, until the Node is applied', async () => {
    await f.store.applyAll([
      obj('ClusterNetwork', 'cn', { cidr: '10.77.0.0/16', hostPrefix: 24 }),
      obj('HostSubnet', 'by-hand', { node: 'host-2', clusterNetwork: 'cn', subnet: '10.77.200.0/24' }),
      obj('ContainerNic', 'early', { node: 'host-2', container: 'web', ifName: 'eth1', network: { clusterNetwork: 'cn' } }),
    ]);
    // the HostSubnet is allocated all the same (its node may join later): the NIC is what waits
    await eventually(async () => statusOf(await f.store.get('HostSubnet', 'by-hand')).subnet === '10.77.200.0/24' || undefined, 'by-hand allocated', 10_000);
    // until the HostSubnet's allocation reaches the NIC it may still say WaitingForHostSubnet
    // (said first: nics.ts planNic); what it then waits for is its Node
    const c = await eventually(async () => { const a = await allocated('early'); return a?.status === 'False' && a.reason === 'NodeNotFound' ? a : undefined; }, 'early refused an address for want of its Node', 10_000);
    expect(c?.message).toMatch(/^no Node "host-2" exists .*: check spec\.node; the NIC gets an address once a Node of that name exists$/);
    expect(await claimOwners('clusternetworks/cn')).not.toContain('early');

    await f.store.applyAll([obj('Node', 'host-2', { address: '198.18.0.12' })]);
    expect(await waitIp('early', 'early gets an address once Node host-2 exists')).toMatch(/^10\.77\.200\./);
  });

  it('that holds an address when its Node is deleted keeps it', async () => {
    await f.store.applyAll([
      obj('Node', 'host-3', { address: '198.18.0.13' }),
      obj('ContainerNic', 'kept', { node: 'host-3', container: 'web', ifName: 'eth1', network: { macvlanNet: 'mv' } }),
    ]);
    const ip = await waitIp('kept', 'kept gets an address');
    expect(await f.store.delete('Node', 'host-3')).toBe(true);
    // the Node's delete queues the NIC: its message then says the Node is missing
    const ready = await eventually(async () => { const r = cond(await nicNow('kept'), 'Ready'); return /no Node "host-3" exists/.test(r?.message ?? '') ? r : undefined; }, 'kept told host-3 is gone', 10_000);
    expect(ready).toMatchObject({ reason: 'WaitingForAgent' });
    expect(statusOf(await nicNow('kept')).ip).toBe(ip);
    expect(await claimOwners('macvlannets/mv')).toContain('kept');
  });
});
