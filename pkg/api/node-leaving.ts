// What an apply takes away when a Node's labels or a network's nodeSelector change: the
// ClusterNetworks and MacvlanNets whose nodeSelector selected a node and no longer does. The controller acts on it
// (a leaving node's HostSubnets made for it removed, its MacvlanNet part released); `xctl apply`
// says it ahead, as kubectl prints an API server's warnings. Selection is labels.ts's rule,
// the controller's own; which HostSubnets go is managed-by.ts's.
import { matchLabels } from './labels.js';
import { isControllerMade } from './managed-by.js';
import type { ContainerNic } from './types.js';
import { firstFew } from '../first-few.js';

type Obj = { kind: string; metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string }; spec?: unknown };

export interface NetworkLeft { node: string; kind: 'ClusterNetwork' | 'MacvlanNet'; network: string }

const selectorOf = (o: Obj) => (o.spec as { nodeSelector?: { matchLabels?: Record<string, string> } } | undefined)?.nodeSelector?.matchLabels;
const keyOf = (o: Obj) => `${o.kind}/${o.metadata.name}`;
const isNetwork = (o: Obj) => o.kind === 'ClusterNetwork' || o.kind === 'MacvlanNet';

/**
 * Each network a stored Node leaves: selected by the stored network with the stored labels, not
 * by the network as the apply leaves it (the batch's, else the stored one) with the labels as
 * the apply leaves them. So a Node of the batch relabelled, and every stored Node a network of
 * the batch no longer selects (`stored` holds the Nodes when the batch has a Node or a network:
 * storedKindsToCheck). A Node created by the batch leaves nothing; one joining a network takes
 * nothing away and is not listed. A network being deleted is going anyway.
 */
export function networksLeft(batch: Obj[], stored: Obj[]): NetworkLeft[] {
  const before = new Map(stored.map((o) => [keyOf(o), o]));
  const after = new Map([...before, ...batch.map((o) => [keyOf(o), o] as const)]);
  const networks = [...after.values()].filter((o) => isNetwork(o) && !o.metadata.deletionTimestamp);
  return [...after.values()].filter((o) => o.kind === 'Node').flatMap((node) => {
    const old = before.get(keyOf(node));
    if (!old) return [];
    return networks
      .filter((net) => {
        const was = before.get(keyOf(net));
        return !!was && matchLabels(selectorOf(was), old.metadata.labels) && !matchLabels(selectorOf(net), node.metadata.labels);
      })
      .map((net) => ({ node: node.metadata.name, kind: net.kind as NetworkLeft['kind'], network: net.metadata.name }));
  });
}

/** Whether the HostSubnets are needed to word the warnings (a ClusterNetwork is left). */
export const needsHostSubnets = (left: NetworkLeft[]): boolean => left.some((l) => l.kind === 'ClusterNetwork');

/**
 * `node/host-1 no longer matches ClusterNetwork db's nodeSelector: its HostSubnet db-host-1 will
 * be removed`, `... MacvlanNet lan's nodeSelector: it leaves MacvlanNet lan`. `hostSubnets`: the
 * stored ones (of a ClusterNetwork left, those the controller made for the node are named).
 */
export function networkLeftWarnings(left: NetworkLeft[], hostSubnets: Obj[], nics: readonly ContainerNic[] = []): string[] {
  return left.map((l) => {
    const head = `node/${l.node} no longer matches ${l.kind} ${l.network}'s nodeSelector`;
    if (l.kind === 'MacvlanNet') return `${head}: it leaves MacvlanNet ${l.network}`;
    const gone = hostSubnets.filter((h) => {
      const spec = h.spec as { node?: string; clusterNetwork?: string } | undefined;
      return h.kind === 'HostSubnet' && spec?.node === l.node && spec.clusterNetwork === l.network && isControllerMade(h);
    }).map((h) => h.metadata.name);
    if (!gone.length) return `${head}: no HostSubnet of it will be made for the node`;
    return `${head}: its HostSubnet${gone.length > 1 ? 's' : ''} ${gone.join(', ')} will be removed${losers(l, nics)}`;
  });
}

/**
 * The ContainerNics that lose their address with the node's HostSubnets (and their interface in
 * their container), as `xctl delete hs` names them when it refuses: said, not refused, since a
 * label change is how a host is meant to leave a network.
 */
function losers(l: NetworkLeft, nics: readonly ContainerNic[]): string {
  const names = nics.filter((n) => n.spec.node === l.node && n.spec.network.clusterNetwork === l.network && !n.metadata.deletionTimestamp).map((n) => n.metadata.name);
  if (!names.length) return '';
  return names.length === 1
    ? `, and ContainerNic ${names[0]} loses its address and leaves its container`
    : `, and ContainerNics ${firstFew(names, 5)} lose their addresses and leave their containers`;
}
