// A ContainerNic applied on a node whose HostSubnet is being deleted (xctl delete marked it; a
// finalizer of another program holds it Terminating). Before, it took an address in the block
// on its way out; now it waits, its Allocated condition saying that the node's HostSubnet is
// being deleted, and gets an address once a HostSubnet of the node exists again. A NIC holding
// an address there before the delete keeps it meanwhile. Real etcd, in-process controller
// (controller/hostsubnet-deleting-nics.ts); the store's delete is the one `xctl delete` runs.
import { describe, expect, it } from 'vitest';
import { HS_FINALIZER, getCondition, type AnyObject, type HostSubnet } from '../../pkg/api/index.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture } from './controller-helpers.js';

const prefix = uniquePrefix();
const f = useControllerFixture(prefix, { addressCooldownMs: 0 });

type Cond = { status?: string; reason?: string; message?: string };
const cond = (o: AnyObject | undefined, type: string) => getCondition(statusOf(o).conditions as never, type) as Cond | undefined;
const nicNow = (name: string) => f.store.get('ContainerNic', name);
const getHs = async (name: string) => (await f.store.get('HostSubnet', name)) as HostSubnet | undefined;
const waitIp = (name: string, what: string) =>
  eventually(async () => { const o = await nicNow(name); return cond(o, 'Allocated')?.status === 'True' && statusOf(o).ip ? String(statusOf(o).ip) : undefined; }, what, 10_000);
const nicOn = (name: string) => obj('ContainerNic', name, { node: 'host-1', container: name, ifName: 'eth1', network: { clusterNetwork: 'apps' } });

describe('a ContainerNic applied while its node\'s HostSubnet is being deleted', () => {
  it('waits, saying the HostSubnet is being deleted, and gets an address once the node has one again', async () => {
    await f.store.applyAll([
      obj('ClusterNetwork', 'apps', { cidr: '10.81.0.0/21', hostPrefix: 24 }),
      obj('Node', 'host-1', { address: '198.18.0.11' }),
      nicOn('before'),
    ]);
    const held = await waitIp('before', 'before gets an address');
    const hs = await eventually(async () => { const h = await getHs('apps-host-1'); return h?.metadata.finalizers?.includes(HS_FINALIZER) ? h : undefined; }, 'apps-host-1 made', 10_000);
    await f.store.update({ ...hs, metadata: { ...hs.metadata, finalizers: [HS_FINALIZER, 'example.com/hold'] } });
    expect(await f.store.delete('HostSubnet', 'apps-host-1')).toBe(true);
    const marked = await eventually(async () => { const h = await getHs('apps-host-1'); return cond(h, 'Ready')?.reason === 'Terminating' ? h : undefined; }, 'apps-host-1 Terminating', 10_000);
    expect(marked.metadata.deletionTimestamp).toBeTruthy();

    await f.store.applyAll([nicOn('after')]);
    const waiting = await eventually(async () => { const c = cond(await nicNow('after'), 'Allocated'); return c?.status ? c : undefined; }, 'after planned', 10_000);
    expect(waiting).toMatchObject({ status: 'False', reason: 'WaitingForHostSubnet' });
    expect(waiting.message).toBe('HostSubnet "apps-host-1" of node "host-1" on ClusterNetwork "apps" is being deleted (Terminating): no new address is given in its block; the NIC gets one once a HostSubnet of the node exists again');
    expect(statusOf(await nicNow('after')).ip).toBeUndefined();
    // the NIC there before keeps its address while the HostSubnet is Terminating
    expect(statusOf(await nicNow('before')).ip).toBe(held);
    expect(await getHs('apps-host-1'), 'still held by the other finalizer').toBeDefined();

    await f.store.update({ ...marked, metadata: { ...marked.metadata, finalizers: [HS_FINALIZER] } });
    const again = await eventually(async () => { const h = await getHs('apps-host-1'); return h?.status?.subnet && h.metadata.uid !== hs.metadata.uid ? h : undefined; }, 'apps-host-1 made again', 10_000);
    const ip = await waitIp('after', 'after gets an address in the HostSubnet made again');
    expect(statusOf(await nicNow('after')).hostSubnet).toBe('apps-host-1');
    expect(ip.startsWith(String(again.status!.subnet).split('.').slice(0, 3).join('.') + '.')).toBe(true);
    const r = await ipamCheck(f.etcd.client(), prefix);
    expect(r.problems, r.text).toBe(0);
  });
});
