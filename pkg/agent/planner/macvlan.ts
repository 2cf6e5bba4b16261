// One MacvlanNet on this node: the parent (or its VLAN sub-interface), promiscuous mode, the
// Docker macvlan network limited to this node's block, and the host shim with routes to the
// node's own macvlan containers (a host cannot talk to its macvlan children through the parent).
import { withVlan } from '../../api/macvlan-parent.js';
import type { DockerNetwork, DockerNetworkSpec } from '../../docker/types.js';
import { labelledFor, madeHere, type MadeNetworks } from './owner.js';
import type { HostState } from '../../netlink/ip.js';
import { attachedCount, planDockerNetworks } from './docker-networks.js';
import { shimAlias, shimName } from './names.js';
import type { Link } from '../../netlink/types.js';
import type { Op, Plan, Problem } from './ops.js';
import { planRoutes, type DesiredRoute } from './routes.js';

export interface DesiredMacvlan {
  name: string;
  /** the base parent: per-node override, else the node's interface */
  parent: string;
  vlan?: number;
  promiscuous: boolean;
  /**
   * undefined while pending: the controller has not given this node its block, or this node's
   * entry (or the whole status) is missing or did not decode. The plan is then the parent's
   * only, and the Docker network and shim already here are left as they are.
   */
  network?: DockerNetworkSpec;
  /** undefined when hostShim is false or the controller has not given a shim address yet */
  shim?: { address: string; routes: string[] };
}

/**
 * The ifalias xnet sets on a VLAN sub-interface it makes, in the batch that makes it: only a
 * link carrying it is deleted when no MacvlanNet uses it (planner/parents.ts); a VLAN link
 * the host had already is used and left alone.
 */
export const VLAN_ALIAS = 'xnet:vlan';

/** The interface macvlans attach to: `<parent>.<vlan>` when a VLAN is set. */
export function effectiveParent(d: Pick<DesiredMacvlan, 'parent' | 'vlan'>): string {
  return withVlan(d.parent, d.vlan);
}

/**
 * `made`: the networks this node made (network-record.ts); a network labelled for this
 * MacvlanNet under another name goes only when it is there (owner.ts madeHere).
 */
export function planMacvlan(d: DesiredMacvlan, host: HostState, docker: DockerNetwork[], made?: MadeNetworks): Plan {
  const ops: Op[] = [];
  const problems: Problem[] = [];
  const base = host.links.find((l) => l.name === d.parent);
  if (!base) {
    problems.push({ reason: 'ParentMissing', message: `parent interface ${d.parent} does not exist on this node; set spec.nodes[].parent for it or fix the Node's interface` });
    return { ops, problems };
  }
  const parentName = effectiveParent(d);
  let parent = host.links.find((l) => l.name === parentName);
  if (d.vlan && !parent) {
    ops.push({ op: 'link.add.vlan', name: parentName, parent: d.parent, vlan: d.vlan }, { op: 'link.set.alias', name: parentName, alias: VLAN_ALIAS },
      { op: 'link.set.up', name: parentName });
  } else if (d.vlan && parent && (parent.kind !== 'vlan' || parent.vlanId !== d.vlan || (parent.parent !== undefined && parent.parent !== d.parent))) {
    // a host's own link of that name (VLAN 100 of another interface, say) is not ours to use
    problems.push({ reason: 'ParentConflict', message: `${parentName} exists but is not VLAN ${d.vlan} on ${d.parent}` });
    return { ops, problems };
  } else if (parent && !parent.up) {
    ops.push({ op: 'link.set.up', name: parentName });
  }
  if (d.promiscuous && !parent?.promisc) ops.push({ op: 'link.set.promisc', name: parentName, on: true });
  // Pending: the MacvlanNet still selects this node, so its network and shim stay (removing them
  // would cut the host off its macvlan containers) until the block is known again. A MacvlanNet
  // deleted or no longer selecting the node goes through planMacvlanRemoval instead.
  const net = d.network;
  if (!net) return { ops, problems };

  // its own network under an older name goes (the one this node made: a user's so labelled stays, owner.ts)
  const nets = planDockerNetworks([net], docker.filter((n) => n.name === net.name || leftOver(n, d.name, made)), 'MacvlanNet');
  ops.push(...nets.ops);
  problems.push(...nets.problems);

  const sh = planShim(d, host, parentName);
  return { ops: [...ops, ...sh.ops], problems: [...problems, ...sh.problems] };
}

/** The host shim: made on the parent with its /32 and routes, fixed, or removed; a foreign link of its name stops the plan. */
function planShim(d: DesiredMacvlan, host: HostState, parentName: string): Plan {
  const ops: Op[] = [];
  const problems: Problem[] = [];
  const shim = shimName(d.name);
  const haveShim = host.links.find((l) => l.name === shim);
  const shimOwner = haveShim && shimOwnership(d.name, haveShim);
  ops.push(...strayShims(d.name, host));
  if (shimOwner === 'foreign') {
    problems.push({ reason: 'InterfaceNameTaken', message: `host interface ${shim} is not the shim xnet made for MacvlanNet ${d.name} (no ${shimAlias(d.name)} mark); it is left alone, remove or rename it` });
    return { ops, problems };
  }
  if (shimOwner === 'unmarked') ops.push({ op: 'link.set.alias', name: shim, alias: shimAlias(d.name) });
  if (d.shim) {
    const cidr = `${d.shim.address}/32`;
    if (haveShim && haveShim.parent !== parentName) ops.push({ op: 'link.del', name: shim });
    const fresh = !haveShim || haveShim.parent !== parentName;
    if (fresh) ops.push({ op: 'link.add.macvlan', name: shim, parent: parentName, mode: 'bridge' }, { op: 'link.set.alias', name: shim, alias: shimAlias(d.name) });
    const addrs = fresh ? [] : host.addrs.filter((a) => a.dev === shim);
    // The new address first: the kernel flushes every route through a device whose last IPv4
    // address goes, so deleting the old one first took the shim's routes with it, and the
    // batch's `route del` of one of them then failed ("No such process") until a retry.
    if (!addrs.some((a) => a.cidr === cidr)) ops.push({ op: 'addr.add', dev: shim, cidr });
    for (const a of addrs) if (a.cidr !== cidr) ops.push({ op: 'addr.del', dev: shim, cidr: a.cidr });
    if (fresh || !haveShim!.up) ops.push({ op: 'link.set.up', name: shim });
    const want: DesiredRoute[] = d.shim.routes.map((dst) => ({ dst, dev: shim }));
    // A fresh shim has no routes yet whatever the old one had.
    const observed = fresh ? host.routes.filter((r) => r.dev !== shim) : host.routes;
    const r = planRoutes(want, observed, (x) => x.dev === shim);
    ops.push(...r.ops);
    problems.push(...r.problems);
  } else if (haveShim) {
    ops.push({ op: 'link.del', name: shim });
  }
  return { ops, problems };
}

/**
 * Whose is the link under a MacvlanNet's shim name (`xs` + a hash of the MacvlanNet's name):
 * 'marked' (xnet's), 'unmarked' (a macvlan with no alias: a shim an agent made before shims
 * were marked, on whatever parent; adopted and marked now) or 'foreign' (anything else: left alone).
 */
function shimOwnership(net: string, l: Link): 'marked' | 'unmarked' | 'foreign' {
  if (l.alias === shimAlias(net)) return 'marked';
  return l.alias === undefined && l.kind === 'macvlan' ? 'unmarked' : 'foreign';
}

/** A network labelled for MacvlanNet `name` that this node made for it (owner.ts madeHere). */
function leftOver(n: DockerNetwork, name: string, made: MadeNetworks | undefined): boolean {
  return labelledFor(n, 'MacvlanNet') === name && madeHere(n, 'MacvlanNet', made);
}

/**
 * The networks labelled for MacvlanNet `name` (a macvlan network, a valid name: owner.ts
 * labelledFor) that are not its network `served` (its name while it is served here) and that
 * this node has no record of making: a user's so labelled, or xnet's own whose record was lost.
 * They stay (reconcilers/networks-made.ts tellUnproven names them).
 */
export function unprovenMacvlan(name: string, docker: DockerNetwork[], made: MadeNetworks | undefined, served?: string): DockerNetwork[] {
  return docker.filter((n) => n.name !== served && labelledFor(n, 'MacvlanNet') === name && !madeHere(n, 'MacvlanNet', made));
}

/**
 * The MacvlanNet is gone (or no longer selects this node): its Docker network (the one this
 * node made: `made`, owner.ts madeHere) and its shim (marked, or an older agent's) go; the
 * shim only once no container is on a network labelled for it.
 */
export function planMacvlanRemoval(name: string, host: HostState, docker: DockerNetwork[], made: MadeNetworks | undefined): Plan {
  const nets = planDockerNetworks([], docker.filter((n) => leftOver(n, name, made)), 'MacvlanNet');
  const ops: Op[] = [...nets.ops];
  const shim = host.links.find((l) => l.name === shimName(name));
  // Containers still on a network of this MacvlanNet (its removal waits for them, or it is
  // unrecorded and stays): the host reaches them through the shim until they leave.
  const inUse = docker.some((n) => labelledFor(n, 'MacvlanNet') === name && attachedCount(n) > 0);
  if (shim && !inUse && shimOwnership(name, shim) !== 'foreign') ops.push({ op: 'link.del', name: shim.name });
  if (!inUse) ops.push(...strayShims(name, host));
  return { ops, problems: nets.problems };
}

/**
 * xnet's shim of MacvlanNet `name` under another name (renamed by hand): a macvlan carrying its
 * mark. It keeps the shim's /32, a second link of the host answering ARP for it beside the shim
 * made under its name, and nothing else would ever remove it: it goes.
 */
function strayShims(name: string, host: HostState): Op[] {
  return host.links.filter((l) => l.name !== shimName(name) && l.kind === 'macvlan' && l.alias === shimAlias(name)).map((l): Op => ({ op: 'link.del', name: l.name }));
}

/**
 * The MacvlanNets whose Docker network this node made (labelled `io.xnet.owner=MacvlanNet/<name>`
 * and in `made`: owner.ts madeHere) is still here while they are not in the view (`known`):
 * deleted, their network's removal refused while a container was on it, or deleted while the
 * agent was down. Their removal runs again. A name whose key does not decode (`unreadable`) is
 * not absent; a label that names no valid object, or one on a network of another driver, is
 * not xnet's, and a network so labelled that this node has no record of making is `unproven`:
 * it stays (anyone can label a network: planner/owner.ts).
 */
export function macvlanLeftovers(docker: DockerNetwork[], known: Set<string>, unreadable: Set<string>, made: MadeNetworks | undefined): { names: string[]; unproven: DockerNetwork[] } {
  const names = new Set<string>();
  const unproven: DockerNetwork[] = [];
  for (const n of docker) {
    const name = labelledFor(n, 'MacvlanNet');
    if (name === undefined || known.has(name) || unreadable.has(name)) continue;
    if (madeHere(n, 'MacvlanNet', made)) names.add(name); else unproven.push(n);
  }
  return { names: [...names], unproven };
}
