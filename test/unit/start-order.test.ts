// The order a new term queues objects in (pkg/controller/start-order.ts): NICs still waiting
// for an address before the re-check of every Node and HostSubnet, settled NICs last.
import { describe, it, expect } from 'vitest';
import { nicLooksAllocated, startOrder } from '../../pkg/controller/start-order.js';
import type { ContainerNic } from '../../pkg/api/index.js';

describe('startOrder', () => {
  it('puts networks, then waiting NICs, then Nodes and HostSubnets, then settled NICs', () => {
    const keys = startOrder({
      clusterNetworks: ['default'], macvlanNets: ['lan'],
      nics: [{ name: 'done', allocated: true }, { name: 'new', allocated: false }],
      nodes: ['n1'], hostSubnets: ['default-n1'], joinedNodes: ['n2'],
    });
    expect(keys).toEqual([
      'ClusterNetwork/default', 'MacvlanNet/lan', 'ContainerNic/new',
      'Node/n1', 'Node/n2', 'HostSubnet/default-n1', 'ContainerNic/done',
    ]);
  });
});

describe('nicLooksAllocated', () => {
  const nic = (generation: number, deleting = false) => ({
    metadata: { name: 'x', generation, ...(deleting ? { deletionTimestamp: '2026-12-02T00:00:00Z' } : {}) },
  }) as unknown as ContainerNic;
  it('is true only for an address stored for the current generation of a NIC not being deleted', () => {
    expect(nicLooksAllocated(nic(2), { ip: '10.0.0.5', observedGeneration: 2 })).toBe(true);
    expect(nicLooksAllocated(nic(3), { ip: '10.0.0.5', observedGeneration: 2 })).toBe(false);
    expect(nicLooksAllocated(nic(2), { observedGeneration: 2 })).toBe(false);
    expect(nicLooksAllocated(nic(2), undefined)).toBe(false);
    expect(nicLooksAllocated(nic(2, true), { ip: '10.0.0.5', observedGeneration: 2 })).toBe(false);
  });
});
