// A ContainerNic being deleted counts as freeing its address (macvlan-freeing.ts) only while its
// node's agent reports itself: that agent takes the interface out and its report lets the claim
// go. On a node whose agent does not beat (never started, or a Node made again that no agent
// beat for yet, its former agent's reports still there) the claim may stay for good, and a
// pool counted as "being freed" would never be said used up.
import { describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { plannerCtx } from './planner-ctx.js';
import { claimsLeaving } from '../../pkg/controller/macvlan-freeing.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import { macvlanAddressRange } from '../../pkg/ipam/plan.js';

const client = {} as unknown as Etcd3;
const spec = { subnet: '10.20.0.0/16', gateway: '10.20.255.254', ipRange: '10.20.0.0/29', parent: 'eth0', mode: 'bridge', hostShim: false, blockPrefix: 28, dockerIPAM: 'xnet' };

function fixture(beats: boolean) {
  const { model, seed, ctx } = plannerCtx(client);
  const m = { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'lan', uid: 'lan-uid', generation: 1 }, spec };
  seed(model.keys.object('MacvlanNet', 'lan'), m);
  seed(model.keys.object('Node', 'z'), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'z', uid: 'z', generation: 1 }, spec: {} });
  // the NIC is marked deleting; z's (former) agent had it in its container
  seed(model.keys.object('ContainerNic', 'z-eth1'), { apiVersion: 'xnet.io/v1alpha1', kind: 'ContainerNic', metadata: { name: 'z-eth1', uid: 'nic-uid', generation: 1, deletionTimestamp: new Date().toISOString(), finalizers: ['xnet.io/interface-removed'] }, spec: { node: 'z', container: 'c', ifName: 'eth1', network: { macvlanNet: 'lan' } } });
  seed(model.keys.status('ContainerNic', 'z-eth1', { node: 'z' }), { containerId: 'id-c' });
  seed(model.ipam.claim('macvlannets', 'lan', 'addresses', parseIPv4('10.20.0.1')), { owner: { kind: 'ContainerNic', name: 'z-eth1', uid: 'nic-uid' }, role: 'nic', ip: '10.20.0.1' });
  if (beats) seed(model.keys.status('Node', 'z', { node: 'z' }), { lastHeartbeatTime: new Date().toISOString() });
  return { ctx, m: m as never, range: macvlanAddressRange(spec as never, []) };
}

describe('claimsLeaving: a ContainerNic being deleted', () => {
  it('frees its address while its node\'s agent beats', () => {
    const { ctx, m, range } = fixture(true);
    expect(claimsLeaving(ctx, m, range)).toBe(true);
  });

  it('does not while its node\'s agent does not beat (never started, or its Node made again): its claim may stay', () => {
    const { ctx, m, range } = fixture(false);
    expect(claimsLeaving(ctx, m, range)).toBe(false);
  });
});
