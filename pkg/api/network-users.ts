// Which ContainerNics use a network: the rule `xctl delete` holds a ClusterNetwork or
// MacvlanNet to (and a HostSubnet or Node, whose delete takes addresses the same way). A
// network deleted while NICs use it takes their addresses at once (the
// controller releases them, the agents take the interfaces out of their containers), so
// xctl refuses such a delete unless told (--force), as an admission check would: nothing is
// marked, so a delete typed by mistake leaves nothing to undo.
import type { ContainerNic, HostSubnet } from './types.js';
import type { Kind } from './kinds.js';

export type NetworkKind = 'ClusterNetwork' | 'MacvlanNet';

export const isNetworkKind = (kind: string): kind is NetworkKind => kind === 'ClusterNetwork' || kind === 'MacvlanNet';

/** The kinds whose delete `xctl delete` checks for ContainerNics using them, and holds to that check (store delete-guard.ts). */
export const isInUseChecked = (kind: string): boolean => isNetworkKind(kind) || kind === 'HostSubnet' || kind === 'Node';

/** The kinds whose objects use what the in-use check guards: their key ranges are the guard's compares. */
export const IN_USE_BY_KINDS: readonly Kind[] = ['ContainerNic'];

/**
 * Where a kind goes in a delete of several transactions: what uses something before what it
 * uses, so that a delete stopped between two transactions leaves nothing using what it deleted.
 * ContainerNics (IN_USE_BY_KINDS) use networks, HostSubnets and Nodes; a HostSubnet is made for
 * a ClusterNetwork and a Node; those, and any other kind, go last.
 */
function deleteRank(kind: string): number {
  if (IN_USE_BY_KINDS.includes(kind as Kind)) return 0;
  return kind === 'HostSubnet' ? 1 : 2;
}

/**
 * The indices of `items` in the order a delete goes: dependents first (deleteRank), each kind
 * in the order given (a stable sort), so kubectl's "a delete that stops midway is consistent"
 * holds however a manifest lists them.
 */
export function dependentsFirst(items: ReadonlyArray<{ kind: string }>): number[] {
  return items.map((_, i) => i).sort((a, b) => deleteRank(items[a].kind) - deleteRank(items[b].kind) || a - b);
}

/** The network a NIC is on, as "<Kind>/<name>". */
export function nicNetworkRef(nic: ContainerNic): string | undefined {
  const n = nic.spec.network;
  if (n.clusterNetwork) return `ClusterNetwork/${n.clusterNetwork}`;
  if (n.macvlanNet) return `MacvlanNet/${n.macvlanNet}`;
  return undefined;
}

/**
 * Per network of `networks` ("<Kind>/<name>"), the names of the NICs on it that keep using it:
 * not being deleted already (their agents take them out whatever happens to the network), and
 * not named in `going` ("ContainerNic/<name>": deleted in the same request). Sorted by name.
 */
export function networkUsers(networks: Iterable<string>, nics: Iterable<ContainerNic>, going: ReadonlySet<string>): Map<string, string[]> {
  const out = new Map<string, string[]>([...networks].map((n) => [n, []]));
  for (const nic of nics) {
    const ref = nicNetworkRef(nic);
    const users = ref === undefined ? undefined : out.get(ref);
    if (!users || nic.metadata.deletionTimestamp || going.has(`ContainerNic/${nic.metadata.name}`)) continue;
    users.push(nic.metadata.name);
  }
  for (const users of out.values()) users.sort();
  return out;
}

/**
 * The NICs that keep using a HostSubnet: on its node and its ClusterNetwork, not being deleted
 * and not in `going`. Its delete takes their addresses as a network's does: the controller makes
 * the node a HostSubnet anew, on another block while the old one's Docker network stays, so each
 * NIC is renumbered (a pinned spec.ip turns OutOfRange). A NIC whose status.hostSubnet names
 * another HostSubnet is not one of them. Sorted by name.
 */
export function hostSubnetUsers(hs: HostSubnet, nics: Iterable<ContainerNic>, going: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const nic of nics) {
    if (nic.spec.node !== hs.spec.node || nic.spec.network.clusterNetwork !== hs.spec.clusterNetwork) continue;
    // one the controller put on another HostSubnet (of two made around xctl, the other is the
    // one DockerNetworkConflict tells the admin to delete) keeps its address
    const on = nic.status?.hostSubnet;
    if (on !== undefined && on !== hs.metadata.name) continue;
    if (nic.metadata.deletionTimestamp || going.has(`ContainerNic/${nic.metadata.name}`)) continue;
    out.push(nic.metadata.name);
  }
  return out.sort();
}

/**
 * The NICs that keep using a HostSubnet whose key does not decode (its node and network cannot
 * be read): those whose status.hostSubnet, the controller's word, names it, not being deleted
 * and not in `going`. Sorted by name.
 */
export function reportedHostSubnetUsers(name: string, nics: Iterable<ContainerNic>, going: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const nic of nics) {
    if (nic.status?.hostSubnet !== name || nic.metadata.deletionTimestamp || going.has(`ContainerNic/${nic.metadata.name}`)) continue;
    out.push(nic.metadata.name);
  }
  return out.sort();
}

/**
 * The NICs that keep using a Node: every one whose spec.node names it, on any network, not being
 * deleted and not in `going`. Its delete takes their addresses as a network's does: the
 * controller deletes the HostSubnets made for the node and frees its MacvlanNet parts, so each
 * NIC loses its address; an agent still running re-registers, the Node and its HostSubnets are
 * made again, and the NICs get addresses anew, not necessarily the ones they had. Sorted by name.
 */
export function nodeUsers(node: string, nics: Iterable<ContainerNic>, going: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const nic of nics) {
    if (nic.spec.node !== node || nic.metadata.deletionTimestamp || going.has(`ContainerNic/${nic.metadata.name}`)) continue;
    out.push(nic.metadata.name);
  }
  return out.sort();
}
