// A ContainerNic or HostSubnet names its node by spec.node. xctl accepts a name no Node has
// (the Node may come later: the controller makes it when that node's agent joins), so a typo
// there (host1 for host-1) would only ever say "waiting". The waiting messages say that no
// such Node exists, so that an operator can tell a typo from an agent that is not started;
// events.ts looks at those objects again when their Node comes or goes.
import { matchLabels } from '../api/labels.js';
import { missingNetworkMessage } from '../api/validate.js';
import type { ClusterNetwork, MacvlanNet, Node } from '../api/index.js';
import type { Model } from './model.js';

export function missingNodeNote(model: Pick<Model, 'node' | 'cache' | 'keys'>, node: string): string {
  if (model.node(node) || model.cache.isRefused(model.keys.object('Node', node))) return '';
  return `; no Node "${node}" exists (no agent has joined under that name): check spec.node`;
}

/**
 * A ClusterNetwork whose nodeSelector matches no Node (a label typo) hands out nothing and
 * would say only "0 of N blocks allocated": its Ready message says why. Its count moves when a
 * Node comes to match (a HostSubnet is allocated), which looks at it again.
 */
export function noNodeSelected(model: Pick<Model, 'objects'>, cn: ClusterNetwork): string {
  const want = cn.spec.nodeSelector?.matchLabels;
  if (!want || !Object.keys(want).length) return '';
  for (const n of model.objects<Node>('Node')) if (matchLabels(want, n.obj.metadata.labels)) return '';
  return `; no Node matches nodeSelector ${Object.entries(want).map(([k, v]) => `${k}=${v}`).join(',')}`;
}

/** A network a NIC or HostSubnet names that no object has: says so, with the closest name there is (a typo). */
export function missingNetwork(model: Pick<Model, 'objects'>, kind: 'ClusterNetwork' | 'MacvlanNet', name: string): string {
  return missingNetworkMessage(kind, name, [...model.objects<ClusterNetwork | MacvlanNet>(kind)].map((o) => o.obj.metadata.name));
}
