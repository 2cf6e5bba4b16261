// A node's pre-claims in one MacvlanNet are bounded (MAX_NODE_PRECLAIMS, macvlan-requests.ts):
// without the bound a lying node got 256 more per report by `requested` (docs/security.md) and,
// on a pool larger than a /16, came to hold so many that its part of the status (always put
// with its claims) made the round's transaction larger than a stock etcd's 1.5 MiB request:
// refused on every retry, and every other node's refills and shims in that MacvlanNet with it.
// A node holding more from before keeps it, but its part is never planned past the limit.
import { describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { guard, leaderKey, plannerCtx } from './planner-ctx.js';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';
import { ETCD_DEFAULT_LIMITS } from '../../pkg/etcd/limits.js';
import { MAX_NODE_PRECLAIMS } from '../../pkg/controller/macvlan-requests.js';

let revision = 1_000_000;
const client = { kv: { txn: async () => ({ succeeded: true, header: { revision: String(++revision) }, responses: [] }) } } as unknown as Etcd3;
const owner = { kind: 'MacvlanNet', name: 'big', uid: 'big-uid' };

describe('a touched node part larger than the request limit', () => {
  it('is not planned into a transaction over 1.5 MiB', () => {
    const { model, seed, ctx } = plannerCtx(client);
    seed(model.keys.object('MacvlanNet', 'big'), { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'big', uid: owner.uid, generation: 1, finalizers: ['xnet.io/network-in-use'] }, spec: { subnet: '10.16.0.0/12', parent: 'eth0', mode: 'bridge', hostShim: false, dockerIPAM: 'xnet' } });
    for (const n of ['liar', 'other']) {
      seed(model.keys.object('Node', n), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: n, uid: n, generation: 1 }, spec: {} });
      seed(model.keys.status('Node', n, { node: n }), { lastHeartbeatTime: new Date().toISOString() });
    }
    const N = 120_000;
    const base = parseIPv4('10.17.0.0');
    for (let j = 0; j < N; j++) { const ip = formatIPv4(base + j); seed(model.ipam.claim('macvlannets', 'big', 'addresses', base + j), { owner, role: 'node-pool', ip, node: 'liar' }); }
    // the liar asks for one more free address by name
    seed(model.keys.status('MacvlanNet', 'big', { node: 'liar' }), { ready: true, ipam: { assigned: [], returned: [], external: [], requested: ['10.20.0.1'], want: 0 } });
    seed(model.keys.status('MacvlanNet', 'big', { node: 'other' }), { ready: true, ipam: { assigned: [], returned: [], external: [], requested: [], want: 0 } });
    const plan = new TxnPlan(guard, leaderKey, 128);
    planMacvlanNodes(ctx, 'big', plan, new Map());
    expect(plan.size.bytes, `planned ${plan.size.ops} ops, ${plan.size.bytes} bytes`).toBeLessThanOrEqual(ETCD_DEFAULT_LIMITS.maxRequestBytes);
  }, 120_000);
});

describe('a node at MAX_NODE_PRECLAIMS', () => {
  function atBound(held: number, requested: string[], want: number) {
    const { model, seed, ctx, cache } = plannerCtx(client);
    seed(model.keys.object('MacvlanNet', 'big'), { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'big', uid: owner.uid, generation: 1, finalizers: ['xnet.io/network-in-use'] }, spec: { subnet: '10.16.0.0/12', parent: 'eth0', mode: 'bridge', hostShim: false, dockerIPAM: 'xnet' } });
    seed(model.keys.object('Node', 'liar'), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'liar', uid: 'liar', generation: 1 }, spec: {} });
    seed(model.keys.status('Node', 'liar', { node: 'liar' }), { lastHeartbeatTime: new Date().toISOString() });
    const base = parseIPv4('10.17.0.0');
    for (let j = 0; j < held; j++) seed(model.ipam.claim('macvlannets', 'big', 'addresses', base + j), { owner, role: 'node-pool', ip: formatIPv4(base + j), node: 'liar' });
    // every held address in use: the node asks for `want` more at hand
    seed(model.keys.status('MacvlanNet', 'big', { node: 'liar' }), { ready: true, ipam: { assigned: Array.from({ length: held }, (_, j) => ({ ip: formatIPv4(base + j), container: `c${j}` })), returned: [], external: [], requested, want } });
    return { model, ctx, cache };
  }
  const held = (model: ReturnType<typeof atBound>['model']) => [...model.claimsIn('macvlannets', 'big', 'addresses').values()].filter((c) => c.claim.node === 'liar').length;

  it('is granted a requested address up to the bound and refused past it, naming the bound', async () => {
    const { model, ctx, cache } = atBound(MAX_NODE_PRECLAIMS - 1, ['10.20.0.1', '10.20.0.2'], 0);
    const plan = new TxnPlan(guard, leaderKey, 128);
    planMacvlanNodes(ctx, 'big', plan, new Map());
    expect(await plan.commit(client, cache)).toBe(true);
    expect(held(model)).toBe(MAX_NODE_PRECLAIMS);
    const part = JSON.parse(cache.get(model.keys.macvlanPart('liar', 'big'))!.value);
    expect(part.refusedRequests).toEqual([{ ip: '10.20.0.2', reason: expect.stringContaining(`already holds ${MAX_NODE_PRECLAIMS} pre-claimed addresses`) }]);
  }, 120_000);

  it('gets no refill past the bound', async () => {
    const { model, ctx, cache } = atBound(MAX_NODE_PRECLAIMS - 2, [], 8);
    const plan = new TxnPlan(guard, leaderKey, 128);
    planMacvlanNodes(ctx, 'big', plan, new Map());
    expect(await plan.commit(client, cache)).toBe(true);
    expect(held(model)).toBe(MAX_NODE_PRECLAIMS);
  }, 120_000);
});
