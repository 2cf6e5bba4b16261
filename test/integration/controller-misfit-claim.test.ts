// An IPAM claim that decodes but cannot be the claim its key names (an admin's raw write, a
// restore of another layout): a `nic` claim under a pool's blocks/, an address claim whose `ip`
// is not its key's. Readers take a block's extent from the value's cidr and an address claim's
// from its key, or its ip: before, the first stopped its MacvlanNet's reconcile and every NIC
// of it for good ("undefined": not a CIDR), and the second had a node's host shim configured on
// an address the allocator, reading the key, handed to a NIC. Now such a claim does not decode:
// its key holds its address or block like any other garbled claim, and ipam check names it.
import { describe, expect, it } from 'vitest';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix, { addressCooldownMs: 0 });
const ipam = new IpamKeys(prefix);
const ipOf = async (name: string) => statusOf(await fx.store.get('ContainerNic', name)).ip as string | undefined;
const nicsOn = (names: string[], mvn: string) => names.map((n) => obj('ContainerNic', n, { node: 'host-1', container: n, ifName: 'eth1', network: { macvlanNet: mvn } }));
const allAddressed = (names: string[]) => eventually(async () => {
  const got = await Promise.all(names.map(ipOf));
  return got.every(Boolean) ? got as string[] : undefined;
}, 'every NIC with an address', 15_000);
type Part = { name: string; dockerRange?: string; shimAddress?: string };
const parts = async (mvn: string) => (statusOf(await fx.store.get('MacvlanNet', mvn)) as { nodes?: Part[] }).nodes ?? [];

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
});
