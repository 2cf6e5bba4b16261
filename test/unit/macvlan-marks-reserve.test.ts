// The room a MacvlanNet's round keeps for its status put counts the external marks the status
// lists: each in status.external, and up to 256 a node in its part with the time it was made
// (status.nodes[].externalMarkedAt). It counted ~300 bytes a node whatever the marks, so a node
// with hundreds of marks and a long report of returned addresses had its releases packed up to
// a transaction larger than etcd takes once the status was added. The transaction here is made
// just smaller than the one that would hold every release and the status (measured), as in
// macvlan-node-skip.test.ts.
import { describe, expect, it } from 'vitest';
import { guard, leaderKey, plannerCtx } from './planner-ctx.js';
import type { Etcd3 } from 'etcd3';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';
import { MAX_TXN_OPS } from '../../pkg/runtime/kv.js';

const client = { kv: { txn: async () => ({ succeeded: true, header: { revision: '100' }, responses: [] }) } } as unknown as Etcd3;
const MARKED_AT = 1_796_000_000;

/** MacvlanNet lan with node n1 holding 100 pre-claims it all returned, and 600 marks of its probes. */
function fixture() {
  const { model, seed, ctx } = plannerCtx(client);
  const owner = { kind: 'MacvlanNet', name: 'lan', uid: 'lan-uid' };
  seed(model.keys.object('MacvlanNet', 'lan'), { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'lan', uid: owner.uid, generation: 1, finalizers: ['xnet.io/network-in-use'] }, spec: { subnet: '10.20.0.0/16', parent: 'eth0', mode: 'bridge', hostShim: false, blockPrefix: 28, dockerIPAM: 'xnet' } });
  seed(model.keys.object('Node', 'n1'), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'n1', uid: 'n1', generation: 1 }, spec: {} });
  const held = Array.from({ length: 100 }, (_, i) => formatIPv4(parseIPv4('10.20.0.10') + i));
  for (const ip of held) seed(model.ipam.claim('macvlannets', 'lan', 'addresses', parseIPv4(ip)), { owner, role: 'node-pool', ip, node: 'n1' });
  for (let i = 0; i < 600; i++) {
    const ip = formatIPv4(parseIPv4('10.20.8.0') + i);
    seed(model.ipam.claim('macvlannets', 'lan', 'addresses', parseIPv4(ip)), { owner, role: 'external', ip, node: 'n1', markedAt: MARKED_AT + i });
  }
  seed(model.keys.status('MacvlanNet', 'lan', { node: 'n1' }), { ready: true, ipam: { assigned: [], returned: held, external: [], requested: [], want: 0 } });
  return { model, ctx };
}

describe('the status room of a MacvlanNet round with many external marks', () => {
  it('keeps the transaction within etcd\'s request size: what does not fit follows in the next one', () => {
    const whole = new TxnPlan(guard, leaderKey);
    expect(planMacvlanNodes(fixture().ctx, 'lan', whole, new Map())).toMatchObject({ more: false, progress: true });
    // every release and the status, with its 600 marks and n1's 256 with their times
    const maxBytes = whole.size.bytes - 4000;
    const plan = new TxnPlan(guard, leaderKey, MAX_TXN_OPS, maxBytes);
    const o = planMacvlanNodes(fixture().ctx, 'lan', plan, new Map());
    expect(plan.size.bytes).toBeLessThanOrEqual(maxBytes);
    expect(plan.fits()).toBe(true);
    // some releases went in; the rest follows
    expect(o).toMatchObject({ more: true, progress: true });
  });
});
