// A ContainerNic's static spec.ip stored before the controller runs wins over the addresses the
// controller picks for itself: a MacvlanNet node's pre-claimed addresses for its Docker IPAM
// plugin and its host shim skip it, and so do other NICs' picks on a ClusterNetwork. Found by a
// review of xctl's input handling: `xctl apply` accepted mn1 (nothing claimed .130 yet), then
// the starting controller pre-claimed .129-.136 for host-1 and mn1 ended IPConflict naming
// MacvlanNet "mv200" on node "host-1".
// Real etcd; everything is stored while no controller runs, then an in-process one starts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import type { Controller } from '../../pkg/controller/controller.js';
import type { EtcdStore } from '../../pkg/store/index.js';
import { IpamKeys, type Claim, type PoolType } from '../../pkg/ipam/keys.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import { beat, obj, eventually, startController, storeFor, uniquePrefix, statusOf, type Status } from './controller-helpers.js';

let etcd: TestEtcd;
let store: EtcdStore;
const controllers: Controller[] = [];
beforeAll(async () => { etcd = await startEtcd(); });
// etcd is stopped also when stopping a controller throws
afterAll(async () => { try { await Promise.all(controllers.map((c) => c.stop())); } finally { await etcd?.stop(); } });

/**
 * Stores `objects` under a fresh prefix with no controller running, and the reports about
 * themselves of the `beating` nodes' agents (a node whose agent never reported gets no
 * pre-claimed addresses), then starts one.
 */
async function storedThenStarted(objects: ReturnType<typeof obj>[], beating: string[] = []): Promise<string> {
  const prefix = uniquePrefix();
  store = storeFor(etcd.client(), prefix);
  await store.applyAll(objects);
  for (const node of beating) await beat(store, node);
  controllers.push(await startController(etcd.client(), prefix));
  return prefix;
}

const claimAt = async (prefix: string, type: PoolType, pool: string, ip: string) =>
  (await etcd.client().get(new IpamKeys(prefix).claim(type, pool, 'addresses', parseIPv4(ip))).json()) as Claim | null;
/** The NIC's status once Allocated=True, or after 10 s whatever it is then (a refusal, say IPConflict). */
async function allocated(name: string): Promise<{ s: Status; a?: { status: string; reason?: string; message?: string } }> {
  const now = async () => {
    const s = statusOf(await store.get('ContainerNic', name));
    return { s, a: s.conditions?.find((c) => c.type === 'Allocated') };
  };
  await eventually(async () => (await now()).a?.status === 'True', `${name} allocated`, 10_000).catch(() => undefined);
  return now();
}

type Part = { name: string; shimAddress?: string; addresses?: string[] };

describe('a ContainerNic whose pinned ip was stored before the controller started', () => {
  it('keeps its MacvlanNet address: the node\'s pre-claimed addresses and shim skip it', async () => {
    const prefix = await storedThenStarted([
      obj('MacvlanNet', 'mv200', { subnet: '192.168.200.0/24', ipRange: '192.168.200.128/25' }),
      obj('Node', 'host-1', { interface: 'eth0' }),
      // .128 is where the shim goes (the lowest free address), .130 a pre-claimed one (.129-.136)
      obj('ContainerNic', 'mn0', { node: 'host-1', container: 'c0', ifName: 'eth1', network: { macvlanNet: 'mv200' }, ip: '192.168.200.128' }),
      obj('ContainerNic', 'mn1', { node: 'host-1', container: 'c1', ifName: 'eth1', network: { macvlanNet: 'mv200' }, ip: '192.168.200.130' }),
    ], ['host-1']);
    const part = await eventually(async () => {
      const p = ((statusOf(await store.get('MacvlanNet', 'mv200')).nodes as Part[] | undefined) ?? []).find((n) => n.name === 'host-1');
      return p?.shimAddress && p.addresses?.length ? p : undefined;
    }, 'host-1 has its shim and pre-claimed addresses');
    for (const [name, ip] of [['mn0', '192.168.200.128'], ['mn1', '192.168.200.130']]) {
      const { s, a } = await allocated(name);
      // the message is in the diff when it fails: IPConflict names the holder
      expect({ name, ip: s.ip, allocated: a?.status, message: a?.message }).toEqual({ name, ip, allocated: 'True', message: `${ip}/24 allocated` });
      expect(await claimAt(prefix, 'macvlannets', 'mv200', ip)).toMatchObject({ owner: { kind: 'ContainerNic', name }, role: 'nic', ip });
    }
    expect(part.shimAddress).toBe('192.168.200.129');
    expect(part.addresses).toEqual(['192.168.200.131', '192.168.200.132', '192.168.200.133', '192.168.200.134', '192.168.200.135', '192.168.200.136', '192.168.200.137', '192.168.200.138']);
  });

  it('keeps its ClusterNetwork address: NICs picking an address in the same HostSubnet skip it', async () => {
    // the dynamic NICs sort first; next fit hands out .2, .3, ... in the order they are planned
    const dynamic = ['a1', 'a2', 'a3', 'a4'].map((n) => obj('ContainerNic', n, { node: 'cn-1', container: n, ifName: 'eth1', network: { clusterNetwork: 'cn' } }));
    const prefix = await storedThenStarted([
      obj('ClusterNetwork', 'cn', { cidr: '10.91.0.0/16', hostPrefix: 24 }),
      obj('Node', 'cn-1', { interface: 'eth0' }),
      ...dynamic,
      obj('ContainerNic', 'z-pinned', { node: 'cn-1', container: 'z', ifName: 'eth1', network: { clusterNetwork: 'cn' }, ip: '10.91.0.3' }),
    ]);
    const { s, a } = await allocated('z-pinned');
    expect({ ip: s.ip, allocated: a?.status, message: a?.message }).toEqual({ ip: '10.91.0.3', allocated: 'True', message: '10.91.0.3/24 allocated' });
    expect(await claimAt(prefix, 'clusternetworks', 'cn', '10.91.0.3')).toMatchObject({ owner: { kind: 'ContainerNic', name: 'z-pinned' }, role: 'nic' });
    const others: Status[] = [];
    for (const n of ['a1', 'a2', 'a3', 'a4']) others.push((await allocated(n)).s);
    expect(others.map((o) => o.ip).sort()).toEqual(['10.91.0.2', '10.91.0.4', '10.91.0.5', '10.91.0.6']);
  });
});
