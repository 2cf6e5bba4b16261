// Objects declared for a node that has no Node (a typo in spec.node: host1 for host-1). xctl
// accepts the name, since the Node may come later (the controller makes it when that node's
// agent joins), but until then no agent is there to hold the object, so it can never be
// Ready: no host's report lists it, and verify, which reads each Node's host, would be clean.
// They are differences of the node they name, as the controller's waiting message says
// (controller/node-missing.ts), with the closest Node name there is.
import type { AnyObject } from '../api/index.js';
import { unknownOverrideMessage, unknownOverrideNodes } from '../api/macvlan-parent.js';
import { suggestion } from '../api/suggest.js';
import type { Store } from '../store/types.js';
import type { Difference } from './verify.js';

/** The names of every Node, one whose key does not decode too (it exists: an agent may serve it). */
async function nodeNames(store: Store): Promise<string[]> {
  const listed = await store.list('Node');
  // a skipped key's name is its last segment, whatever prefix the store has (as batch.ts reads it)
  return [...listed.items.map((n) => n.metadata.name), ...(listed.skipped ?? []).map((s) => s.key.slice(s.key.lastIndexOf('/') + 1))];
}

const what = (o: AnyObject) => `${o.kind.toLowerCase()}/${o.metadata.name}`;

/** One difference per ContainerNic or HostSubnet whose spec.node, and MacvlanNet whose spec.nodes[].name, names no Node. */
export async function unboundObjects(store: Store): Promise<Difference[]> {
  const nodes = await nodeNames(store);
  const known = new Set(nodes);
  const out: Difference[] = [];
  for (const kind of ['HostSubnet', 'ContainerNic'] as const) {
    for (const o of (await store.list(kind)).items) {
      const node = (o.spec as { node: string }).node;
      if (known.has(node)) continue;
      out.push({ host: node, what: what(o), expected: `Node "${node}" (spec.node)`, found: `none: no Node "${node}" exists${suggestion(node, nodes)}: check spec.node` });
    }
  }
  for (const m of (await store.list('MacvlanNet')).items) {
    const unknown = unknownOverrideNodes(m.spec as { nodes?: { name: string }[] }, (n) => known.has(n));
    for (const node of unknown) {
      out.push({ host: node, what: what(m), expected: `Node "${node}" (spec.nodes[].name)`, found: `none: ${unknownOverrideMessage([node], nodes)}` });
    }
  }
  return out;
}
