// Of two HostSubnets of a node on one ClusterNetwork (written around xctl, which refuses the
// second), the controller puts a new NIC on the older, the one the node's agent acts on
// (agent/names.ts): on the younger its veth would wait for a bridge never made.
import { describe, expect, it } from 'vitest';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { allocateNic } from '../../pkg/controller/nics.js';
import { API_VERSION } from '../../pkg/api/index.js';
import { guard, leaderKey, meta, modelFixture } from './model-fixture.js';

describe('the HostSubnet a new NIC goes on', () => {
  it('is the older of two on its node and network, whatever their names', () => {
    const { model, seed, ctx } = modelFixture();
    seed(model.keys.object('ClusterNetwork', 'c'), { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: meta('c'), spec: { cidr: '10.76.0.0/16', hostPrefix: 24 } });
    seed(model.keys.object('Node', 'n1'), { apiVersion: API_VERSION, kind: 'Node', metadata: meta('n1'), spec: {} });
    const hostSubnet = (name: string, created: string, subnet: string) => {
      seed(model.keys.object('HostSubnet', name), { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: meta(name, { creationTimestamp: created }), spec: { node: 'n1', clusterNetwork: 'c' } });
      seed(model.keys.status('HostSubnet', name, { controller: true }), { subnet, gateway: subnet.replace(/0\/24$/, '1'), dockerRange: subnet.replace(/0\/24$/, '128/25'), bridge: `b${name}` });
    };
    // the younger sorts first by name
    hostSubnet('z-older', '2026-12-01T00:00:00Z', '10.76.5.0/24');
    hostSubnet('a-younger', '2026-12-02T00:00:00Z', '10.76.1.0/24');
    seed(model.keys.object('ContainerNic', 'k'), { apiVersion: API_VERSION, kind: 'ContainerNic', metadata: meta('k', { finalizers: ['xnet.io/address-in-use'] }), spec: { node: 'n1', container: 'ct', ifName: 'eth1', network: { clusterNetwork: 'c' } } });
    const out = allocateNic(ctx, 'k', new TxnPlan(guard, leaderKey), new Map());
    expect(out).toMatchObject({ result: 'allocated', ip: expect.stringMatching(/^10\.76\.5\./) });
  });
});
