// A ContainerNic pinned by spec.ip whose item the pool executor rolled back (it did not fit its
// transaction) or rejected (its commit failed) is planned again in a later round, which shares
// the round state while earlier rounds are in flight. The address it marked taken there is its
// own: it must get it, not IPConflict "already used by another ContainerNic allocated at the
// same time" (a status naming a conflict with itself, and a backoff). Another NIC pinned to
// that address in those rounds still conflicts.
import { describe, expect, it } from 'vitest';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { allocateNic } from '../../pkg/controller/nics.js';
import { API_VERSION } from '../../pkg/api/index.js';
import { guard, leaderKey, meta, modelFixture } from './model-fixture.js';

function fixture() {
  const { model, seed, ctx } = modelFixture();
  const nic = (name: string, ip: string) =>
    seed(model.keys.object('ContainerNic', name), { apiVersion: API_VERSION, kind: 'ContainerNic', metadata: meta(name), spec: { node: 'n1', container: name, ifName: 'eth1', network: { clusterNetwork: 'c' }, ip } });
  seed(model.keys.object('Node', 'n1'), { apiVersion: API_VERSION, kind: 'Node', metadata: meta('n1'), spec: {} });
  seed(model.keys.object('ClusterNetwork', 'c'), { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: meta('c'), spec: { cidr: '10.76.0.0/16', hostPrefix: 24 } });
  seed(model.keys.object('HostSubnet', 'c-n1'), { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: meta('c-n1'), spec: { node: 'n1', clusterNetwork: 'c' } });
  seed(model.keys.status('HostSubnet', 'c-n1', { controller: true }), { subnet: '10.76.0.0/24', gateway: '10.76.0.1', dockerRange: '10.76.0.128/25', bridge: 'br00' });
  return { ctx, nic };
}

describe('a pinned ContainerNic planned again in rounds that share a round state', () => {
  it('gets its address after its first plan was rolled back', () => {
    const { ctx, nic } = fixture();
    nic('pinned', '10.76.0.9');
    const round = new Map();
    const first = new TxnPlan(guard, leaderKey);
    const m = first.mark();
    expect(allocateNic(ctx, 'pinned', first, round)).toMatchObject({ result: 'allocated', ip: '10.76.0.9' });
    first.rollback(m);
    expect(allocateNic(ctx, 'pinned', new TxnPlan(guard, leaderKey), round)).toMatchObject({ result: 'allocated', ip: '10.76.0.9' });
  });

  it('still refuses the address to another NIC pinned to it in those rounds', () => {
    const { ctx, nic } = fixture();
    nic('a', '10.76.0.9');
    nic('b', '10.76.0.9');
    const round = new Map();
    expect(allocateNic(ctx, 'a', new TxnPlan(guard, leaderKey), round)).toMatchObject({ result: 'allocated', ip: '10.76.0.9' });
    expect(allocateNic(ctx, 'b', new TxnPlan(guard, leaderKey), round)).toMatchObject({ result: 'waiting', reason: 'IPConflict' });
  });
});
