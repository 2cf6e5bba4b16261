// A HostSubnet create the pool executor rolls back (it did not fit its transaction) is planned
// again in the next round, which shares the round state while earlier rounds are in flight:
// it must be the create there, not "skipped" as made by a plan that no longer holds it (the
// node would be left without a HostSubnet until something else queued it). A second request
// for a pair whose create is still in a plan is skipped.
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
  seed(model.keys.object('Node', 'n'), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'n', uid: 'n', generation: 1 }, spec: {} });
  return { ctx, objKey: model.keys.object('HostSubnet', 'cn-n') };
}

const create = { type: 'create', clusterNetwork: 'cn', node: 'n' } as const;

describe('a HostSubnet create in rounds that share a round state', () => {
  it('is planned again after the executor rolled it back', () => {
    const { ctx, objKey } = fixture();
    const state: RoundState = new Map();
    const first = new TxnPlan(guard, leaderKey);
    const m = first.mark();
    expect(planHostSubnet(ctx, create, first, state).result).toBe('created');
    first.rollback(m);
    const next = new TxnPlan(guard, leaderKey);
    expect(planHostSubnet(ctx, create, next, state)).toMatchObject({ result: 'created', name: 'cn-n' });
    expect(next.writes(objKey)).toBe(true);
  });

  it('is skipped while another plan of those rounds holds it', () => {
    const { ctx } = fixture();
    const state: RoundState = new Map();
    expect(planHostSubnet(ctx, create, new TxnPlan(guard, leaderKey), state).result).toBe('created');
    expect(planHostSubnet(ctx, create, new TxnPlan(guard, leaderKey), state).result).toBe('skipped');
  });
});
