// A lying node can have ~110,000 addresses of a large pool marked external (72 a report, again
// and again: docs/security.md). status.external listed them all: the status alone was larger than
// etcd's request limit (1.5 MiB by default), so no transaction of the MacvlanNet fitted, not even
// the one freeing the marks once that Node was deleted, which wrote the status still listing
// them. It lists the lowest MAX_STATUS_EXTERNAL now, and status.externalCount counts them all:
// the round freeing the deleted Node's marks fits etcd's default limit, and commits.
import { describe, expect, it } from 'vitest';
import { guard, leaderKey, plannerCtx } from './planner-ctx.js';
import type { Etcd3 } from 'etcd3';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';
import { MAX_STATUS_EXTERNAL } from '../../pkg/controller/macvlan-mark-time.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';

const client = { kv: { txn: async () => ({ succeeded: true, header: { revision: '100000000' }, responses: [] }) } } as unknown as Etcd3;
const MARKS = 120_000;

/** MacvlanNet lan selecting node n1; 120,000 marks of node liar, whose Node was deleted. */
function fixture() {
  const { model, cache, seed, ctx } = plannerCtx(client);
  const owner = { kind: 'MacvlanNet', name: 'lan', uid: 'lan-uid' };
  seed(model.keys.object('MacvlanNet', 'lan'), { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'lan', uid: owner.uid, generation: 1, finalizers: ['xnet.io/network-in-use'] }, spec: { subnet: '10.64.0.0/13', parent: 'eth0', mode: 'bridge', hostShim: false, blockPrefix: 28, dockerIPAM: 'xnet' } });
  seed(model.keys.object('Node', 'n1'), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'n1', uid: 'n1', generation: 1 }, spec: {} });
  const first = parseIPv4('10.65.0.0');
  for (let i = 0; i < MARKS; i++) {
    const ip = formatIPv4(first + i);
    seed(model.ipam.claim('macvlannets', 'lan', 'addresses', first + i), { owner, role: 'external', ip, node: 'liar', markedAt: 1_796_000_000 });
  }
  return { model, cache, ctx };
}

describe('a MacvlanNet whose deleted Node left more marks than etcd takes listed in one request', () => {
  it('frees some of them in a transaction within etcd\'s default limit, with a status listing the lowest and counting them all', async () => {
    const { model, cache, ctx } = fixture();
    const plan = new TxnPlan(guard, leaderKey);
    const o = planMacvlanNodes(ctx, 'lan', plan, new Map());
    expect(plan.fits()).toBe(true);
    expect(o).toMatchObject({ more: true, progress: true });
    expect(await plan.commit(client, cache)).toBe(true);
    const status = model.controllerStatus('MacvlanNet', 'lan')?.status as { external?: string[]; externalCount?: number };
    // what this transaction freed is no longer counted
    const left = [...model.claimsIn('macvlannets', 'lan', 'addresses').values()].filter((c) => c.claim.role === 'external').length;
    expect(left).toBeLessThan(MARKS);
    expect(status.externalCount).toBe(left);
    expect(status.external).toHaveLength(MAX_STATUS_EXTERNAL);
  }, 60_000);
});
