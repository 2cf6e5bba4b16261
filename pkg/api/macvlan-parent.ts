// Which interface a MacvlanNet's macvlans hang off on one node: decided here once, for the
// controller's status (nodes[].parent) and the agent that makes the links.
import { matchLabels } from './labels.js';
import { suggestion } from './suggest.js';
import { firstFew } from '../first-few.js';

/** Precedence: the per-node override, then the network's parent, then the node's interface. */
export function macvlanBaseParent(
  spec: { parent?: string; nodes?: Array<{ name: string; parent?: string }> }, node: string, nodeInterface: string | undefined,
): string | undefined {
  return spec.nodes?.find((n) => n.name === node)?.parent ?? spec.parent ?? nodeInterface;
}

/** The interface macvlans attach to: `<parent>.<vlan>` when a VLAN is set. */
export function withVlan(parent: string, vlan: number | undefined): string {
  return vlan ? `${parent}.${vlan}` : parent;
}

/** Most names of spec.nodes that name no Node a message spells out. */
const MAX_UNKNOWN_SHOWN = 3;

/**
 * The names of spec.nodes[] that no Node has (`isNode` says which do), in spec order: an
 * override is per node, and a typo there (`host2` for `host-2`) applies to no node while the
 * node it meant silently uses the default parent. Nothing refuses it (the node may join
 * later), so the controller's status and `xctl apply` say so (unknownOverrideMessage).
 */
export function unknownOverrideNodes(spec: { nodes?: Array<{ name: string }> }, isNode: (name: string) => boolean): string[] {
  return (spec.nodes ?? []).map((n) => n.name).filter((n) => !isNode(n));
}

/**
 * `spec.nodes names no Node "host2" (did you mean "host-2"?): its override applies to no node
 * until a node of that name joins; check spec.nodes[].name`, the closest existing Node name
 * suggested for each (the first three; the rest counted). '' for none.
 */
export function unknownOverrideMessage(unknown: string[], nodes: string[]): string {
  if (!unknown.length) return '';
  const shown = firstFew(unknown.map((n) => `"${n}"${suggestion(n, nodes)}`), MAX_UNKNOWN_SHOWN);
  const applies = unknown.length === 1 ? 'its override applies to no node until a node of that name joins' : 'their overrides apply to no node until nodes of those names join';
  return `spec.nodes names no Node ${shown}: ${applies}; check spec.nodes[].name`;
}

/**
 * `spec.nodes names "host-3", which nodeSelector does not select: ...` for overrides naming Nodes
 * the MacvlanNet does not select (a label missing on the node): they apply to no node either.
 * The first three names; '' for none.
 */
export function unselectedOverrideMessage(names: string[]): string {
  if (!names.length) return '';
  const shown = firstFew(names.map((n) => `"${n}"`), MAX_UNKNOWN_SHOWN);
  const applies = names.length === 1 ? 'its override applies to no node' : 'their overrides apply to no node';
  return `spec.nodes names ${shown}, which nodeSelector does not select: ${applies} until the node is labelled to match; check spec.nodes[].name and the node's labels`;
}

/** A Node as `xctl apply` knows it: stored or in the batch; labels unknown for a key that does not decode. */
export interface KnownNode { name: string; labels?: Record<string, string>; unreadable?: boolean }

type BatchObject = { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: unknown };

/**
 * `xctl apply`'s warnings for the batch (kubectl's `Warning:` lines; the apply goes on): each
 * MacvlanNet whose spec.nodes names a Node that is neither stored (`stored`, a key that does not
 * decode included) nor in the batch, or one its nodeSelector does not select (the batch's labels
 * over the stored ones). The messages are the controller's (node-missing.ts).
 */
export function overrideNodeWarnings(batch: BatchObject[], stored: KnownNode[]): string[] {
  const known = new Map(stored.map((n) => [n.name, n]));
  for (const o of batch) if (o.kind === 'Node') known.set(o.metadata.name, { name: o.metadata.name, labels: o.metadata.labels });
  return batch.flatMap((o) => {
    if (o.kind !== 'MacvlanNet') return [];
    const spec = o.spec as { nodes?: Array<{ name: string }>; nodeSelector?: { matchLabels?: Record<string, string> } };
    const unknown = unknownOverrideNodes(spec, (n) => known.has(n));
    const unselected = (spec.nodes ?? []).map((n) => known.get(n.name))
      .filter((n): n is KnownNode => !!n && !n.unreadable && !matchLabels(spec.nodeSelector?.matchLabels, n.labels)).map((n) => n.name);
    const warn = (text: string) => (text ? [`macvlannet/${o.metadata.name}: ${text}`] : []);
    return [...warn(unknownOverrideMessage(unknown, [...known.keys()])), ...warn(unselectedOverrideMessage(unselected))];
  });
}
