// An IPAM claim that decodes but cannot be the claim its key names (an admin's raw write, a
// restore of another layout): a `nic` claim under a pool's blocks/, an address claim whose `ip`
// is not its key's. Readers take a block's extent from the value's cidr and an address claim's
// from its key, or its ip: before, the first stopped its MacvlanNet's reconcile and every NIC
// of it for good ("undefined": not a CIDR), and the second had a node's host shim configured on
// an address the allocator, reading the key, handed to a NIC. Now such a claim does not decode:
// its key holds its address or block like any other garbled claim, and ipam check names it.
// And a claim key whose address is spelt otherwise than the padded form xnet writes
// ("10.84.0.2" for "010.084.000.002") is no claim key: the model, keyed by address, took it for
// the real claim of that address, and its delete took that claim out of the model too.
import { describe, expect, it } from 'vitest';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { obj, eventually, startController, statusOf, uniquePrefix, useControllerFixture, type Status } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix, { addressCooldownMs: 0 });
const ipam = new IpamKeys(prefix);
const ipOf = async (name: string) => statusOf(await fx.store.get('ContainerNic', name)).ip as string | undefined;
const nic = (n: string, network: object) => obj('ContainerNic', n, { node: 'host-1', container: n, ifName: 'eth1', network });
const nicsOn = (names: string[], mvn: string) => names.map((n) => nic(n, { macvlanNet: mvn }));
const allAddressed = (names: string[]) => eventually(async () => {
  const got = await Promise.all(names.map(ipOf));
  return got.every(Boolean) ? got as string[] : undefined;
}, 'every NIC with an address', 15_000);
type Part = { name: string; dockerRange?: string; shimAddress?: string };
const parts = async (mvn: string) => (statusOf(await fx.store.get('MacvlanNet', mvn)) as { nodes?: Part[] }).nodes ?? [];
/** Whether a HostSubnet's status has `subnet` allocated. */
const allocatedAs = (subnet: string) => (s: Status) => s.subnet === subnet && s.conditions?.find((c) => c.type === 'Allocated')?.status === 'True';
/** host-1, a ClusterNetwork `cn` of `cidr` selecting no node (/24 blocks), and HostSubnet `hs` pinning `subnet` on host-1, allocated. */
async function pinnedAllocated(cn: string, cidr: string, hs: string, subnet: string): Promise<(s: Status) => boolean> {
  await fx.store.applyAll([obj('Node', 'host-1', { address: '198.18.0.11' }), obj('ClusterNetwork', cn, { cidr, hostPrefix: 24, nodeSelector: { matchLabels: { pool: 'none' } } }),
    obj('HostSubnet', hs, { node: 'host-1', clusterNetwork: cn, subnet })]);
  const allocated = allocatedAs(subnet);
  await eventually(async () => allocated(statusOf(await fx.store.get('HostSubnet', hs))) || undefined, `${hs} allocated`, 15_000);
  return allocated;
}

describe('an IPAM claim that does not fit its key', () => {
  it('a nic claim under a MacvlanNet\'s blocks: its block is held, the MacvlanNet and its NICs go on', async () => {
    await fx.store.applyAll([obj('Node', 'host-1', { address: '198.18.0.11' })]);
    const base = parseIPv4('192.168.230.240');
    const key = ipam.claim('macvlannets', 'lan', 'blocks', base);
    await fx.etcd.client().put(key).value(JSON.stringify({ owner: { kind: 'ContainerNic', name: 'x', uid: 'u1' }, role: 'nic', ip: formatIPv4(base) }));
    await fx.store.applyAll([obj('MacvlanNet', 'lan', { subnet: '192.168.230.0/24', dockerIPAM: 'blocks', blockPrefix: 28 }), ...nicsOn(['m0'], 'lan')]);
    const [ip] = await allAddressed(['m0']);
    expect(parseIPv4(ip) < base, ip).toBe(true);
    const range = await eventually(async () => (await parts('lan')).find((p) => p.name === 'host-1')?.dockerRange, 'host-1\'s Docker block', 15_000);
    expect(range).not.toBe('192.168.230.240/28');
    const report = await ipamCheck(fx.etcd.client(), prefix);
    expect(report.text).toMatch(/a nic claim is not kept under blocks\//);
  });

  it('a shim claim whose ip is not its key\'s: no NIC gets the address the node\'s shim has', async () => {
    await fx.store.applyAll([obj('Node', 'host-1', { address: '198.18.0.11' }), obj('MacvlanNet', 'shim', { subnet: '192.168.231.0/24', dockerIPAM: 'blocks', blockPrefix: 28, hostShim: true })]);
    const shim = await eventually(async () => (await parts('shim')).find((p) => p.name === 'host-1')?.shimAddress, 'host-1\'s shim', 15_000);
    const key = ipam.claim('macvlannets', 'shim', 'addresses', parseIPv4(shim));
    const claim = JSON.parse((await fx.etcd.client().get(key).string())!) as { ip: string };
    // the value now names the next address up, the one a NIC would be given first
    await fx.etcd.client().put(key).value(JSON.stringify({ ...claim, ip: formatIPv4(parseIPv4(shim) + 1) }));
    const m = await fx.store.get('MacvlanNet', 'shim');
    await fx.store.update({ ...m!, metadata: { ...m!.metadata, labels: { touched: 'yes' } } });
    const now = await eventually(async () => { const s = (await parts('shim')).find((p) => p.name === 'host-1')?.shimAddress; return s !== shim ? s : undefined; }, 'host-1\'s shim moved', 15_000);
    const names = ['s0', 's1', 's2'];
    await fx.store.applyAll(nicsOn(names, 'shim'));
    const ips = await allAddressed(names);
    expect(await (async () => (await parts('shim')).find((p) => p.name === 'host-1')?.shimAddress)()).toBe(now);
    expect(ips, `the shim's address ${now}`).not.toContain(now);
    expect(ips, 'the key\'s address stays held').not.toContain(shim);
  });

  it('a claim key of an address spelt unpadded: its delete leaves the real claim held, and ipam check names it', async () => {
    await fx.store.applyAll([obj('Node', 'host-1', { address: '198.18.0.11' }), obj('ClusterNetwork', 'apps', { cidr: '10.84.0.0/16', hostPrefix: 24 }), nic('a0', { clusterNetwork: 'apps' })]);
    const [x] = await allAddressed(['a0']);
    const alias = ipam.space('clusternetworks', 'apps', 'addresses') + x;
    await fx.etcd.client().put(alias).value(JSON.stringify({ owner: { kind: 'ContainerNic', name: 'ghost', uid: 'ghost-uid' }, role: 'nic', ip: x }));
    const check = await ipamCheck(fx.etcd.client(), prefix);
    // the controller has seen it (taken for the claim of x, or refused)
    await eventually(async () => fx.c.model.claimsIn('clusternetworks', 'apps', 'addresses').get(parseIPv4(x))?.key === alias || fx.c.cache.isRefused(alias), 'the controller seeing the key', 10_000);
    await fx.etcd.client().delete().key(alias).exec();
    await eventually(async () => !fx.c.cache.isRefused(alias) && fx.c.model.claimsIn('clusternetworks', 'apps', 'addresses').get(parseIPv4(x))?.key !== alias, 'the controller seeing it go', 10_000);
    // the next NIC alone: planned by itself, it picked x (free in the model) and conflicted for good
    await fx.store.applyAll([nic('a1', { clusterNetwork: 'apps' })]);
    const ips = await allAddressed(['a0', 'a1']);
    expect(new Set(ips).size).toBe(2);
    expect(check.text).toContain(`${alias}: the key is not an IPAM claim`);
  });
  it('a HostSubnet pinning a subnet inside its block but not at its base (the upper /25): its claim fits, it stays allocated', async () => {
    // written by the controller itself: key at the /24 block's base, cidr the pinned /25
    const allocated = await pinnedAllocated('half', '10.85.0.0/16', 'upper', '10.85.1.128/25');
    const key = ipam.claim('clusternetworks', 'half', 'blocks', parseIPv4('10.85.1.0'));
    expect(JSON.parse((await fx.etcd.client().get(key).string())!)).toMatchObject({ role: 'hostsubnet', cidr: '10.85.1.128/25' });
    // a controller that starts now (a restart, a new leader) reads the claim from etcd
    await fx.c.stop();
    fx.c = await startController(fx.etcd.client(), prefix, { addressCooldownMs: 0 });
    await eventually(async () => fx.c.model.claimsIn('clusternetworks', 'half', 'blocks').has(parseIPv4('10.85.1.0')) || fx.c.cache.isRefused(key) || undefined, 'the new controller seeing the claim', 10_000);
    expect(fx.c.cache.isRefused(key), 'the controller refused the claim it wrote').toBe(false);
    const hs = await fx.store.get('HostSubnet', 'upper');
    await fx.store.update({ ...hs!, spec: { ...hs!.spec, bridge: 'upper0' } } as typeof hs & object);
    await eventually(async () => statusOf(await fx.store.get('HostSubnet', 'upper')).bridge === 'upper0' || undefined, 'upper reconciled again (its bridge edited)', 15_000);
    const s = statusOf(await fx.store.get('HostSubnet', 'upper'));
    expect(allocated(s), JSON.stringify(s.conditions)).toBe(true);
    // the file's other tests leave their misfits: only this pool's lines count
    const report = await ipamCheck(fx.etcd.client(), prefix);
    expect(report.text).toContain('clusternetwork/half         1');
    expect(report.text.split('\n').filter((l) => l.includes('clusternetworks/half/') || l.includes('"upper"'))).toEqual([]);
  });

  it('a HostSubnet block claim written by hand under another block than its own hostPrefix block: held, named by ipam check, left alone', async () => {
    const allocated = await pinnedAllocated('far', '10.87.0.0/16', 'pin', '10.87.1.128/25');
    const own = ipam.claim('clusternetworks', 'far', 'blocks', parseIPv4('10.87.1.0'));
    const ownValue = (await fx.etcd.client().get(own).string())!;
    // the same claim (pin's own owner and cidr) at the /16's base: slot 0, far from 10.87.1.0/24
    const far = ipam.claim('clusternetworks', 'far', 'blocks', parseIPv4('10.87.0.0'));
    await fx.etcd.client().put(far).value(ownValue);
    const hs = await fx.store.get('HostSubnet', 'pin');
    await fx.store.update({ ...hs!, spec: { ...hs!.spec, bridge: 'pin0' } } as typeof hs & object);
    await eventually(async () => statusOf(await fx.store.get('HostSubnet', 'pin')).bridge === 'pin0' || undefined, 'pin reconciled again (its bridge edited)', 15_000);
    // a HostSubnet that takes the first free block of the network: not the one the misfit holds
    await fx.store.applyAll([obj('HostSubnet', 'next', { node: 'host-1', clusterNetwork: 'far' })]);
    const next = await eventually(async () => statusOf(await fx.store.get('HostSubnet', 'next')).subnet as string | undefined, 'next allocated', 15_000);
    expect(next).not.toBe('10.87.0.0/24');
    expect(await fx.etcd.client().get(far).string(), 'the hand-written claim, left as it was').toBe(ownValue);
    expect(await fx.etcd.client().get(own).string()).toBe(ownValue);
    expect(allocated(statusOf(await fx.store.get('HostSubnet', 'pin')))).toBe(true);
    const report = await ipamCheck(fx.etcd.client(), prefix);
    expect(report.text).toContain(`${far}: the claim does not decode: cidr 10.87.1.128/25 is not kept at the base of its own /24 block (10.87.1.0)`);
    expect(report.text).not.toContain(`${own}:`);
  });
});
