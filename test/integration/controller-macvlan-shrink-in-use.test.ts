// dockerIPAM xnet: an ipRange shrunk while containers still use addresses it now leaves out.
// They keep their addresses (moving a live container's address is not the controller's call),
// and, as a Calico user expects of a pool shrunk under live workloads, the allocations stay
// recorded until released: each such address keeps its claim for its node, `xctl ipam check`
// is clean and notes them, the claim goes when the container does, and the range growing back
// hands none of them to another node or a NIC. Found by review: the claims were freed at once,
// `ipam check` exited 1 for as long as the containers ran ("used by container ... but no claim
// of that node backs it"), and nothing but the round's order kept a grown range from handing
// them out again. Real etcd, in-process controller; the node's agent is its status key.
import { describe, expect, it } from 'vitest';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { beat, obj, eventually, statusOf, useControllerFixture, uniquePrefix } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix);
type Part = { name: string; addresses?: string[]; outsideRange?: string[]; ready?: boolean; message?: string };
const SPEC = { subnet: '10.83.0.0/24', gateway: '10.83.0.1', ipRange: '10.83.0.0/25', dockerIPAM: 'xnet', hostShim: false };

const partOf = async (node: string) => ((statusOf(await fx.store.get('MacvlanNet', 'mvs')).nodes as Part[] | undefined) ?? []).find((p) => p.name === node);
/** every address claim of the pool: ip -> {node, role} */
const claims = async () => {
  const kvs = await fx.etcd.client().getAll().prefix(new IpamKeys(prefix).space('macvlannets', 'mvs', 'addresses')).strings();
  return new Map(Object.values(kvs).map((v) => JSON.parse(v) as { ip: string; node?: string; role: string }).map((c) => [c.ip, c]));
};
/** what n1's agent reports: its containers use `ips` */
const report = async (ips: string[]) => {
  await beat(fx.store, 'n1');
  await fx.store.writeStatus('MacvlanNet', 'mvs', { node: 'n1' }, { ready: true, ipam: { assigned: ips.map((ip, i) => ({ ip, name: `c${i}` })), returned: [], external: [], requested: [], want: 0 } });
};

describe('an ipRange shrunk under containers that use addresses it leaves out', () => {
  it('keeps their claims for their node until they go, ipam check clean with a note, and the range grown back hands them to nobody else', async () => {
    await fx.store.applyAll([obj('MacvlanNet', 'mvs', SPEC), obj('Node', 'n1', { interface: 'eth0' })]);
    // n1's agent starts: a node whose agent never reported gets no pre-claimed addresses
    await beat(fx.store, 'n1');
    const held = (await eventually(async () => { const p = await partOf('n1'); return p?.addresses?.length === 8 && p; }, 'n1 pre-claims 8')).addresses!;
    const used = held.slice(0, 2);
    await report(used);
    await eventually(async () => (await partOf('n1'))?.ready === true || undefined, 'n1 ready with two containers');

    // the shrink: none of n1's addresses is in the new range
    await fx.store.applyAll([obj('MacvlanNet', 'mvs', { ...SPEC, ipRange: '10.83.0.64/26' })]);
    const after = await eventually(async () => {
      const p = await partOf('n1');
      return p?.addresses?.length && p.addresses.every((a) => Number(a.split('.')[3]) >= 64) ? p : undefined;
    }, 'n1 refilled inside the new range');
    const c = await claims();
    expect(used.map((ip) => c.get(ip))).toEqual(used.map(() => expect.objectContaining({ node: 'n1', role: 'node-pool' })));
    expect(after.outsideRange).toEqual(used);
    // never handed out: not among the addresses n1's IPAM plugin may give a container
    expect(after.addresses).not.toContain(used[0]);
    // still in use: status.used counts them (a lying report's other addresses it does not)
    expect(statusOf(await fx.store.get('MacvlanNet', 'mvs')).used).toBe(2);
    let r = await ipamCheck(fx.etcd.client(), prefix);
    expect(r.problems, r.text).toBe(0);
    expect(r.text).toContain('MacvlanNet "mvs": 2 address(es) in use outside its range');

    // one container goes: its claim with it
    await report([used[1]]);
    await eventually(async () => (!(await claims()).has(used[0])) || undefined, `${used[0]}'s claim freed once its container went`);
    expect((await partOf('n1'))?.outsideRange).toEqual([used[1]]);

    // the range grows back while a NIC and another node ask for addresses: neither gets used[1]
    await fx.store.applyAll([
      obj('MacvlanNet', 'mvs', SPEC),
      obj('Node', 'n2', { interface: 'eth0' }),
      obj('ContainerNic', 'web-eth1', { node: 'n2', container: 'web', ifName: 'eth1', network: { macvlanNet: 'mvs' } }),
    ]);
    await beat(fx.store, 'n2');
    await eventually(async () => {
      const ip = statusOf(await fx.store.get('ContainerNic', 'web-eth1')).ip;
      return typeof ip === 'string' && ((await partOf('n2'))?.addresses?.length ?? 0) >= 8 && ip;
    }, 'the NIC and n2 have addresses');
    expect((await claims()).get(used[1])).toMatchObject({ node: 'n1', role: 'node-pool' });
    expect((await partOf('n1'))?.addresses).toContain(used[1]);
    expect((await partOf('n1'))?.outsideRange).toBeUndefined();
    r = await ipamCheck(fx.etcd.client(), prefix);
    expect(r.problems, r.text).toBe(0);
    expect(r.text).not.toContain('outside its range');
  });
});
