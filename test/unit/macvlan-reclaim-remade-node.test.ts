// Review h80 of f722de9/ac5f34a (node-incarnation.ts). macvlan-reclaim.ts exists for exactly one
// case: "its Node was deleted and made again while [its containers] ran": the delete freed the
// node's pre-claims, and the round claims again, before any refill, what the node's report lists
// in use. That report was written before the Node was made again (an agent does not rewrite an
// unchanged report), so while the node has no report about itself in etcd (its agent down for
// maintenance, or the seconds before a running agent's next beat rewrites it after the delete:
// beatOnce reads the host first) currentMacvlanReport drops it, reclaimInUse sees nothing in
// use, and the lowest free address, in use by a container on that host, goes to another node's
// refill. macvlan-reclaim.test.ts passes only because its fixture seeds the report AFTER the Node.
import { describe, expect, it } from 'vitest';
import { guard, leaderKey, plannerCtx } from './planner-ctx.js';
import type { Etcd3 } from 'etcd3';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';

const client = { kv: { txn: async () => ({ succeeded: true, header: { revision: '100' }, responses: [] }) } } as unknown as Etcd3;
const owner = { kind: 'MacvlanNet', name: 'lan', uid: 'lan-uid' };

describe('a Node deleted and made again while its containers run, before its agent reports itself again', () => {
  it('gets back the addresses its report lists in use before any other node\'s refill takes them', async () => {
    const { model, seed, ctx } = plannerCtx(client);
    seed(model.keys.object('MacvlanNet', 'lan'), { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'lan', uid: owner.uid, generation: 1, finalizers: ['xnet.io/network-in-use'] }, spec: { subnet: '10.20.0.0/16', gateway: '10.20.255.254', ipRange: '10.20.0.0/24', parent: 'eth0', mode: 'bridge', hostShim: false, blockPrefix: 28, dockerIPAM: 'xnet' } });
    const node = (n: string) => seed(model.keys.object('Node', n), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: n, uid: n, generation: 1 }, spec: {} });
    // b's agent runs and asks for addresses (b is planned before z); z's report (written by z's agent before the delete) lists .1 in use
    node('b');
    seed(model.keys.status('Node', 'b', { node: 'b' }), { lastHeartbeatTime: new Date().toISOString() });
    seed(model.keys.status('MacvlanNet', 'lan', { node: 'b' }), { ready: true, ipam: { assigned: [], returned: [], external: [], requested: [], want: 4 } });
    seed(model.keys.status('MacvlanNet', 'lan', { node: 'z' }), { ready: true, ipam: { assigned: [{ ip: '10.20.0.1' }], returned: [], external: [], requested: [], want: 0 } });
    // the admin deletes Node z and applies it again (its claims went with the delete)
    node('z');
    const p = new TxnPlan(guard, leaderKey);
    planMacvlanNodes(ctx, 'lan', p, new Map());
    expect(await p.commit(client, model.cache)).toBe(true);
    const claims = new Map([...model.claimsIn('macvlannets', 'lan', 'addresses').values()].map((c) => [c.claim.ip!, c.claim]));
    // before f722de9: node-pool for z. Now b's refill takes the address z's container uses.
    expect(claims.get('10.20.0.1')).toMatchObject({ role: 'node-pool', node: 'z' });
  });
});
