// A ContainerNic or HostSubnet names its node by spec.node. xctl accepts a name no Node has
// (the Node may come later: the controller makes it when that node's agent joins), so a typo
// there (host1 for host-1) would only ever say "waiting". The waiting messages say that no
// such Node exists, so that an operator can tell a typo from an agent that is not started;
// events.ts looks at those objects again when their Node comes or goes. A MacvlanNet's
// per-node overrides (spec.nodes[].name) likewise: its Ready message names those of no Node,
// and those of a Node its nodeSelector does not select.
import { matchLabels } from '../api/labels.js';
import { unknownOverrideMessage, unknownOverrideNodes, unselectedOverrideMessage } from '../api/macvlan-parent.js';
import { missingNetworkMessage } from '../api/validate.js';
import { didYouMean } from '../api/suggest.js';
import type { ClusterNetwork, MacvlanNet, Node } from '../api/index.js';
import type { Model } from './model.js';

/** Whether no Node of that name exists (one whose key does not decode exists: it may be the node's). One Map lookup. */
export function nodeAbsent(model: Pick<Model, 'node' | 'cache' | 'keys'>, node: string): boolean {
  return !model.node(node) && !model.cache.isRefused(model.keys.object('Node', node));
}

/**
 * `; no Node "host1" exists (did you mean "host-1"?): check spec.node`, the closest Nodes named as
 * `xctl verify` names it (verify/unbound.ts); without one close, `(no agent has joined under that
 * name)`. The closest is the one of when the object was last looked at (a Node that joins later
 * is suggested at the object's next pass).
 */
export function missingNodeNote(model: Pick<Model, 'node' | 'cache' | 'keys' | 'closestNode'>, node: string): string {
  if (!nodeAbsent(model, node)) return '';
  const meant = model.closestNode(node);
  return `; no Node "${node}" exists${meant.length ? didYouMean(meant) : ' (no agent has joined under that name)'}: check spec.node`;
}

/**
 * `; spec.nodes names no Node "host2" (did you mean "host-2"?): ...` when an override of the
 * MacvlanNet names a Node that does not exist (one whose key does not decode exists); '' else.
 * Every MacvlanNet is looked at again when a Node comes or goes (events.ts, macvlanNetsOf).
 */
export function unknownOverrideNote(model: Pick<Model, 'node' | 'cache' | 'keys' | 'objects'>, m: MacvlanNet): string {
  const unknown = unknownOverrideNodes(m.spec, (n) => !!model.node(n) || model.cache.isRefused(model.keys.object('Node', n)));
  if (!unknown.length) return '';
  return `; ${unknownOverrideMessage(unknown, [...model.objects<Node>('Node')].map((n) => n.obj.metadata.name))}`;
}

/**
 * `; spec.nodes names "host-3", which nodeSelector does not select: ...` when an override names
 * a Node that exists but is not one of the MacvlanNet's nodes (`selected`: the names its status
 * lists), a label missing from the node or a name meant for another: the override applies to
 * no node. Every MacvlanNet is looked at again when a Node changes (its labels too).
 */
export function unselectedOverrideNote(model: Pick<Model, 'node'>, m: MacvlanNet, selected: ReadonlySet<string>): string {
  const message = unselectedOverrideMessage((m.spec.nodes ?? []).map((n) => n.name).filter((n) => !!model.node(n) && !selected.has(n)));
  return message && `; ${message}`;
}

/**
 * A ContainerNic on a node that its ClusterNetwork's nodeSelector does not select (a label
 * removed or never set, or the wrong spec.node) waits for a HostSubnet that never comes: says
 * so, rather than only "no allocated HostSubnet yet". Empty when the node matches, when no
 * Node of that name exists (missingNodeNote says that) or when a HostSubnet of the pair exists
 * (one written by hand binds the node whatever the selector).
 */
export function notSelectedNote(model: Pick<Model, 'node' | 'hostSubnetsOf'>, cn: ClusterNetwork, node: string): string {
  const want = cn.spec.nodeSelector?.matchLabels;
  if (!want || !Object.keys(want).length) return '';
  const n = model.node(node);
  if (!n || matchLabels(want, n.obj.metadata.labels)) return '';
  if (model.hostSubnetsOf(cn.metadata.name, node).length) return '';
  return `; ClusterNetwork "${cn.metadata.name}" does not select node "${node}" (nodeSelector ${labelText(want)}; the node's labels: ${labelText(n.obj.metadata.labels) || 'none'}): label the node or change spec.node`;
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
  return `; no Node matches nodeSelector ${labelText(want)}`;
}

const labelText = (l: Record<string, string> | undefined): string => Object.entries(l ?? {}).map(([k, v]) => `${k}=${v}`).join(',');

/** A network a NIC or HostSubnet names that no object has: says so, with the closest name there is (a typo). */
export function missingNetwork(model: Pick<Model, 'objects'>, kind: 'ClusterNetwork' | 'MacvlanNet', name: string): string {
  return missingNetworkMessage(kind, name, [...model.objects<ClusterNetwork | MacvlanNet>(kind)].map((o) => o.obj.metadata.name));
}
