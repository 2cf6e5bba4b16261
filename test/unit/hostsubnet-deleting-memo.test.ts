// The HostSubnet a round chose for a node's NICs is remembered in the round state, which outlives
// a round in flight (pool-executor.ts). A HostSubnet marked deleting since (xctl delete, held by a
// finalizer) must not keep handing out addresses through that memo: the next NIC of the node
// waits, WaitingForHostSubnet, saying the HostSubnet is being deleted (hostsubnet-deleting-nics.ts).
import { describe, expect, it } from 'vitest';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { allocateNic } from '../../pkg/controller/nics.js';
import { API_VERSION, HS_FINALIZER } from '../../pkg/api/index.js';
import { guard, leaderKey, meta, modelFixture } from './model-fixture.js';

describe('a round state that chose a HostSubnet since marked deleting', () => {
  it('gives the next NIC of the node no address in it', () => {
    const { model, seed, ctx } = modelFixture();
    seed(model.keys.object('ClusterNetwork', 'c'), { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: meta('c'), spec: { cidr: '10.76.0.0/16', hostPrefix: 24 } });
    seed(model.keys.object('Node', 'n1'), { apiVersion: API_VERSION, kind: 'Node', metadata: meta('n1'), spec: {} });
    const hs = (extra: Record<string, unknown>) =>
      seed(model.keys.object('HostSubnet', 'c-n1'), { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: meta('c-n1', { finalizers: [HS_FINALIZER, 'example.com/hold'], ...extra }), spec: { node: 'n1', clusterNetwork: 'c' } });
    hs({});
    seed(model.keys.status('HostSubnet', 'c-n1', { controller: true }), { subnet: '10.76.1.0/24', gateway: '10.76.1.1', dockerRange: '10.76.1.128/25', bridge: 'b1' });
    const nic = (name: string) => seed(model.keys.object('ContainerNic', name), { apiVersion: API_VERSION, kind: 'ContainerNic', metadata: meta(name, { finalizers: ['xnet.io/address-in-use'] }), spec: { node: 'n1', container: name, ifName: 'eth1', network: { clusterNetwork: 'c' } } });
    const state = new Map();
    nic('first');
    expect(allocateNic(ctx, 'first', new TxnPlan(guard, leaderKey), state)).toMatchObject({ result: 'allocated', ip: expect.stringMatching(/^10\.76\.1\./) });
    hs({ deletionTimestamp: '2026-12-06T00:00:00Z' });
    nic('second');
    const out = allocateNic(ctx, 'second', new TxnPlan(guard, leaderKey), state);
    expect(out).toMatchObject({ result: 'waiting', reason: 'WaitingForHostSubnet' });
    expect(out.message).toMatch(/^HostSubnet "c-n1" of node "n1" on ClusterNetwork "c" is being deleted \(Terminating\)/);
  });
});
