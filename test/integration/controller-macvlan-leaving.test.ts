// A node taken out of a MacvlanNet's selector while containers there still use the network
// keeps what they use (its shim, the addresses its agent reports as assigned) until its agent
// has taken the network off the host (its report goes); the rest is freed at once. Found by
// review: everything was freed at once, and another node could be given a live address.
// Real etcd, in-process controller; the node's agent is its status key, written by the test.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { nodeIpamReport } from '../../pkg/dockeripam/report.js';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import type { Controller } from '../../pkg/controller/controller.js';
import type { EtcdStore } from '../../pkg/store/index.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { beat, obj, eventually, startController, storeFor, uniquePrefix, statusOf } from './controller-helpers.js';

let etcd: TestEtcd;
let c: Controller | undefined;
let store: EtcdStore;
const prefix = uniquePrefix();
beforeAll(async () => { etcd = await startEtcd(); store = storeFor(etcd.client(), prefix); c = await startController(etcd.client(), prefix); });
afterAll(async () => {
  await Promise.race([c?.stop(), new Promise((r) => setTimeout(r, 5000))]).catch(() => undefined);
  await etcd?.stop();
});

type Part = { name: string; shimAddress?: string; addresses?: string[]; ready?: boolean; message?: string };
const parts = async () => (statusOf(await store.get('MacvlanNet', 'mvl')).nodes as Part[] | undefined) ?? [];
const claimsOf = async (node: string) => {
  const kvs = await etcd.client().getAll().prefix(new IpamKeys(prefix).space('macvlannets', 'mvl', 'addresses')).strings();
  return Object.values(kvs).map((v) => JSON.parse(v) as { ip: string; node?: string; role: string }).filter((cl) => cl.node === node).map((cl) => cl.ip).sort();
};
const check = async () => { const r = await ipamCheck(etcd.client(), prefix); expect(r.problems, r.text).toBe(0); };

describe('a node that leaves a MacvlanNet', () => {
  it('keeps its shim and the addresses its containers use until its agent has taken the network off', async () => {
    await store.applyAll([
      obj('MacvlanNet', 'mvl', { subnet: '10.79.0.0/24', dockerIPAM: 'xnet', hostShim: true, nodeSelector: { matchLabels: { lv: 'yes' } } }),
      obj('Node', 'lv-a', { interface: 'eth0' }, { lv: 'yes' }),
      obj('Node', 'lv-b', { interface: 'eth0' }, { lv: 'yes' }),
    ]);
    // their agents start: a node whose agent never reported gets no pre-claims
    for (const n of ['lv-a', 'lv-b']) await beat(store, n);
    const a = await eventually(async () => (await parts()).find((p) => p.name === 'lv-a' && p.shimAddress && p.addresses?.length === 8), 'lv-a has its shim and 8 addresses');
    const used = a.addresses!.slice(0, 2);
    // lv-a's agent: two containers use two of its addresses
    await beat(store, 'lv-a');
    await store.writeStatus('MacvlanNet', 'mvl', { node: 'lv-a' }, { name: 'lv-a', ready: true, ipam: { assigned: used.map((ip) => ({ ip })), returned: [], external: [], requested: [], want: 0 } });
    await store.applyAll([obj('Node', 'lv-a', { interface: 'eth0' }, { lv: 'no' })]);
    const left = await eventually(async () => (await parts()).find((p) => p.name === 'lv-a' && p.ready === false && p.message?.startsWith('no longer selected')), "lv-a's part says it left");
    expect(left.addresses).toEqual(used);
    expect(await claimsOf('lv-a')).toEqual([...used, a.shimAddress!].sort());
    await check();
    // the agent took the network off the host: its report goes, and so does what it kept
    await store.deleteStatus('MacvlanNet', 'mvl', { node: 'lv-a' });
    await eventually(async () => (await claimsOf('lv-a')).length === 0 || undefined, "lv-a's claims freed");
    expect((await parts()).map((p) => p.name)).toEqual(['lv-b']);
    await check();
  });
});

/**
 * A MacvlanNet (dockerIPAM xnet, no shim) selecting nodes labelled `<label>: yes`, and one such
 * node; returns how to read that node's part of the MacvlanNet's status.
 */
async function joinedNode(mvn: string, subnet: string, node: string, label: string): Promise<() => Promise<Part | undefined>> {
  await store.applyAll([
    obj('MacvlanNet', mvn, { subnet, dockerIPAM: 'xnet', hostShim: false, nodeSelector: { matchLabels: { [label]: 'yes' } } }),
    obj('Node', node, { interface: 'eth0' }, { [label]: 'yes' }),
  ]);
  // its agent starts: a node whose agent never reported gets no pre-claims
  await beat(store, node);
  return async () => ((statusOf(await store.get('MacvlanNet', mvn)).nodes as Part[] | undefined) ?? []).find((p) => p.name === node);
}

describe('a leaving node whose IPAM report does not decode', () => {
  it('keeps the addresses that report may list as in use, until the report goes', async () => {
    const partOf = await joinedNode('mvu', '10.82.0.0/24', 'lu-a', 'lu');
    const held = (await eventually(async () => { const p = await partOf(); return p?.addresses?.length === 8 && p; }, 'lu-a pre-claims 8')).addresses!;
    const used = held.slice(0, 2);
    // as an agent before f819c04 wrote it: a container named with 300 characters (Docker has
    // no limit) is over the report's 256, and the whole report did not decode
    const assigned = [{ ip: used[0], name: `c${'a'.repeat(299)}` }, { ip: used[1], name: 'web' }];
    await beat(store, 'lu-a');
    await store.writeStatus('MacvlanNet', 'mvu', { node: 'lu-a' }, { ready: true, ipam: { assigned, returned: [], external: [], requested: [], want: 0 } });
    await store.applyAll([obj('Node', 'lu-a', { interface: 'eth0' }, { lu: 'no' })]);
    const left = await eventually(async () => { const p = await partOf(); return p?.ready === false && p; }, 'lu-a left');
    // its two containers' addresses were freed at once, to be handed to another node while
    // still answering on the segment
    expect(left.addresses).toEqual(expect.arrayContaining(used));
    const claims = await etcd.client().getAll().prefix(new IpamKeys(prefix).space('macvlannets', 'mvu', 'addresses')).strings();
    const mine = Object.values(claims).map((v) => JSON.parse(v) as { ip: string; node?: string }).filter((c) => c.node === 'lu-a').map((c) => c.ip);
    expect(mine).toEqual(expect.arrayContaining(used));
    await check();
    // the agent took the network off: its report goes, and so does what it kept
    await store.deleteStatus('MacvlanNet', 'mvu', { node: 'lu-a' });
    await eventually(async () => (await partOf()) === undefined || undefined, "lu-a's part gone");
  });
});

describe('a leaving node with a report at the size limit', () => {
  it('has its report read once a round: the controller is not stalled by the claims it keeps', async () => {
    const partOf = await joinedNode('mvh', '10.80.0.0/16', 'lh-a', 'lh');
    await eventually(async () => (await partOf())?.addresses?.length === 8, 'lh-a pre-claims 8');
    // its agent asks for 150 more by --ip, then reports every one in use among 65,536 (the
    // most a report may list, some 1.4 MB: each decode of it takes tens of milliseconds)
    const requested = Array.from({ length: 150 }, (_, i) => `10.80.1.${i + 1}`);
    const ipam = (assigned: string[]) => ({ assigned: assigned.map((ip) => ({ ip })), returned: [], external: [], requested, want: 0 });
    await beat(store, 'lh-a');
    await store.writeStatus('MacvlanNet', 'mvh', { node: 'lh-a' }, { ready: true, ipam: ipam([]) });
    const held = (await eventually(async () => { const p = await partOf(); return (p?.addresses?.length ?? 0) >= 158 && p; }, 'lh-a holds 158')).addresses!;
    const filler = Array.from({ length: 65_536 - held.length }, (_, i) => `10.81.${i >> 8}.${i & 255}`);
    // the controller runs in this process: its decodes of the big report are counted, not timed
    const decodes = vi.spyOn(nodeIpamReport, 'safeParse');
    const bigDecodes = () => decodes.mock.calls.filter(([v]) => (v as { assigned?: unknown[] } | undefined)?.assigned?.length === 65_536).length;
    await beat(store, 'lh-a');
    await store.writeStatus('MacvlanNet', 'mvh', { node: 'lh-a' }, { ready: true, ipam: ipam([...held, ...filler]) });
    // taken out of the selector: each of its 158 claims is kept by the report's word; the
    // report was decoded once per claim (158 x ~65 ms, the controller's event loop blocked)
    await store.applyAll([obj('Node', 'lh-a', { interface: 'eth0' }, { lh: 'no' })]);
    const left = await eventually(async () => { const p = await partOf(); return p?.ready === false && p.addresses?.length === held.length && p; }, 'lh-a keeps what it uses', 60_000);
    expect(left.addresses).toEqual(held);
    // once per value it has: the rounds until the part settled are a handful, the claims 158
    expect(bigDecodes()).toBeGreaterThan(0);
    expect(bigDecodes(), 'decodes of the 65,536-address report').toBeLessThan(10);
  }, 90_000);
});
