// Parent interfaces of MacvlanNets: which changes of a plan touch a host interface xnet did not
// make (recorded before they run: ../parent-record.ts), and, once no MacvlanNet uses a parent,
// what undoes them. Only what the record says xnet did is undone; a parent that was promiscuous
// or up before xnet stays so. VLAN sub-interfaces xnet made carry VLAN_ALIAS and are deleted.
import type { DockerNetwork } from '../../docker/types.js';
import { labelledFor } from './owner.js';
import ipaddr from 'ipaddr.js';
import type { HostState, HostUse } from '../../netlink/ip.js';
import { describeRule, type Addr, type Link, type Route } from '../../netlink/types.js';
import type { ParentChange, ParentEntries } from '../parent-record.js';
import { effectiveParent, VLAN_ALIAS, type DesiredMacvlan } from './macvlan.js';
import type { Op } from './ops.js';

export const isXnetVlan = (l: Link) => l.kind === 'vlan' && l.alias === VLAN_ALIAS;

/**
 * What a MacvlanNet's plan changes on its parent, to record before the plan runs: promiscuous
 * mode on, or the link brought up. A parent the plan makes itself (a VLAN link, marked) or a
 * VLAN link xnet made before needs no record: it is deleted whole.
 */
export function parentChanges(d: Pick<DesiredMacvlan, 'parent' | 'vlan'>, ops: Op[], host: HostState): ParentChange[] {
  const name = effectiveParent(d);
  const link = host.links.find((l) => l.name === name);
  if (!link || isXnetVlan(link)) return [];
  const mine = ops.filter((o) => 'name' in o && o.name === name && !('netns' in o && o.netns !== undefined));
  const promisc = mine.some((o) => o.op === 'link.set.promisc' && o.on);
  const up = mine.some((o) => o.op === 'link.set.up');
  if (!promisc && !up) return [];
  return [{ name, ifindex: link.ifindex, ...(promisc ? { promisc } : {}), ...(up ? { up } : {}) }];
}

/** A MacvlanNet (or a macvlan ContainerNic of one) on this node: its parent, and whether it wants it promiscuous. */
export type ParentUser = Pick<DesiredMacvlan, 'parent' | 'vlan' | 'promiscuous'>;

/**
 * Interfaces something still attaches to: the parents (and VLAN bases) of the MacvlanNets that
 * select this node and of this node's macvlan ContainerNics, and of every Docker network on the
 * host with a parent (xnet's, one whose removal waits for its containers; the user's own
 * macvlan or ipvlan network on it).
 */
export function parentsInUse(macvlans: Pick<DesiredMacvlan, 'parent' | 'vlan'>[], docker: DockerNetwork[], host: HostState): Set<string> {
  const out = new Set<string>();
  for (const d of macvlans) out.add(d.parent).add(effectiveParent(d));
  for (const n of docker) {
    const p = n.options.parent;
    if (!p) continue;
    out.add(p);
    const base = host.links.find((l) => l.name === p)?.parent;
    if (base) out.add(base);
  }
  return out;
}

/**
 * Interfaces something wants promiscuous: the one a user with `promiscuous: true` attaches to,
 * and the parent of every Docker network but a MacvlanNet's own whose MacvlanNet (`wishes`, by
 * name) says `promiscuous: false`. A network of a MacvlanNet no longer known (waiting for its
 * containers) or of the user's own keeps the mode: its containers may rely on it.
 */
export function parentsWantingPromisc(users: ParentUser[], docker: DockerNetwork[], wishes: Map<string, boolean>): Set<string> {
  const out = new Set<string>();
  for (const d of users) if (d.promiscuous) out.add(effectiveParent(d));
  for (const n of docker) {
    // a MacvlanNet's own network is a macvlan one so labelled (owner.ts): a user's ipvlan network is not
    const mvn = labelledFor(n, 'MacvlanNet');
    if (n.options.parent && !(mvn !== undefined && wishes.get(mvn) === false)) out.add(n.options.parent);
  }
  return out;
}

export interface ParentRelease {
  /** the record, already checked against this boot and the links' ifindexes */
  records: ParentEntries;
  inUse: Set<string>;
  /**
   * the parents something wants promiscuous (parentsWantingPromisc; default: `inUse`): xnet's
   * promiscuous mode on a parent in use but not in here is turned off
   */
  wantPromisc?: Set<string>;
  host: HostState;
  /**
   * every address, route and policy rule of the host (IpRunner.use). The host read's own IPv4
   * view (`host` itself, no rules) only finds candidates: more of the host's use only ever
   * keeps links (releasePlan).
   */
  use: HostUse;
  /** the Node's interface: never taken down */
  nodeInterface?: string;
}

/** Whether a plan takes a link away (down, or deleted): only such a plan needs the host's whole use. */
export const takesLinkAway = (ops: Op[]): boolean => ops.some((o) => o.op === 'link.set.down' || o.op === 'link.del');

/** The text of an IPv6 address or CIDR in fe80::/10 (link-local) or ff00::/8 (multicast). */
function linkLocalOrMulticast6(text: string): boolean {
  const ip = text.split('/')[0];
  if (!ipaddr.IPv6.isValid(ip)) return false;
  const range = ipaddr.IPv6.parse(ip).range();
  return range === 'linkLocal' || range === 'multicast';
}

/**
 * What the kernel gives every up link with IPv6 on, and so says nothing of the host's use: an
 * IPv6 link-local address, and the kernel's routes for link-local and multicast space (fe80::/64,
 * the address in table local, ff00::/8). Anything else counts, IPv4 link-local 169.254/16 too
 * (no kernel puts it there by itself).
 */
const autoAddr = (a: Addr): boolean => linkLocalOrMulticast6(a.cidr);
const autoRoute = (r: Route): boolean => r.proto === 'kernel' && linkLocalOrMulticast6(r.dst);

/** How a link of the host's own is tied to other links: a master, ports, links on top of it. */
function linkReliance(name: string, links: Link[]): string | undefined {
  const self = links.find((l) => l.name === name);
  if (self?.master !== undefined) return `it is a port of ${self.master}`;
  const port = links.find((l) => l.master === name);
  if (port) return `${port.name} is a port of it`;
  // a veth's peer names it as its link too, but sits beside it
  const upper = links.find((l) => l.parent === name && l.kind !== 'veth');
  return upper ? `${upper.name}${upper.kind ? ` (${upper.kind})` : ''} sits on it` : undefined;
}

/** An address, a route or a policy rule of the host's on the link (what the kernel adds by itself aside). */
function useReliance(name: string, r: Pick<ParentRelease, 'host' | 'use'>): string | undefined {
  const addr = [...r.host.addrs, ...r.use.addrs].find((a) => a.dev === name && !autoAddr(a));
  if (addr) return `it carries the address ${addr.cidr}`;
  const route = [...r.host.routes, ...r.use.routes].find((x) => x.dev === name && !autoRoute(x));
  if (route) return `the route ${route.dst}${route.table ? ` in table ${route.table}` : ''} goes through it`;
  const rule = r.use.rules.find((x) => x.iif === name || x.oif === name);
  return rule ? `a policy rule names it (${describeRule(rule)})` : undefined;
}

/**
 * Why the host relies on the link for itself (undefined: it does not); such a link is never
 * taken down nor deleted. It is the Node's interface; a port of a bond, bridge or VRF (it has a
 * master) or one with ports; it has links on top of it in the host (macvlan, VLAN...); it
 * carries an address (IPv4, or IPv6 other than link-local), is named by a route of any table or
 * family (the kernel's own IPv6 link-local routes aside), or by a policy rule (`ip rule`, either
 * family) as `iif` or `oif`.
 */
export function hostReliance(name: string, r: Pick<ParentRelease, 'host' | 'use' | 'nodeInterface'>): string | undefined {
  if (name === r.nodeInterface) return 'it is the Node\'s interface';
  return linkReliance(name, r.host.links) ?? useReliance(name, r);
}

export interface ParentReleasePlan {
  ops: Op[];
  /** records to drop once the ops ran */
  released: string[];
  /** records whose promiscuous mode is given back (the parent stays in use): their `promisc` is dropped once the ops ran */
  promiscReleased: string[];
  /** links the release would have taken down or deleted but leaves, the host relying on them, and why */
  kept: { name: string; why: string }[];
}

/**
 * Undoes what xnet did to parents nothing uses any more: deletes its marked VLAN links, turns
 * promiscuous mode off and takes a link down where the record says xnet did these (and the link
 * still is so), unless the host relies on it (then it is `kept`). A parent still in use that no
 * user wants promiscuous any more has only xnet's promiscuous mode turned off.
 */
export function planParentRelease(r: ParentRelease): ParentReleasePlan {
  const plan: ParentReleasePlan = { ops: [], released: [], promiscReleased: [], kept: [] };
  const unused = (name: string) => !r.inUse.has(name);
  for (const l of r.host.links) {
    if (!isXnetVlan(l) || !unused(l.name)) continue;
    const why = hostReliance(l.name, r);
    if (why) plan.kept.push({ name: l.name, why });
    else { plan.ops.push({ op: 'link.del', name: l.name }); plan.released.push(l.name); }
  }
  // the host as it is once those are gone (a deleted VLAN link no longer sits on its base)
  const left = { ...r, host: { ...r.host, links: r.host.links.filter((l) => !plan.released.includes(l.name)) } };
  const wantPromisc = r.wantPromisc ?? r.inUse;
  for (const [name, e] of Object.entries(r.records)) {
    const l = left.host.links.find((x) => x.name === name);
    if (!l) continue;
    if (!unused(name)) {
      if (!e.promisc || wantPromisc.has(name)) continue;
      if (l.promisc) plan.ops.push({ op: 'link.set.promisc', name, on: false });
      plan.promiscReleased.push(name);
      continue;
    }
    if (e.promisc && l.promisc) plan.ops.push({ op: 'link.set.promisc', name, on: false });
    const takeDown = e.up && l.up;
    const why = takeDown ? hostReliance(name, left) : undefined;
    if (why) plan.kept.push({ name, why });
    else if (takeDown) plan.ops.push({ op: 'link.set.down', name });
    plan.released.push(name);
  }
  return plan;
}
