// A HostSubnet marked deleting (Terminating: hostsubnet-finalizer.ts) hands out no address to a
// new ContainerNic. Before, a NIC applied on its node meanwhile took an address in its block: an
// address in a block on its way out, which the agent (keeping the HostSubnet's network as it is
// until it goes) never put on the wire, and which moved again once the HostSubnet was made anew.
// Now such a NIC waits (WaitingForHostSubnet, saying that the node's HostSubnet is being deleted)
// and is woken when a HostSubnet of the node is allocated again, as any NIC waiting for one.
// A NIC that already holds an address in the block keeps it until the HostSubnet goes (its
// container still uses it; events.ts strandedNics moves it then). The choice a round remembers
// per node (nic-target.ts clusterTarget) is dropped once the HostSubnet as cached changes; a NIC
// planned before the mark reached the cache commits as planned (no compare on the HostSubnet
// object: one more per node and transaction on the hot path), as if applied just before it.
import type { ClusterNetwork, HostSubnet } from '../api/index.js';
import { parseCidr } from '../ip/ipv4.js';
import { cidrInterval, contains } from '../ipam/ranges.js';
import { isDeletingHostSubnet } from './hostsubnet-finalizer.js';
import type { Model } from './model.js';
import { missingNodeNote, notSelectedNote } from './node-missing.js';

/** Whether a NIC may be given an address in `hs` (allocated as `subnet`): not one being deleted, unless it holds `holds` there already. */
export function offersAddresses(hs: HostSubnet, subnet: string, holds: number | undefined): boolean {
  if (!isDeletingHostSubnet(hs)) return true;
  return holds !== undefined && contains([cidrInterval(parseCidr(subnet))], holds);
}

/** Why a NIC of `node` on `cn` has no HostSubnet to take an address from when the node's are being deleted; '' when none is. */
export function deletingHostSubnetWait(model: Pick<Model, 'hostSubnetsOf'>, cn: string, node: string): string {
  const deleting = model.hostSubnetsOf(cn, node).filter((hs) => isDeletingHostSubnet(hs.obj)).map((hs) => `"${hs.obj.metadata.name}"`);
  if (!deleting.length) return '';
  return `HostSubnet ${deleting.join(', ')} of node "${node}" on ClusterNetwork "${cn}" is being deleted (Terminating): no new address is given in its block; the NIC gets one once a HostSubnet of the node exists again`;
}

/** Why a NIC of `node` on `cn` has no HostSubnet to take an address from (WaitingForHostSubnet). */
export function noHostSubnetWhy(model: Model, cn: ClusterNetwork, node: string): string {
  return deletingHostSubnetWait(model, cn.metadata.name, node)
    || `node "${node}" has no allocated HostSubnet on ClusterNetwork "${cn.metadata.name}" yet${missingNodeNote(model, node)}${notSelectedNote(model, cn, node)}`;
}
