// A MacvlanNet's per-node parts against stock etcd's limits (128 compares and 128 ops per
// transaction, a key at most once per transaction): one node's large part is committed in
// pieces and never holds back the nodes after it; a blockPrefix change converges.
import { describe, expect, it } from 'vitest';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';
import { obj, eventually, statusOf } from './controller-helpers.js';
import { useMacvlanParts, type NodePart } from './macvlan-parts.js';

const fx = useMacvlanParts();
const { parts, partOf, report, claimed } = fx;

describe('MacvlanNet node parts on a stock etcd', () => {
  it('gives every node its host shim before any node its addresses at hand, on a segment too small for both', async () => {
    // a /29 with a gateway: 5 addresses; three nodes' shims take 3, and the first node's refill
    // (8 at hand) used to take every one of them before the other two had a shim
    await fx.segment('mvsmall', { subnet: '10.74.0.0/29', gateway: '10.74.0.1' }, 'small', ['sm-a', 'sm-b', 'sm-c']);
    // their agents start (no refill before: a node whose agent never reported gets no pre-claims)
    await fx.beat(['sm-a', 'sm-b', 'sm-c']);
    // the 2 left after the shims end up at hand (fair share 1 each while all three have none)
    const atHand = (p: NodePart[]) => p.reduce((n, x) => n + (x.addresses?.length ?? 0), 0);
    const all = await eventually(async () => { const p = await parts('mvsmall'); return p.length === 3 && p.every((n) => n.shimAddress) && atHand(p) === 2 && p; }, 'a shim on each of the three nodes, and the rest at hand');
    expect(new Set(all.map((n) => n.shimAddress)).size).toBe(3);
    // what is left is at hand for one of them: 5 addresses in all, none twice
    const held = all.flatMap((n) => [n.shimAddress!, ...(n.addresses ?? [])]);
    expect(new Set(held).size).toBe(held.length);
    expect(held.length).toBe(5);
  });

  it('releases 200 addresses a node returned while no controller ran, and the node after it still gets its shim and addresses', async () => {
    await fx.segment('mvret', { subnet: '10.77.0.0/16', dockerIPAM: 'xnet', hostShim: true }, 'ret', ['ret-a', 'ret-b']);
    await fx.beat(['ret-a', 'ret-b']);
    // ret-b runs ever more containers: each time all it holds is in use it asks for 60 more
    let held = (await eventually(async () => { const p = await partOf('mvret', 'ret-b'); return p?.addresses?.length === 8 && p; }, 'ret-b pre-claims 8')).addresses!;
    while (held.length < 200) {
      const before = held.length;
      await report('mvret', 'ret-b', { assigned: held.map((ip) => ({ ip })), want: 60 });
      held = (await eventually(async () => { const p = await partOf('mvret', 'ret-b'); return (p?.addresses?.length ?? 0) >= before + 68 && p; }, `ret-b holds ${before + 68}`)).addresses!;
    }
    // The controller goes away; every container goes (the agent keeps 8 free and returns the
    // rest, pkg/dockeripam/book.ts drop()), and ret-c joins.
    await fx.stopController();
    const keep = held.slice(0, 8);
    const returned = held.slice(8);
    await report('mvret', 'ret-b', { returned });
    await fx.join('ret', ['ret-c']);
    await fx.beat(['ret-c']);
    await fx.startController();
    const retC = await eventually(async () => { const p = await partOf('mvret', 'ret-c'); return !!p?.shimAddress && (p.addresses?.length ?? 0) >= 8 && p; }, 'ret-c gets its shim and addresses', 30_000);
    expect(retC.addresses).not.toContain(retC.shimAddress);
    const retB = await eventually(async () => { const p = await partOf('mvret', 'ret-b'); return p?.addresses?.length === 8 && p; }, 'ret-b holds only what it kept');
    expect(retB.addresses).toEqual(keep);
    const claims = await claimed('mvret');
    // what ret-b returned is free (ret-c may have been given some of it): 3 shims and 3 x 8 left
    expect(returned.filter((ip) => claims.get(ip)?.node === 'ret-b')).toEqual([]);
    expect(claims.size).toBe(27);
    expect(keep.every((ip) => claims.get(ip)?.node === 'ret-b')).toBe(true);
    await fx.expectClean();
  }, 90_000);

  it('claims 150 addresses a node asked for with docker run --ip, and the node after it still gets its shim and addresses', async () => {
    await fx.segment('mvreq', { subnet: '10.78.0.0/16', dockerIPAM: 'xnet', hostShim: true }, 'req', ['req-a', 'req-b']);
    await fx.beat(['req-a', 'req-b']);
    await eventually(async () => (await partOf('mvreq', 'req-b'))?.addresses?.length === 8, 'req-b pre-claims 8');
    const requested = Array.from({ length: 150 }, (_, i) => formatIPv4(parseIPv4('10.78.100.0') + i));
    await report('mvreq', 'req-b', { requested });
    await fx.join('req', ['req-c']);
    await fx.beat(['req-c']);
    const reqC = await eventually(async () => { const p = await partOf('mvreq', 'req-c'); return !!p?.shimAddress && (p.addresses?.length ?? 0) >= 8 && p; }, 'req-c gets its shim and addresses', 30_000);
    expect(requested).not.toContain(reqC.shimAddress);
    await eventually(async () => (await partOf('mvreq', 'req-b'))?.addresses?.filter((ip) => requested.includes(ip)).length === 150, 'req-b holds every address it asked for');
    const claims = await claimed('mvreq');
    expect(requested.filter((ip) => claims.get(ip)?.node !== 'req-b')).toEqual([]);
    await fx.expectClean();
  }, 60_000);

  it('lets a lying node take no more than 72 free addresses at once, and frees its external marks when its Node is deleted', async () => {
    // a /24 of 253 addresses (gateway .1): one report of want: 4096 took them all in one round
    await fx.segment('mvlie', { subnet: '10.79.0.0/24', gateway: '10.79.0.1', dockerIPAM: 'xnet', hostShim: false }, 'lie', ['lie-a', 'lie-b']);
    await fx.beat(['lie-a', 'lie-b']);
    await eventually(async () => (await partOf('mvlie', 'lie-b'))?.addresses?.length === 8, 'lie-b pre-claims 8');
    await report('mvlie', 'lie-a', { want: 4096 });
    const held = await eventually(async () => { const a = (await partOf('mvlie', 'lie-a'))?.addresses; return a && a.length >= 72 && a; }, 'lie-a refilled');
    expect(held.length).toBe(72);
    // then it says all of them answered an ARP probe: marked external, out of its hands, and
    // refilled by 72 again, not by the 173 left
    await report('mvlie', 'lie-a', { want: 4096, external: held });
    const roles = async () => [...(await claimed('mvlie')).values()].filter((c) => c.node === 'lie-a').map((c) => c.role);
    await eventually(async () => { const r = await roles(); return r.filter((x) => x === 'external').length === 72 && r.length >= 144 || undefined; }, '72 external marks of lie-a, 72 at hand again');
    expect((await roles()).length).toBe(144);
    // the admin deletes the lying node: its marks and its pre-claims go, so lie-b's containers can have them
    await fx.store.delete('Node', 'lie-a');
    await eventually(async () => [...(await claimed('mvlie')).values()].every((c) => c.node !== 'lie-a') || undefined, 'nothing of lie-a left', 15_000);
    await fx.expectClean();
  }, 60_000);

  it('re-blocks three nodes when blockPrefix changes from 28 to 27, and a NIC applied with the change gets its address', async () => {
    const spec = (blockPrefix: number) => ({ subnet: '10.20.0.0/24', dockerIPAM: 'blocks', hostShim: false, blockPrefix, nodeSelector: { matchLabels: { bp: 'yes' } } });
    await fx.segment('mvbp', spec(28), 'bp', ['bp-1', 'bp-2', 'bp-3']);
    const ranges = (ps: NodePart[]) => ps.map((p) => p.dockerRange ?? '');
    await eventually(async () => { const ps = await parts('mvbp'); return ps.length === 3 && ranges(ps).every((r) => r.endsWith('/28')); }, 'three /28 blocks');
    await fx.store.applyAll([
      obj('MacvlanNet', 'mvbp', spec(27)),
      obj('ContainerNic', 'bp-nic', { node: 'bp-1', container: 'x', ifName: 'eth1', network: { macvlanNet: 'mvbp' } }),
    ]);
    const after = await eventually(async () => {
      const m = await fx.store.get('MacvlanNet', 'mvbp');
      const ps = await parts('mvbp');
      return statusOf(m).observedGeneration === m?.metadata.generation && ps.length === 3 && ranges(ps).every((r) => r.endsWith('/27')) && ps;
    }, 'three /27 blocks', 30_000);
    expect(new Set(ranges(after)).size).toBe(3);
    const nic = await eventually(async () => statusOf(await fx.store.get('ContainerNic', 'bp-nic')).ip as string | undefined, 'bp-nic gets an address');
    expect(nic).toMatch(/^10\.20\.0\./);
    const check = await eventually(async () => { const r = await ipamCheck(fx.etcd.client(), fx.prefix); return r.problems === 0 && r; }, 'ipam check clean', 10_000);
    expect(check.problems).toBe(0);
  }, 60_000);
});
