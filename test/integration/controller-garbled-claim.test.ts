// An IPAM claim in etcd whose value does not decode (an admin's raw write, a damaged restore):
// nobody can tell whose it is, yet the key holds its address or block. Before, the allocators
// took such an address or block for free: its create-if-absent compare failed every time, and
// with it every NIC or HostSubnet batched in the same transaction, for good (no NIC of the pool
// got an address). Now none hands it out, and what is batched around it goes ahead.
import { describe, expect, it } from 'vitest';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { getCondition } from '../../pkg/api/index.js';
import { beat, obj, eventually, statusOf, uniquePrefix, useControllerFixture } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix, { addressCooldownMs: 0 });
const ipam = new IpamKeys(prefix);
const garble = async (key: string) => { await fx.etcd.client().put(key).value('not json {'); };
const ipOf = async (name: string) => statusOf(await fx.store.get('ContainerNic', name)).ip as string | undefined;
const nicsOn = (names: string[], network: object) => names.map((n) => obj('ContainerNic', n, { node: 'host-1', container: n, ifName: 'eth1', network }));
/** every NIC's address, once all have one */
const allAddressed = (names: string[]) => eventually(async () => {
  const got = await Promise.all(names.map(ipOf));
  return got.every(Boolean) ? got as string[] : undefined;
}, 'every NIC with an address', 15_000);

describe('an address claim that does not decode', () => {
  it('keeps its address from every NIC, and the NICs batched with it get theirs', async () => {
    await fx.store.applyAll([
      obj('ClusterNetwork', 'apps', { cidr: '10.81.0.0/16', hostPrefix: 24 }),
      obj('Node', 'host-1', { address: '198.18.0.11' }),
    ]);
    const hs = await eventually(async () => { const h = await fx.store.get('HostSubnet', 'apps-host-1'); return statusOf(h).subnet ? h : undefined; }, 'a HostSubnet', 10_000);
    const base = parseIPv4(String(statusOf(hs).subnet).split('/')[0]);
    // garbage over the low addresses of the subnet, where the allocator looks first
    const garbled = Array.from({ length: 8 }, (_, i) => base + 2 + i);
    for (const ip of garbled) await garble(ipam.claim('clusternetworks', 'apps', 'addresses', ip));
    const names = Array.from({ length: 6 }, (_, i) => `n${i}`);
    await fx.store.applyAll(nicsOn(names, { clusterNetwork: 'apps' }));
    const ips = await allAddressed(names);
    expect(new Set(ips).size).toBe(names.length);
    for (const ip of ips) expect(garbled, `${ip} is a garbled claim's address`).not.toContain(parseIPv4(ip));
    // the garbage is still there, and ipam check names it
    for (const ip of garbled) expect(await fx.etcd.client().get(ipam.claim('clusternetworks', 'apps', 'addresses', ip)).string()).toBe('not json {');
    const report = await ipamCheck(fx.etcd.client(), prefix);
    expect(report.problems).toBeGreaterThan(0);
  });

  it('on a MacvlanNet: keeps its address from picks, and tells a NIC whose spec.ip it is why it waits', async () => {
    // garbled before the MacvlanNet comes: garbled after, one could be host-1's shim already
    // (its round runs at once), which the controller then writes back over the garbage
    const garbled = Array.from({ length: 8 }, (_, i) => parseIPv4(`192.168.210.${2 + i}`));
    for (const ip of garbled) await garble(ipam.claim('macvlannets', 'lan', 'addresses', ip));
    await fx.store.applyAll([obj('MacvlanNet', 'lan', { subnet: '192.168.210.0/24' })]);
    const names = ['m0', 'm1', 'm2'];
    await fx.store.applyAll([...nicsOn(names, { macvlanNet: 'lan' }), obj('ContainerNic', 'pinned', { node: 'host-1', container: 'p', ifName: 'eth1', ip: '192.168.210.5', network: { macvlanNet: 'lan' } })]);
    const ips = await allAddressed(names);
    expect(new Set(ips).size).toBe(names.length);
    for (const ip of ips) expect(garbled, `${ip} is a garbled claim's address`).not.toContain(parseIPv4(ip));
    const allocated = await eventually(async () => getCondition(statusOf(await fx.store.get('ContainerNic', 'pinned')).conditions as never, 'Allocated') as { status?: string; reason?: string; message?: string } | undefined, 'the pinned NIC\'s Allocated condition', 15_000);
    expect(allocated).toMatchObject({ status: 'False', reason: 'IPConflict' });
    expect(allocated?.message).toMatch(/ip 192\.168\.210\.5 is held by a claim whose value does not decode \(the claim of 192\.168\.210\.5; xctl ipam check names it\)/);
  });

  it('of a block: no HostSubnet is given it, and the others are allocated', async () => {
    // four /24 blocks, two of them garbled: host-1 and host-2 take the other two
    await garble(ipam.claim('clusternetworks', 'four', 'blocks', parseIPv4('10.82.0.0')));
    await garble(ipam.claim('clusternetworks', 'four', 'blocks', parseIPv4('10.82.1.0')));
    await fx.store.applyAll([obj('Node', 'host-2', { address: '198.18.0.12' }), obj('ClusterNetwork', 'four', { cidr: '10.82.0.0/22', hostPrefix: 24 })]);
    const subnets = await eventually(async () => {
      const got = await Promise.all(['four-host-1', 'four-host-2'].map(async (n) => statusOf(await fx.store.get('HostSubnet', n)).subnet as string | undefined));
      return got.every(Boolean) ? got as string[] : undefined;
    }, 'both HostSubnets allocated', 15_000);
    expect(subnets.sort()).toEqual(['10.82.2.0/24', '10.82.3.0/24']);
  });

  it('on a MacvlanNet whose nodes\' IPAM plugins get addresses at hand: none of those is one', async () => {
    const garbled = Array.from({ length: 12 }, (_, i) => parseIPv4(`192.168.211.${2 + i}`));
    for (const ip of garbled) await garble(ipam.claim('macvlannets', 'xn', 'addresses', ip));
    // the nodes' agents run: a node whose agent never reported gets no pre-claimed addresses
    for (const n of ['host-1', 'host-2']) await beat(fx.store, n);
    await fx.store.applyAll([obj('MacvlanNet', 'xn', { subnet: '192.168.211.0/24', dockerIPAM: 'xnet', hostShim: true })]);
    const nodes = await eventually(async () => {
      const st = statusOf(await fx.store.get('MacvlanNet', 'xn')) as { nodes?: Array<{ name: string; addresses?: string[]; shimAddress?: string }> };
      return st.nodes?.length === 2 && st.nodes.every((n) => n.addresses?.length) ? st.nodes : undefined;
    }, 'addresses at hand for both nodes', 15_000);
    const handed = nodes.flatMap((n) => [...n.addresses ?? [], ...(n.shimAddress ? [n.shimAddress] : [])]);
    expect(handed.length).toBeGreaterThan(2);
    for (const ip of handed) expect(garbled, `${ip} is a garbled claim's address`).not.toContain(parseIPv4(ip));
  });

  it('of a MacvlanNet\'s Docker block: no node\'s Docker is given it', async () => {
    const bases = [240, 224, 208, 192, 176].map((b) => parseIPv4(`192.168.212.${b}`));
    for (const b of bases) await garble(ipam.claim('macvlannets', 'blk', 'blocks', b));
    await fx.store.applyAll([obj('MacvlanNet', 'blk', { subnet: '192.168.212.0/24', dockerIPAM: 'blocks', blockPrefix: 28 })]);
    const ranges = await eventually(async () => {
      const st = statusOf(await fx.store.get('MacvlanNet', 'blk')) as { nodes?: Array<{ dockerRange?: string }> };
      return st.nodes?.length === 2 && st.nodes.every((n) => n.dockerRange) ? st.nodes.map((n) => n.dockerRange!) : undefined;
    }, 'a Docker block for both nodes', 15_000);
    for (const r of ranges) expect(bases, `${r} is a garbled block`).not.toContain(parseIPv4(r.split('/')[0]));
  });

  it('of a MacvlanNet\'s lowest Docker block: NICs, shims and blocks keep out of the whole block', async () => {
    // every address claim puts its block's key as absent: one base garbled holds its 16 addresses
    await garble(ipam.claim('macvlannets', 'low', 'blocks', parseIPv4('192.168.215.0')));
    await fx.store.applyAll([obj('MacvlanNet', 'low', { subnet: '192.168.215.0/24', dockerIPAM: 'blocks', blockPrefix: 28, hostShim: true })]);
    const names = ['l0', 'l1', 'l2'];
    await fx.store.applyAll(nicsOn(names, { macvlanNet: 'low' }));
    const ips = await allAddressed(names);
    const inLowBlock = (ip: string) => parseIPv4(ip) < parseIPv4('192.168.215.16');
    for (const ip of ips) expect(inLowBlock(ip), ip).toBe(false);
    const nodes = await eventually(async () => {
      const st = statusOf(await fx.store.get('MacvlanNet', 'low')) as { nodes?: Array<{ dockerRange?: string; shimAddress?: string }> };
      return st.nodes?.length === 2 && st.nodes.every((n) => n.dockerRange && n.shimAddress) ? st.nodes : undefined;
    }, 'blocks and shims for both nodes', 15_000);
    for (const n of nodes) { expect(n.dockerRange).not.toBe('192.168.215.0/28'); expect(inLowBlock(n.shimAddress!), n.shimAddress).toBe(false); }
  });

  it('that was the NIC\'s own: the NIC keeps its address and waits, and has a readable claim again once the garbage goes', async () => {
    await fx.store.applyAll(nicsOn(['own'], { clusterNetwork: 'apps' }));
    const [ip] = await allAddressed(['own']);
    const key = ipam.claim('clusternetworks', 'apps', 'addresses', parseIPv4(ip));
    await garble(key);
    // the NIC planned again (a label), then a later NIC done: the first was looked at meanwhile
    const nic = await fx.store.get('ContainerNic', 'own');
    await fx.store.update({ ...nic!, metadata: { ...nic!.metadata, labels: { touched: 'yes' } } });
    await fx.store.applyAll(nicsOn(['after-own'], { clusterNetwork: 'apps' }));
    await allAddressed(['after-own']);
    expect(await ipOf('own'), 'not renumbered').toBe(ip);
    expect(getCondition(statusOf(await fx.store.get('ContainerNic', 'own')).conditions as never, 'Allocated')).toMatchObject({ status: 'True' });
    // deleted, the key is a free address (as any claim deleted by hand): the NIC claims one again
    await fx.etcd.client().delete().key(key).exec();
    const owned = await eventually(async () => {
      const now = await ipOf('own');
      const v = now ? await fx.etcd.client().get(ipam.claim('clusternetworks', 'apps', 'addresses', parseIPv4(now))).string() : null;
      return v && v !== 'not json {' && (JSON.parse(v) as { owner: { name: string } }).owner.name === 'own' ? now : undefined;
    }, 'the NIC with a readable claim of its address', 40_000);
    expect(owned).toBeTruthy();
  }, 60_000);

  it('that was a HostSubnet\'s own block: it keeps its subnet and waits, not moved to another block', async () => {
    await fx.store.applyAll([obj('ClusterNetwork', 'five', { cidr: '10.83.0.0/22', hostPrefix: 24 })]);
    const subnetOf = async (name: string) => statusOf(await fx.store.get('HostSubnet', name)).subnet as string | undefined;
    const before = await eventually(async () => subnetOf('five-host-1'), 'five-host-1 allocated', 15_000);
    await garble(ipam.claim('clusternetworks', 'five', 'blocks', parseIPv4(before.split('/')[0])));
    const hs = await fx.store.get('HostSubnet', 'five-host-1');
    await fx.store.update({ ...hs!, metadata: { ...hs!.metadata, labels: { touched: 'yes' } } });
    // a later HostSubnet of the same network done: the first was looked at meanwhile
    await fx.store.applyAll([obj('Node', 'host-3', { address: '198.18.0.13' })]);
    const third = await eventually(async () => subnetOf('five-host-3'), 'five-host-3 allocated', 15_000);
    expect(third).not.toBe(before);
    expect(await subnetOf('five-host-1'), 'not moved').toBe(before);
  });
});
