// dockerIPAM blocks: each node's Docker hands out its own block and checks a `docker run --ip`
// only against its own containers, so a container on host-b given an address of host-a's block
// (or a ContainerNic's, or a shim's) holds it twice on the segment. The node's agent reports the
// addresses its containers hold outside its block (`outsideBlock`, api/outside-block.ts); the
// leader names each duplicate: a Warning event and the MacvlanNet's `AddressesUnique` condition
// (`AddressConflict`), status.addressConflicts, and `xctl ipam check` counts it as a problem. A
// report is trusted only about its own node's containers, and one that does not decode is
// skipped and said, never thrown. Real etcd, the real controller; the reports are written as
// the node's agent writes them (its status key of the MacvlanNet: agent/reconcilers/macvlan.ts).
import { describe, expect, it } from 'vitest';
import { listEvents } from '../../pkg/events/read.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { eventually, obj, statusOf } from './controller-helpers.js';
import { useMacvlanParts } from './macvlan-parts.js';

const fx = useMacvlanParts();
const plus = (ip: string, n: number) => formatIPv4(parseIPv4(ip) + n);
const base = (cidr: string) => cidr.split('/')[0];

/** What a blocks node's agent writes on the MacvlanNet: its part, ready, and what its containers hold outside its block. */
const report = (node: string, dockerRange: string, extra: Record<string, unknown>) =>
  fx.store.writeStatus('MacvlanNet', 'seg', { node }, { name: node, parent: 'eth0', ready: true, message: 'ready', dockerRange, ...extra });
const unique = async () => statusOf(await fx.store.get('MacvlanNet', 'seg')).conditions?.find((c) => c.type === 'AddressesUnique');
const conflictEvents = async () => (await listEvents(fx.etcd.client(), fx.prefix, { kind: 'MacvlanNet', name: 'seg' })).items.filter((e) => e.reason === 'AddressConflict');

describe('an address a blocks node\'s Docker gave that another holder on the segment has', () => {
  it('is named in a Warning, the AddressesUnique condition and xctl ipam check; a report of none clears it', async () => {
    await fx.segment('seg', { subnet: '198.19.90.0/24', dockerIPAM: 'blocks', blockPrefix: 28, hostShim: true }, 'seg', ['cf-a', 'cf-b']);
    const parts = await eventually(async () => {
      const p = await fx.parts('seg');
      return p.length === 2 && p.every((x) => x.dockerRange && x.shimAddress) ? p : undefined;
    }, 'both nodes get a block and a shim');
    const [a, b] = [parts.find((p) => p.name === 'cf-a')!, parts.find((p) => p.name === 'cf-b')!];
    await report('cf-a', a.dockerRange!, {});
    await report('cf-b', b.dockerRange!, {});
    await eventually(async () => ((await unique())?.status === 'True' ? true : undefined), 'AddressesUnique True while no container holds an address outside its block');

    // host-b's container `web` given (docker run --ip) an address of host-a's block
    const taken = plus(base(a.dockerRange!), 3);
    await report('cf-b', b.dockerRange!, { outsideBlock: [{ ip: taken, name: 'web' }] });
    const c = await eventually(async () => { const u = await unique(); return u?.status === 'False' ? u : undefined; }, 'AddressesUnique False');
    const said = `${taken} is held twice: container web on node cf-b and node cf-a's Docker block ${a.dockerRange} (its Docker hands it out)`;
    expect(c.reason).toBe('AddressConflict');
    // the status every node reads names no container (a node could learn others' by reporting their addresses)
    expect(c.message).toContain(`${taken} is held twice: a container on node cf-b and node cf-a's Docker block ${a.dockerRange} (its Docker hands it out)`);
    expect(statusOf(await fx.store.get('MacvlanNet', 'seg')).addressConflicts).toEqual([{ ip: taken, holders: [
      { node: 'cf-b', role: 'container', what: 'a container on node cf-b' },
      { node: 'cf-a', role: 'docker-block', what: `node cf-a's Docker block ${a.dockerRange} (its Docker hands it out)` },
    ] }]);
    const [ev] = await eventually(async () => { const e = await conflictEvents(); return e.length ? e : undefined; }, 'the Warning');
    expect(ev.type).toBe('Warning');
    expect(ev.message).toContain(said);
    // the same report again (the agent's next pass): still listed, no second event
    await report('cf-b', b.dockerRange!, { outsideBlock: [{ ip: taken, name: 'web' }], message: 'ready again' });
    await eventually(async () => ((await fx.partOf('seg', 'cf-b'))?.message === 'ready again' ? true : undefined), 'the round after the same report');
    expect((await conflictEvents()).map((e) => e.count)).toEqual([1]);
    const check = await ipamCheck(fx.etcd.client(), fx.prefix);
    expect(check.problems).toBe(1);
    expect(check.text).toContain(`macvlannet/seg ${said}`);

    // host-a's word about its own block, a garbled report: nothing more, nothing thrown; the
    // garbled one is said, and host-b's own report is still compared
    await report('cf-a', a.dockerRange!, { outsideBlock: [{ ip: plus(base(a.dockerRange!), 4), name: 'own' }] });
    await report('cf-a', a.dockerRange!, { outsideBlock: 'garbled' });
    await eventually(async () => ((await unique())?.message?.includes('the report of cf-a') ? true : undefined), 'the condition names the report not compared');
    expect(statusOf(await fx.store.get('MacvlanNet', 'seg')).addressConflicts).toHaveLength(1);

    // the container went (its agent reports none): the conflict goes with it
    await report('cf-a', a.dockerRange!, {});
    await report('cf-b', b.dockerRange!, {});
    await eventually(async () => ((await unique())?.status === 'True' ? true : undefined), 'AddressesUnique True again');
    expect(statusOf(await fx.store.get('MacvlanNet', 'seg')).addressConflicts).toBeUndefined();
    expect((await ipamCheck(fx.etcd.client(), fx.prefix)).problems).toBe(0);
  }, 60_000);

  it('names a shim\'s address and a ContainerNic\'s given to a container', async () => {
    await fx.segment('seg2', { subnet: '198.19.91.0/24', dockerIPAM: 'blocks', blockPrefix: 28, hostShim: true }, 'seg2', ['sh-a', 'sh-b']);
    await fx.store.applyAll([obj('ContainerNic', 'nf-1', { node: 'sh-a', container: 'db', ifName: 'eth1', network: { macvlanNet: 'seg2' } })]);
    const nicIp = await eventually(async () => statusOf(await fx.store.get('ContainerNic', 'nf-1')).ip as string | undefined, 'nf-1 gets an address');
    const parts = await eventually(async () => { const p = await fx.parts('seg2'); return p.length === 2 && p.every((x) => x.dockerRange && x.shimAddress) ? p : undefined; }, 'blocks and shims');
    const a = parts.find((p) => p.name === 'sh-a')!;
    const b = parts.find((p) => p.name === 'sh-b')!;
    await fx.store.writeStatus('MacvlanNet', 'seg2', { node: 'sh-b' }, { name: 'sh-b', ready: true, dockerRange: b.dockerRange, outsideBlock: [{ ip: a.shimAddress, name: 'x' }, { ip: nicIp, name: 'y' }] });
    const listed = await eventually(async () => {
      const l = statusOf(await fx.store.get('MacvlanNet', 'seg2')).addressConflicts as Array<{ ip: string; holders: Array<{ what: string }> }> | undefined;
      return l?.length === 2 ? l : undefined;
    }, 'two conflicts listed');
    expect(listed.flatMap((c) => c.holders.map((h) => h.what)).sort()).toEqual(['a ContainerNic on node sh-a', 'a container on node sh-b', 'a container on node sh-b', 'node sh-a\'s host shim']);
    const check = await ipamCheck(fx.etcd.client(), fx.prefix);
    expect(check.problems).toBe(2);
    expect(check.text).toContain(`macvlannet/seg2 ${nicIp} is held twice: container y on node sh-b and ContainerNic nf-1 on node sh-a`);
    expect(check.text).toContain(`macvlannet/seg2 ${a.shimAddress} is held twice: container x on node sh-b and node sh-a's host shim`);
  }, 60_000);

  it('tells an address held twice once, also after a third holder came and went; lists 4 holders and counts them all', async () => {
    const nodes = ['mh-1', 'mh-2', 'mh-3', 'mh-4', 'mh-5', 'mh-6'];
    await fx.segment('seg3', { subnet: '198.19.92.0/24', dockerIPAM: 'blocks', blockPrefix: 28 }, 'seg3', nodes);
    const parts = await eventually(async () => { const p = await fx.parts('seg3'); return p.length === 6 && p.every((x) => x.dockerRange) ? p : undefined; }, 'six blocks');
    const range = (n: string) => parts.find((p) => p.name === n)!.dockerRange;
    // the same docker run --ip 198.19.92.9 (in no block) on a host, or none there
    const holds = (n: string, yes: boolean) => fx.store.writeStatus('MacvlanNet', 'seg3', { node: n }, { name: n, ready: true, dockerRange: range(n), ...(yes ? { outsideBlock: [{ ip: '198.19.92.9', name: `app-${n}` }] } : {}) });
    type Listed = Array<{ ip: string; holders: Array<{ what: string }>; holderCount?: number }>;
    const listedWith = (n: number) => eventually(async () => {
      const l = statusOf(await fx.store.get('MacvlanNet', 'seg3')).addressConflicts as Listed | undefined;
      return l && (l[0].holderCount ?? l[0].holders.length) === n ? l : undefined;
    }, `the address listed with ${n} holders`);
    const told = async () => (await listEvents(fx.etcd.client(), fx.prefix, { kind: 'MacvlanNet', name: 'seg3' })).items.filter((e) => e.reason === 'AddressConflict');
    const twice = '198.19.92.9 is held twice: container app-mh-1 on node mh-1 and container app-mh-2 on node mh-2';
    const thrice = '198.19.92.9 is held 3 times: container app-mh-1 on node mh-1, container app-mh-2 on node mh-2 and container app-mh-3 on node mh-3';

    await holds('mh-1', true); await holds('mh-2', true);
    await listedWith(2);
    await holds('mh-3', true);
    await listedWith(3);
    await holds('mh-3', false);
    await listedWith(2);
    // a holder newly listed is told; the recorder records in order, so once that Warning is
    // there, whatever the round before told is there too
    await holds('mh-4', true);
    await listedWith(3);
    const events = await eventually(async () => { const e = await told(); return e.some((x) => x.message.includes('app-mh-4')) ? e : undefined; }, 'the Warning of mh-4\'s container');
    // the third holder going was no news: the first Warning was not told again
    expect(events.map((e) => [e.message.split(': Docker')[0], e.count]).filter(([m]) => m === twice || m === thrice)).toEqual(expect.arrayContaining([[twice, 1], [thrice, 1]]));
    expect(events).toHaveLength(3);

    for (const n of nodes.slice(2)) await holds(n, true);
    const listed = await listedWith(6);
    expect(listed).toEqual([{ ip: '198.19.92.9', holderCount: 6, holders: nodes.slice(0, 4).map((n) => ({ node: n, role: 'container', what: `a container on node ${n}` })) }]);
    const u = statusOf(await fx.store.get('MacvlanNet', 'seg3')).conditions?.find((c) => c.type === 'AddressesUnique');
    expect(u?.message).toContain('198.19.92.9 is held 6 times: a container on node mh-1, a container on node mh-2, a container on node mh-3, a container on node mh-4 and 2 more');
    // one holder beyond those listed going: counted, not told
    const before = (await told()).length;
    await holds('mh-5', false);
    await listedWith(5);
    expect((await told()).length).toBe(before);
  }, 60_000);
});
