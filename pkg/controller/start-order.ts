// The order in which a term start queues every object (term.ts). All are reconciled whatever
// their status says; the order only decides what comes first: what users wait on. At a
// takeover on 1,000 nodes, re-checking every Node and HostSubnet took the new leader half a
// second before the first waiting NIC was planned (docs/scale.md, "Ninth pass").
import type { ContainerNic } from '../api/index.js';
import type { Status } from './context.js';
import type { Model } from './model.js';
import { objectKey } from './events.js';

export interface StartObjects {
  clusterNetworks: string[];
  macvlanNets: string[];
  /** every ContainerNic, and whether its stored allocation looks current (nicLooksAllocated) */
  nics: Array<{ name: string; allocated: boolean }>;
  nodes: string[];
  hostSubnets: string[];
  /** nodes that reported themselves and have no Node object yet */
  joinedNodes: string[];
}

/**
 * Networks first (a NIC's pool), then the NICs that have no current address, then the Nodes
 * (and nodes to make) and HostSubnets, then the NICs whose address looks current. A NIC whose
 * node still needs its HostSubnet waits for it as at any other time (term.ts, waiters).
 */
export function startOrder(o: StartObjects): string[] {
  return [
    ...o.clusterNetworks.map((n) => objectKey('ClusterNetwork', n)),
    ...o.macvlanNets.map((n) => objectKey('MacvlanNet', n)),
    ...o.nics.filter((n) => !n.allocated).map((n) => objectKey('ContainerNic', n.name)),
    ...o.nodes.map((n) => objectKey('Node', n)),
    ...o.joinedNodes.map((n) => objectKey('Node', n)),
    ...o.hostSubnets.map((n) => objectKey('HostSubnet', n)),
    ...o.nics.filter((n) => n.allocated).map((n) => objectKey('ContainerNic', n.name)),
  ];
}

/** Whether the controller's stored status gives the NIC an address for its current spec. */
export function nicLooksAllocated(nic: ContainerNic, status: Status | undefined): boolean {
  return !nic.metadata.deletionTimestamp && !!status?.ip && status.observedGeneration === nic.metadata.generation;
}

const names = (entries: Iterable<{ obj: { metadata: { name: string } } }>): string[] => [...entries].map((e) => e.obj.metadata.name);

/** Every object the cache holds, as startOrder sorts them. */
export function startObjects(m: Model): StartObjects {
  return {
    clusterNetworks: names(m.objects('ClusterNetwork')),
    macvlanNets: names(m.objects('MacvlanNet')),
    nics: [...m.objects<ContainerNic>('ContainerNic')].map((e) => ({
      name: e.obj.metadata.name, allocated: nicLooksAllocated(e.obj, m.controllerStatus('ContainerNic', e.obj.metadata.name, e.obj)?.status),
    })),
    nodes: names(m.objects('Node')),
    hostSubnets: names(m.objects('HostSubnet')),
    // nodes that joined (reported themselves) while no leader ran: their Node is still to make
    joinedNodes: [...m.reportedNodes()].filter((n) => !m.node(n)),
  };
}
