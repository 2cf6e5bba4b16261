// A HostSubnet create whose transaction failed (etcd did not answer in time, or refused it for
// a reason that is no conflict) is rejected; its Node's reconcile fails and is tried again, in a
// round that shares the round state while earlier rounds are in flight. It must be the create
// there, not "skipped" as made by the plan that failed: the Node's reconcile then succeeded,
// and the node had no HostSubnet until something else queued it (a heartbeat of its agent; an
// admin's Node with no agent yet: never). As hostsubnet-create-rollback.test.ts for a plan
// rolled back.
import { describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { guard, leaderKey, plannerCtx } from './planner-ctx.js';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { planHostSubnet } from '../../pkg/controller/hostsubnets.js';
import type { RoundState } from '../../pkg/controller/pool-executor.js';

const unanswered = { kv: { txn: async () => { throw new Error('4 DEADLINE_EXCEEDED: Deadline exceeded'); } } } as unknown as Etcd3;

describe('a HostSubnet create whose transaction failed', () => {
  it('is planned again as the create in a round sharing the state', async () => {
    const { model, seed, ctx } = plannerCtx(unanswered);
    seed(model.keys.object('ClusterNetwork', 'cn'), { apiVersion: 'xnet.io/v1alpha1', kind: 'ClusterNetwork', metadata: { name: 'cn', uid: 'cn', generation: 1 }, spec: { cidr: '10.80.0.0/16', hostPrefix: 24 } });
    seed(model.keys.object('Node', 'n'), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'n', uid: 'n', generation: 1 }, spec: {} });
    const create = { type: 'create', clusterNetwork: 'cn', node: 'n' } as const;
    const state: RoundState = new Map();
    const first = new TxnPlan(guard, leaderKey);
    expect(planHostSubnet(ctx, create, first, state).result).toBe('created');
    await expect(first.commit(unanswered, model.cache)).rejects.toThrow(/DEADLINE/);
    const next = new TxnPlan(guard, leaderKey);
    expect(planHostSubnet(ctx, create, next, state)).toMatchObject({ result: 'created', name: 'cn-n' });
    expect(next.writes(model.keys.object('HostSubnet', 'cn-n'))).toBe(true);
  });
});
