// A MacvlanNet's controller status in three kinds of keys (store/macvlan-parts.ts): the shared
// key every agent watches, each node's part in its own index, the pool counts no agent watches.
// No key grows with nodes x addresses: one status key holding every node's pre-claims passed
// etcd's 1.5 MiB request limit at some 500 nodes x 100 containers, and its MacvlanNet's round
// could never commit again (issue 10). Readers still see one status.nodes[].
import { describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { guard, leaderKey, plannerCtx } from './planner-ctx.js';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';
import type { MacvlanNetStatus } from '../../pkg/api/index.js';

/** etcd that takes every transaction, each at the next revision (above every seeded key's) */
let revision = 1_000_000;
const client = { kv: { txn: async () => ({ succeeded: true, header: { revision: String(++revision) }, responses: [] }) } } as unknown as Etcd3;
const owner = { kind: 'MacvlanNet', name: 'lan', uid: 'lan-uid' };

/**
 * `nodes` nodes each using `perNode` pre-claimed addresses (high in the range, so every shim
 * lands on the same low addresses whatever the count), as the controller's cache holds them.
 */
function segment(nodes: number, perNode: number) {
  const { model, seed, ctx, cache } = plannerCtx(client);
  seed(model.keys.object('MacvlanNet', 'lan'), { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'lan', uid: owner.uid, generation: 1, finalizers: ['xnet.io/network-in-use'] }, spec: { subnet: '10.20.0.0/16', gateway: '10.20.255.254', ipRange: '10.20.0.0/17', parent: 'eth0', mode: 'bridge', hostShim: true, blockPrefix: 28, dockerIPAM: 'xnet' } });
  const names = Array.from({ length: nodes }, (_, i) => `n${String(i).padStart(4, '0')}`);
  names.forEach((n, i) => {
    seed(model.keys.object('Node', n), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: n, uid: n, generation: 1 }, spec: {} });
    seed(model.keys.status('Node', n, { node: n }), { lastHeartbeatTime: new Date().toISOString() });
    const ips = Array.from({ length: perNode }, (_, j) => formatIPv4(parseIPv4('10.20.64.0') + i * 128 + j));
    for (const ip of ips) seed(model.ipam.claim('macvlannets', 'lan', 'addresses', parseIPv4(ip)), { owner, role: 'node-pool', ip, node: n });
    seed(model.keys.status('MacvlanNet', 'lan', { node: n }), { ready: true, ipam: { assigned: ips.map((ip) => ({ ip })), returned: [], external: [], requested: [], want: 0 } });
  });
  return { model, seed, ctx, cache, names };
}

/** Plans and commits round after round (at most `maxOps` a transaction) until nothing more is to come; `each` after every commit. */
async function rounds(s: ReturnType<typeof segment>, maxOps = 128, each?: () => void) {
  for (let round = 0; ; round++) {
    expect(round, 'rounds to converge').toBeLessThan(200);
    const plan = new TxnPlan(guard, leaderKey, maxOps);
    const o = planMacvlanNodes(s.ctx, 'lan', plan, new Map());
    expect(plan.size.ops).toBeLessThanOrEqual(maxOps);
    expect(await plan.commit(client, s.cache)).toBe(true);
    each?.();
    if (!o.more) return;
  }
}

const statusOf = (s: ReturnType<typeof segment>) => s.model.controllerStatus('MacvlanNet', 'lan')!.status as MacvlanNetStatus;

/**
 * A segment planned and committed on a stock etcd's 128 ops until nothing more is to come. The
 * size of each kind of key then (of the parts, the largest), and the status as read.
 */
async function converge(nodes: number, perNode: number) {
  const s = segment(nodes, perNode);
  await rounds(s);
  const size = (key: string) => s.cache.get(key)?.value.length ?? 0;
  const largest = {
    shared: size(s.model.keys.status('MacvlanNet', 'lan', { controller: true })),
    part: Math.max(...s.names.map((n) => size(s.model.keys.macvlanPart(n, 'lan')))),
    pool: size(s.model.keys.macvlanPool('lan')),
  };
  return { largest, status: statusOf(s) };
}

describe('a MacvlanNet status over many nodes with many pre-claims', () => {
  it('is planned in keys none of which grows with nodes x addresses, and reads as one status.nodes[]', async () => {
    const few = await converge(40, 8);
    const many = await converge(40, 64);
    // what every agent watches does not grow with what the nodes' containers use
    expect(many.largest.shared).toBe(few.largest.shared);
    expect(many.largest.pool).toBeLessThan(100);
    // a part grows with its own node's addresses only (~14 bytes each), not with the other nodes'
    expect(many.largest.part - few.largest.part).toBeLessThan((64 - 8) * 16 + 64);
    const more = await converge(80, 64);
    // twice the nodes: the largest part as large (give or take its addresses' digits)
    expect(Math.abs(more.largest.part - many.largest.part)).toBeLessThan(200);
    // ... and every node's addresses still read in status.nodes[], in node order
    expect(more.status.nodes).toHaveLength(80);
    expect(more.status.nodes!.every((n) => (n.addresses?.length ?? 0) >= 64 && !!n.shimAddress && n.parent === 'eth0')).toBe(true);
    expect(more.status.nodes!.map((n) => n.name)).toEqual([...more.status.nodes!.map((n) => n.name)].sort());
    expect(more.status.used).toBe(80 * 64);
  }, 60_000);
});

/**
 * 30 nodes' claims as a controller made them, and a controller whose cache holds those claims
 * and the status key with every node's whole entry in it (what a controller before the split
 * wrote): `whole`, that status.
 */
async function writtenWhole() {
  const done = segment(30, 8);
  await rounds(done);
  const whole = statusOf(done);
  const s = segment(30, 8);
  for (const kv of done.cache.entries(done.model.ipam.root())) s.seed(kv.key, JSON.parse(kv.value));
  s.seed(s.model.keys.status('MacvlanNet', 'lan', { controller: true }), whole);
  return { s, whole };
}

describe('an upgrade from a controller that kept every part in the status key', () => {
  it("reads each node's addresses the same at every step, while the parts move into the indexes over several transactions", async () => {
    // what the controller before the split left: the same claims, one key with every part in it, no part anywhere else
    const { s, whole } = await writtenWhole();
    const addressesOf = (st: MacvlanNetStatus) => new Map((st.nodes ?? []).map((n) => [n.name, n.addresses]));
    const expected = addressesOf(whole);
    let steps = 0;
    // 8 ops a transaction: a few parts each
    await rounds(s, 8, () => {
      steps++;
      expect(addressesOf(statusOf(s))).toEqual(expected);
    });
    expect(steps).toBeGreaterThan(4);
    expect(s.names.every((n) => s.cache.get(s.model.keys.macvlanPart(n, 'lan')))).toBe(true);
    expect((statusOf(s).nodes ?? []).every((n) => n.parent === 'eth0')).toBe(true);
  });
});

describe('a newer controller leading again after an older one wrote the status key whole', () => {
  it("reads each node's addresses from the status key at every step until its part is rewritten, never from the part the older one left behind", async () => {
    const { s, whole } = await writtenWhole();
    // the parts this controller wrote in its earlier term: each lists an address the older one freed since
    for (const n of whole.nodes!) s.seed(s.model.keys.macvlanPart(n.name, 'lan'), { ...n, addresses: [...n.addresses!, '10.20.127.1'] });
    const addressesOf = (st: MacvlanNetStatus) => new Map((st.nodes ?? []).map((n) => [n.name, n.addresses]));
    const expected = addressesOf(whole);
    expect(addressesOf(statusOf(s))).toEqual(expected);
    let steps = 0;
    await rounds(s, 8, () => {
      steps++;
      expect(addressesOf(statusOf(s))).toEqual(expected);
    });
    expect(steps).toBeGreaterThan(4);
  });
});
