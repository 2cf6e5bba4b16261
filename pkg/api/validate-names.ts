// `xctl apply`'s part of the naming rules (./names.ts): a Docker network name belongs to one
// ClusterNetwork or MacvlanNet (checked cluster-wide: which nodes an object selects can change
// with a label), and an explicit HostSubnet bridge is not the bridge of another HostSubnet of
// the same node (that it is no host's own link is a rule of the object alone: field-rules.ts);
// a ContainerNic's ifName is no other NIC's in the same container, and at most one NIC of a
// container is its default route; two MacvlanNets that can meet on a node use different parents.
import { dockerNetworkOf } from './docker-network.js';
import { matchLabels } from './labels.js';
import { withVlan } from './macvlan-parent.js';
import type { AnyObject, ContainerNic, HostSubnet, MacvlanNet, Node } from './types.js';

interface Entry { obj: AnyObject; batchIndex?: number; stored?: AnyObject }
interface NameIssue { index: number; path: (string | number)[]; message: string }

const reportable = (mine: Entry, other: Entry) => other.batchIndex === undefined || other.batchIndex < mine.batchIndex!;

function dockerNetworkNameIssues(all: Entry[]): NameIssue[] {
  const nets = all.filter((e) => e.obj.kind === 'ClusterNetwork' || e.obj.kind === 'MacvlanNet')
    .map((e) => ({ e, name: dockerNetworkOf(e.obj as { metadata: { name: string }; spec: { dockerNetwork?: string } }) }));
  const out: NameIssue[] = [];
  for (const n of nets) {
    if (n.e.batchIndex === undefined) continue;
    const other = nets.find((q) => q !== n && q.name === n.name && reportable(n.e, q.e));
    if (!other) continue;
    const explicit = (n.e.obj.spec as { dockerNetwork?: string }).dockerNetwork !== undefined;
    out.push({
      index: n.e.batchIndex, path: explicit ? ['spec', 'dockerNetwork'] : ['metadata', 'name'],
      message: `Docker network "${n.name}" is already the network of ${other.e.obj.kind} "${other.e.obj.metadata.name}"; set spec.dockerNetwork to another name`,
    });
  }
  return out;
}

function bridgeNameIssues(all: Entry[]): NameIssue[] {
  const hs = all.filter((e) => e.obj.kind === 'HostSubnet') as Array<Entry & { obj: HostSubnet }>;
  const out: NameIssue[] = [];
  for (const h of hs) {
    const bridge = h.obj.spec.bridge;
    if (h.batchIndex === undefined || bridge === undefined) continue;
    // a host link's name (eth0) is the object's own field rule (field-rules.ts), reported with its other problems
    const other = hs.find((o) => o !== h && o.obj.spec.node === h.obj.spec.node && reportable(h, o) && (o.obj.spec.bridge ?? o.obj.status?.bridge) === bridge);
    if (other) out.push({ index: h.batchIndex, path: ['spec', 'bridge'], message: `bridge ${bridge} is already used on node ${h.obj.spec.node} by HostSubnet "${other.obj.metadata.name}"` });
  }
  return out;
}

type NicEntry = Entry & { obj: ContainerNic };

/** Each NIC of the apply that another live NIC (stored, or earlier in the apply) shares a slot with, and that other one. */
function nicClashes(all: Entry[], slotOf: (n: ContainerNic) => string | undefined): Array<{ n: NicEntry; other: NicEntry }> {
  const nics = all.filter((e) => e.obj.kind === 'ContainerNic' && !e.obj.metadata.deletionTimestamp) as NicEntry[];
  const bySlot = new Map<string, NicEntry[]>();
  for (const n of nics) {
    const slot = slotOf(n.obj);
    if (slot !== undefined) bySlot.set(slot, [...(bySlot.get(slot) ?? []), n]);
  }
  const out: Array<{ n: NicEntry; other: NicEntry }> = [];
  for (const group of bySlot.values()) {
    for (const n of group) {
      const other = n.batchIndex === undefined ? undefined : group.find((o) => o !== n && reportable(n, o));
      if (other) out.push({ n, other });
    }
  }
  return out;
}

/**
 * Two ContainerNics with one ifName in one container (node and container as written): the
 * agent can make only one, the other reports InterfaceNameTaken. A NIC being deleted is not
 * counted: its interface goes with it, and the newer NIC then gets the name.
 */
function nicIfNameIssues(all: Entry[]): NameIssue[] {
  return nicClashes(all, (n) => JSON.stringify([n.spec.node, n.spec.container, n.spec.ifName])).map(({ n, other }) => {
    const s = n.obj.spec;
    return { index: n.batchIndex!, path: ['spec', 'ifName'], message: `${s.ifName} is already the interface of ContainerNic "${other.obj.metadata.name}" in container ${s.container} on node ${s.node}; choose another ifName` };
  });
}

/**
 * Two ContainerNics of one container that both want to be its default route: the agent would
 * hand the route from one to the other on every pass. One per container.
 */
function defaultRouteIssues(all: Entry[]): NameIssue[] {
  return nicClashes(all, (n) => (n.spec.defaultRoute ? JSON.stringify([n.spec.node, n.spec.container]) : undefined)).map(({ n, other }) => {
    const s = n.obj.spec;
    return { index: n.batchIndex!, path: ['spec', 'defaultRoute'], message: `ContainerNic "${other.obj.metadata.name}" is already the default route of container ${s.container} on node ${s.node}; only one NIC of a container may set defaultRoute` };
  });
}

/** Whether two nodeSelectors can select one node: unless some label must have two values. */
function selectorsMeet(a: MacvlanNet['spec']['nodeSelector'], b: MacvlanNet['spec']['nodeSelector']): boolean {
  const x = a?.matchLabels ?? {};
  const y = b?.matchLabels ?? {};
  return !Object.keys(x).some((k) => k in y && y[k] !== x[k]);
}

const sameParentPlace = (a: MacvlanNet['spec'], b: MacvlanNet['spec']) =>
  defaultParent(a) === defaultParent(b) && JSON.stringify(a.nodeSelector ?? {}) === JSON.stringify(b.nodeSelector ?? {});

/** A MacvlanNet's parent where no spec.nodes entry overrides it: spec.parent (else each node's interface), with its VLAN. */
const defaultParent = (s: MacvlanNet['spec']) => withVlan(s.parent ?? '<the node\'s interface>', s.vlan);

/**
 * Docker makes one macvlan network per parent interface ("network ... is already using parent
 * interface"): two MacvlanNets with one default parent and VLAN, whose selectors can meet on a
 * node, would leave one of them failing there. A MacvlanNet with per-node parents (spec.nodes) is
 * left to the node's agent, which reports Docker's refusal.
 */
function macvlanParentIssues(all: Entry[]): NameIssue[] {
  // a MacvlanNet with per-node parents is the agents' to judge, node by node
  const mvns = (all.filter((e) => e.obj.kind === 'MacvlanNet' && !e.obj.metadata.deletionTimestamp) as Array<Entry & { obj: MacvlanNet }>)
    .filter((m) => !m.obj.spec.nodes?.some((n) => n.parent !== undefined));
  const nodes = knownNodeInterfaces(all);
  return mvns.flatMap((m) => {
    // only a new one, or one whose parent, VLAN or selector changed: a pair stored before stays editable
    if (m.batchIndex === undefined || (m.stored && sameParentPlace((m.stored as MacvlanNet).spec, m.obj.spec))) return [];
    const clash = firstParentClash(m, mvns.filter((o) => o !== m && reportable(m, o)), nodes);
    if (!clash) return [];
    const path = m.obj.spec.vlan !== undefined ? ['spec', 'vlan'] : m.obj.spec.parent !== undefined ? ['spec', 'parent'] : ['metadata', 'name'];
    return [{ index: m.batchIndex, path, message: `MacvlanNet "${clash.other.obj.metadata.name}" already uses parent ${clash.where}; Docker makes one macvlan network per parent interface: set another spec.vlan (a VLAN sub-interface is a parent of its own), another spec.parent, or nodeSelectors that do not meet` }];
  });
}

type MvnEntry = Entry & { obj: MacvlanNet };
interface NodeInterface { name: string; labels?: Record<string, string>; iface: string }

/**
 * The interface of each known Node (its spec.interface, else the one in the controller's status,
 * which the agents' macvlans hang off when a MacvlanNet names no parent) and its labels.
 */
function knownNodeInterfaces(all: Entry[]): NodeInterface[] {
  return (all.filter((e) => e.obj.kind === 'Node') as Array<Entry & { obj: Node }>).flatMap(({ obj }) => {
    const iface = obj.spec?.interface ?? (obj.status as { interface?: unknown } | undefined)?.interface;
    return typeof iface === 'string' ? [{ name: obj.metadata.name, labels: obj.metadata.labels, iface }] : [];
  });
}

/**
 * The first other MacvlanNet on m's parent: one with the same default parent and VLAN whose
 * selector can meet m's (the rule before any Node is known), else one whose parent is that of
 * m on a known Node both select, where one names the interface the other takes by default.
 */
function firstParentClash(m: MvnEntry, others: MvnEntry[], nodes: NodeInterface[]): { other: MvnEntry; where: string } | undefined {
  const parent = defaultParent(m.obj.spec);
  const same = others.find((o) => defaultParent(o.obj.spec) === parent && selectorsMeet(m.obj.spec.nodeSelector, o.obj.spec.nodeSelector));
  if (same) return { other: same, where: `${parent} on the nodes both select` };
  const onNode = (s: MacvlanNet['spec'], n: NodeInterface) => withVlan(s.parent ?? n.iface, s.vlan);
  for (const o of others) {
    const n = nodes.find((x) => matchLabels(m.obj.spec.nodeSelector?.matchLabels, x.labels) && matchLabels(o.obj.spec.nodeSelector?.matchLabels, x.labels) && onNode(m.obj.spec, x) === onNode(o.obj.spec, x));
    if (n) return { other: o, where: `${onNode(m.obj.spec, n)} on node ${n.name} (the node's interface, ${m.obj.spec.parent === undefined ? 'this one\'s' : 'its'} parent there), which both select` };
  }
  return undefined;
}

export function nameIssues(all: Entry[]): NameIssue[] {
  return [...dockerNetworkNameIssues(all), ...bridgeNameIssues(all), ...nicIfNameIssues(all), ...defaultRouteIssues(all), ...macvlanParentIssues(all)];
}
