// The room a MacvlanNet's round keeps for its status must not be larger than what the status
// takes: counted too large, a round fits nothing, not even the releases that would shrink the
// status. A deleted Node's external marks are freed with it (a lying node's marks no longer hold
// the pool, docs/security.md), and its marks are listed in status.external until they are gone,
// but in no node's part (a deleted Node has none). Counted as a part of 256 marks with their
// times each and 18 bytes for every address however short, 2,000 such marks kept ~20 KB more
// than the status takes: under a request limit between the two, no transaction freed any of
// them, and the MacvlanNet stayed stuck with a status that would have fit. The transaction here
// is made smaller than one that frees what 128 operations allow and writes the status (measured),
// as in macvlan-marks-reserve.test.ts.
import { describe, expect, it } from 'vitest';
import { guard, leaderKey, plannerCtx } from './planner-ctx.js';
import type { Etcd3 } from 'etcd3';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';
import { MAX_TXN_OPS } from '../../pkg/runtime/kv.js';

const client = { kv: { txn: async () => ({ succeeded: true, header: { revision: '100' }, responses: [] }) } } as unknown as Etcd3;

/** MacvlanNet lan selecting node n1; 2,000 marks of node gone, whose Node was deleted. */
function fixture() {
  const { model, seed, ctx } = plannerCtx(client);
  const owner = { kind: 'MacvlanNet', name: 'lan', uid: 'lan-uid' };
  seed(model.keys.object('MacvlanNet', 'lan'), { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'lan', uid: owner.uid, generation: 1, finalizers: ['xnet.io/network-in-use'] }, spec: { subnet: '10.20.0.0/16', parent: 'eth0', mode: 'bridge', hostShim: false, blockPrefix: 28, dockerIPAM: 'xnet' } });
  seed(model.keys.object('Node', 'n1'), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'n1', uid: 'n1', generation: 1 }, spec: {} });
  for (let i = 0; i < 2000; i++) {
    const ip = formatIPv4(parseIPv4('10.20.8.0') + i);
    seed(model.ipam.claim('macvlannets', 'lan', 'addresses', parseIPv4(ip)), { owner, role: 'external', ip, node: 'gone', markedAt: 1_796_000_000 });
  }
  return { model, ctx };
}

/** The plan of one round under etcd's default request limit and at most `ops` operations. */
function round(ops: number): TxnPlan {
  const plan = new TxnPlan(guard, leaderKey, ops);
  planMacvlanNodes(fixture().ctx, 'lan', plan, new Map());
  return plan;
}

describe('the status room of a MacvlanNet round whose deleted Node left many marks', () => {
  it('frees them over several transactions under a limit the status fits in', () => {
    // measured: what one release takes, and the status (with the plan's guard) without any
    const big = round(MAX_TXN_OPS).size;
    const small = round(64).size;
    expect(big.ops).toBeGreaterThan(small.ops);
    const perRelease = (big.bytes - small.bytes) / (big.ops - small.ops);
    const statusOnly = big.bytes - (big.ops - 1) * perRelease;
    // room for the status and 30 releases
    const maxBytes = Math.floor(statusOnly + 30 * perRelease);
    const plan = new TxnPlan(guard, leaderKey, MAX_TXN_OPS, maxBytes);
    const o = planMacvlanNodes(fixture().ctx, 'lan', plan, new Map());
    expect(plan.fits()).toBe(true);
    // some of the deleted Node's marks are freed; the rest follows
    expect(o).toMatchObject({ more: true, progress: true });
    expect(plan.size.ops).toBeGreaterThan(1);
  });
});
