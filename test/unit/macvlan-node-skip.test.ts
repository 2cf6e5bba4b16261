// A MacvlanNet node whose part has an item no transaction holds is skipped, and said so,
// without the rounds saying `more` for ever (each would meet the same item: the reconcile
// would repeat for ever); the nodes after it still get theirs in the same transaction. No real
// item outgrows etcd's 128, so the transaction here is made just large enough for the part of
// the node after it (measured, whatever each of its items costs), and the skipped node's first
// item is a claim, which costs more than that part's one release.
import { describe, expect, it } from 'vitest';
import { guard, leaderKey, plannerCtx } from './planner-ctx.js';
import type { Etcd3 } from 'etcd3';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';


/** etcd that takes every transaction (the plan's size is the test's concern, not conflicts), each at the next revision */
let revision = 100;
const client = { kv: { txn: async () => ({ succeeded: true, header: { revision: String(++revision) }, responses: [] }) } } as unknown as Etcd3;

function fixture() {
  const { model, seed, ctx } = plannerCtx(client);
  return { model, seed, ctx };
}

describe('MacvlanNet node parts', () => {
  it('skips a node whose next item fits no transaction, and goes on with the nodes after it', async () => {
    const { model, seed, ctx } = fixture();
    const owner = { kind: 'MacvlanNet', name: 'lan', uid: 'lan-uid' };
    const node = (n: string) => seed(model.keys.object('Node', n), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: n, uid: n, generation: 1 }, spec: {} });
    seed(model.keys.object('MacvlanNet', 'lan'), { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'lan', uid: owner.uid, generation: 1, finalizers: ['xnet.io/network-in-use'] }, spec: { subnet: '10.20.0.0/24', parent: 'eth0', mode: 'bridge', hostShim: false, blockPrefix: 28, dockerIPAM: 'xnet' } });
    // n2 holds 8 and returned one: its part is that release (and nothing to claim).
    const held = Array.from({ length: 8 }, (_, i) => `10.20.0.${10 + i}`);
    for (const ip of held) seed(model.ipam.claim('macvlannets', 'lan', 'addresses', parseIPv4(ip)), { owner, role: 'node-pool', ip, node: 'n2' });
    // the Node first: a report written before it was made is a former agent's (node-incarnation.ts)
    node('n2');
    seed(model.keys.status('MacvlanNet', 'lan', { node: 'n2' }), { ready: true, ipam: { assigned: [], returned: held.slice(0, 1), external: [], requested: [], want: 0 } });
    // The smallest transaction that holds n2's part and the status: planned alone, not committed.
    const alone = new TxnPlan(guard, leaderKey);
    expect(planMacvlanNodes(ctx, 'lan', alone, new Map())).toMatchObject({ more: false, progress: true });
    const limit = Math.max(alone.size.compares, alone.size.ops);
    // n1, planned first, has no pool yet: its first item is a claim (its agent has beaten: a
    // node whose agent never reported gets no pre-claims).
    node('n1');
    seed(model.keys.status('Node', 'n1', { node: 'n1' }), { lastHeartbeatTime: new Date().toISOString() });
    const plan = new TxnPlan(guard, leaderKey, limit);
    // n1's part is a key of its own (store/macvlan-parts.ts) that this transaction has no room
    // for beside n2's: it waits for the next, which holds it and says nothing more is to come
    expect(planMacvlanNodes(ctx, 'lan', plan, new Map())).toMatchObject({ more: true, progress: true });
    expect(await plan.commit(client, model.cache)).toBe(true);
    const next = new TxnPlan(guard, leaderKey, limit);
    expect(planMacvlanNodes(ctx, 'lan', next, new Map())).toMatchObject({ more: false });
    expect(await next.commit(client, model.cache)).toBe(true);
    const status = model.controllerStatus('MacvlanNet', 'lan')!.status as { nodes: Array<{ name: string; addresses?: string[]; message: string; ready: boolean }> };
    const [n1, n2] = status.nodes;
    expect(n1).toMatchObject({ name: 'n1', addresses: [], ready: false });
    expect(n1.message).toMatch(/more than one etcd transaction holds; skipped/);
    expect(n2).toMatchObject({ name: 'n2', addresses: held.slice(1), ready: true });
    const claims = [...model.claimsIn('macvlannets', 'lan', 'addresses').values()].map((c) => c.claim);
    expect(claims.map((c) => c.ip).sort()).toEqual(held.slice(1));
    expect(claims.every((c) => c.node === 'n2')).toBe(true);
  });
});
