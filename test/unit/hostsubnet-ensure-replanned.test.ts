// A hand-written HostSubnet (spec.subnet) whose ensure the pool executor rolled back (it did not
// fit its transaction) or whose commit failed is planned again in a round that shares the round
// state while earlier rounds are in flight. The slots it marked taken there are its own: it
// must be allocated, not refused SubnetConflict "overlaps a subnet allocated at the same time"
// (a status naming a conflict with itself, and a backoff). Another HostSubnet over those slots
// in those rounds still conflicts.
import { describe, expect, it } from 'vitest';
import { guard, leaderKey, plannerCtx } from './planner-ctx.js';
import type { Etcd3 } from 'etcd3';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { planHostSubnet } from '../../pkg/controller/hostsubnets.js';
import type { RoundState } from '../../pkg/controller/pool-executor.js';

const client = {} as unknown as Etcd3;

function fixture() {
  const { model, seed, ctx } = plannerCtx(client);
  seed(model.keys.object('ClusterNetwork', 'cn'), { apiVersion: 'xnet.io/v1alpha1', kind: 'ClusterNetwork', metadata: { name: 'cn', uid: 'cn', generation: 1 }, spec: { cidr: '10.80.0.0/16', hostPrefix: 24 } });
  const hs = (name: string, node: string) => {
    seed(model.keys.object('Node', node), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: node, uid: node, generation: 1 }, spec: {} });
    seed(model.keys.object('HostSubnet', name), { apiVersion: 'xnet.io/v1alpha1', kind: 'HostSubnet', metadata: { name, uid: `${name}-uid`, generation: 1 }, spec: { node, clusterNetwork: 'cn', subnet: '10.80.4.0/23' } });
  };
  return { ctx, hs };
}

describe('a hand-written HostSubnet planned again in rounds that share a round state', () => {
  it('is allocated after its first plan was rolled back', () => {
    const { ctx, hs } = fixture();
    hs('a', 'n1');
    const state: RoundState = new Map();
    const first = new TxnPlan(guard, leaderKey);
    const m = first.mark();
    expect(planHostSubnet(ctx, { type: 'ensure', name: 'a' }, first, state).result).toBe('allocated');
    first.rollback(m);
    expect(planHostSubnet(ctx, { type: 'ensure', name: 'a' }, new TxnPlan(guard, leaderKey), state)).toMatchObject({ result: 'allocated', name: 'a' });
  });

  it('still refuses its slots to another HostSubnet in those rounds', () => {
    const { ctx, hs } = fixture();
    hs('a', 'n1');
    hs('b', 'n2');
    const state: RoundState = new Map();
    expect(planHostSubnet(ctx, { type: 'ensure', name: 'a' }, new TxnPlan(guard, leaderKey), state).result).toBe('allocated');
    expect(planHostSubnet(ctx, { type: 'ensure', name: 'b' }, new TxnPlan(guard, leaderKey), state)).toMatchObject({ result: 'failed', reason: 'SubnetConflict' });
  });
});
