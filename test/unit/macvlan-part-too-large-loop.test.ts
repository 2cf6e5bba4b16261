// a node part larger than what a transaction holds beside the status (a node
// holding ~120,000 pre-claims on a pool larger than a /16), when its claims do not change, is put
// only "while room is left" (macvlan-status-keys.ts putParts): it never fits, so every round says
// some part waits (deferred -> more, progress), and term.ts re-queues the MacvlanNet at once,
// for ever: a busy loop of plans and commits that never converges.
import { describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { guard, leaderKey, plannerCtx } from './planner-ctx.js';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';

let revision = 1_000_000;
const client = { kv: { txn: async () => ({ succeeded: true, header: { revision: String(++revision) }, responses: [] }) } } as unknown as Etcd3;
const owner = { kind: 'MacvlanNet', name: 'big', uid: 'big-uid' };

describe('an untouched node part larger than a transaction holds', () => {
  it('does not keep the round coming back at once for ever', async () => {
    const { model, seed, ctx, cache } = plannerCtx(client);
    seed(model.keys.object('MacvlanNet', 'big'), { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'big', uid: owner.uid, generation: 1, finalizers: ['xnet.io/network-in-use'] }, spec: { subnet: '10.16.0.0/12', parent: 'eth0', mode: 'bridge', hostShim: false, dockerIPAM: 'xnet' } });
    for (const n of ['big-holder', 'other']) {
      seed(model.keys.object('Node', n), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: n, uid: n, generation: 1 }, spec: {} });
      seed(model.keys.status('Node', n, { node: n }), { lastHeartbeatTime: new Date().toISOString() });
      seed(model.keys.status('MacvlanNet', 'big', { node: n }), { ready: true, ipam: { assigned: [], returned: [], external: [], requested: [], want: 0 } });
    }
    const base = parseIPv4('10.17.0.0');
    for (let j = 0; j < 120_000; j++) seed(model.ipam.claim('macvlannets', 'big', 'addresses', base + j), { owner, role: 'node-pool', ip: formatIPv4(base + j), node: 'big-holder' });
    let o: ReturnType<typeof planMacvlanNodes> | undefined;
    let round = 0;
    for (; round < 10; round++) {
      const plan = new TxnPlan(guard, leaderKey, 128);
      o = planMacvlanNodes(ctx, 'big', plan, new Map());
      expect(await plan.commit(client, cache)).toBe(true);
      if (!o.more) break;
    }
    expect(o!.more && o!.progress, `after ${round} rounds: more=${o!.more} progress=${o!.progress} (term.ts re-queues at once)`).toBe(false);
  }, 180_000);
});
