// Which peer routes this host wants: one route per other node's HostSubnet, checked as
// untrusted input. A routes pass looks at every peer (it is level-triggered), so at a
// thousand hosts the checks of a thousand HostSubnets ran on every pass, three passes per
// new node on every host: PeerRouteMemo keeps each HostSubnet's verdict until the object (a
// new one per watch event: the informers never mutate), its node's admin address, its
// ClusterNetwork's cidr and hostPrefix or this host's addresses change, so a pass re-checks
// only what changed.
import type { ClusterNetwork, HostSubnet, Node } from '../api/index.js';
import { hostSubnetFitWhy, peerRouteWhy, type LocalAddresses } from '../api/rules.js';
import { hostSubnetView, refusedPin } from './desired.js';
import type { Problem } from './planner/ops.js';
import type { DesiredRoute } from './planner/routes.js';
import { FIELD, fieldError, invalidField } from './status-fields.js';
import { normalizeDst } from '../netlink/types.js';

export interface PeerRoutes {
  routes: DesiredRoute[];
  /** peer subnets whose node address is unknown for now: their existing routes are kept */
  keep: string[];
  /** peers' HostSubnets or Nodes with invalid values: no route is made for them */
  problems: Problem[];
}

/** One peer HostSubnet's share of PeerRoutes. */
export interface PeerPart { route?: DesiredRoute; keep?: string; problems: Problem[] }

/** Where peerRoutes looks up a HostSubnet's Node (a Map, or the agent's informer). */
export interface NodeLookup { get(name: string): Node | undefined }

/** Where peerRoutes looks up a HostSubnet's ClusterNetwork (a Map, or the agent's informer, listed before any routes pass). */
export interface ClusterNetworkLookup { get(name: string): ClusterNetwork | undefined }

/** What a peer's HostSubnet is checked against besides itself. */
export interface PeerLookups { nodes: NodeLookup; clusterNetworks: ClusterNetworkLookup }

/** What a verdict depends on besides the HostSubnet object and the local addresses. */
interface VerdictKey { admin: unknown; pool: string }

const verdictKey = (node: Node | undefined, cn: ClusterNetwork | undefined): VerdictKey =>
  // the values, not the objects: a ClusterNetwork's status (its counts) changes with every node that joins
  ({ admin: node?.spec?.address, pool: cn ? `${cn.spec.cidr} ${cn.spec.hostPrefix}` : '' });

/** Each HostSubnet's verdict, valid while the object, its node's spec.address, its ClusterNetwork's cidr and hostPrefix and the local addresses are the same. */
export class PeerRouteMemo {
  private readonly parts = new WeakMap<HostSubnet, { key: VerdictKey; local: string; part: PeerPart }>();
  /** HostSubnets checked afresh (not answered from the memo), for tests and benchmarks */
  checked = 0;

  part(hs: HostSubnet, key: VerdictKey, localKey: string, check: () => PeerPart): PeerPart {
    const hit = this.parts.get(hs);
    if (hit && hit.key.admin === key.admin && hit.key.pool === key.pool && hit.local === localKey) return hit.part;
    this.checked++;
    const part = check();
    this.parts.set(hs, { key, local: localKey, part });
    return part;
  }
}

/**
 * `subnet via <peer address>` for every other node's HostSubnet whose address is known. The
 * next hop is the controller's HostSubnet status.nodeAddress (checked by the controller before
 * it copied it), else an admin's Node spec.address; never what a node reports about itself.
 * The subnet must lie inside the HostSubnet's ClusterNetwork (hostSubnetFitWhy): a status or
 * object naming any other subnet (the etcd, DNS or corporate network) gets no route, and its
 * old route goes. `local` (this host's addresses with their prefix) refuses routes that would
 * capture this host's own traffic: see peerRouteWhy.
 */
export function peerRoutes(self: string, hostSubnets: HostSubnet[], lookups: PeerLookups, local: LocalAddresses = [], memo?: PeerRouteMemo,
  parts?: Map<string, PeerPart>): PeerRoutes {
  const out: PeerRoutes = { routes: [], keep: [], problems: [] };
  const localKey = local.join(',');
  const routed: Routed[] = [];
  for (const hs of hostSubnets) {
    const p = peerShare(self, hs, lookups, local, localKey, memo);
    if (!p) continue;
    parts?.set(hs.metadata.name, p);
    if (p.route) routed.push({ hs, route: p.route });
    if (p.keep) out.keep.push(p.keep);
    for (const problem of p.problems) out.problems.push(problem);
  }
  out.routes = onePerDestination(routed, out.problems);
  return out;
}

interface Routed { hs: HostSubnet; route: DesiredRoute }

/**
 * One route per destination. Two peers' HostSubnets may name one subnet (two applied at once
 * with one pinned subnet, passing xctl's check side by side; a status written around the
 * controller): each pass replaced the route with the other's next hop, the kernel's route event
 * started the next pass, and the route flapped between the two hosts for good, several times a
 * second. The one the controller allocated the subnet to (its status says so) keeps it, else the
 * first by name; another next hop for it is UnsafeRoute, naming both.
 */
function onePerDestination(routed: Routed[], problems: Problem[]): DesiredRoute[] {
  const chosen = new Map<string, Routed>();
  for (const r of routed) {
    const dst = normalizeDst(r.route.dst);
    const cur = chosen.get(dst);
    if (!cur || ranksBefore(r.hs, cur.hs)) chosen.set(dst, r);
  }
  for (const r of routed) {
    const c = chosen.get(normalizeDst(r.route.dst))!;
    if (c.route.via === r.route.via) continue;
    problems.push({ reason: 'UnsafeRoute', message: `HostSubnet ${r.hs.metadata.name}: no route for ${r.route.dst} via ${r.route.via}: HostSubnet ${c.hs.metadata.name} (node ${c.hs.spec.node}) has that subnet, routed via ${c.route.via}` });
  }
  return routed.filter((r) => chosen.get(normalizeDst(r.route.dst)) === r).map((r) => r.route);
}

/** Whether `a` keeps a subnet both name over `b`: allocated to it by the controller, else first by name. */
function ranksBefore(a: HostSubnet, b: HostSubnet): boolean {
  const allocated = (hs: HostSubnet) => (hs.status as { subnet?: unknown } | undefined)?.subnet != null;
  return allocated(a) !== allocated(b) ? allocated(a) : a.metadata.name < b.metadata.name;
}

/** One HostSubnet's share (undefined for this host's own), from the memo when it has it. */
export function peerShare(self: string, hs: HostSubnet, lookups: PeerLookups, local: LocalAddresses, localKey: string, memo?: PeerRouteMemo): PeerPart | undefined {
  if (hs.spec.node === self) return undefined;
  const node = lookups.nodes.get(hs.spec.node);
  const cn = lookups.clusterNetworks.get(hs.spec.clusterNetwork);
  const check = () => peerPart(hs, node, cn, local);
  return memo ? memo.part(hs, verdictKey(node, cn), localKey, check) : check();
}

function peerPart(hs: HostSubnet, node: Node | undefined, cn: ClusterNetwork | undefined, local: LocalAddresses): PeerPart {
  const problems: Problem[] = [];
  const v = hostSubnetView(hs);
  if (v.problem) {
    // A bad next hop must not tear down the route that works: keep it when its subnet is sound.
    const subnet = (hs.status as { subnet?: unknown } | undefined)?.subnet ?? hs.spec.subnet;
    const sound = subnet != null && fieldError(subnet, FIELD.cidr) === undefined && !outsideWhy(hs, subnet as string, cn) && !peerRouteWhy(subnet as string, undefined, local);
    return { ...(sound ? { keep: subnet as string } : {}), problems: [v.problem] };
  }
  // its own status says why (Allocated=False), and the subnet is another's: no route, none kept
  if (refusedPin(hs)) return { problems };
  const via = v.nodeAddress ?? adminNodeAddress(node, problems);
  if (!v.subnet) return { problems };
  const outside = outsideWhy(hs, v.subnet, cn);
  const bad = outside ?? peerRouteWhy(v.subnet, via, local);
  if (bad) {
    problems.push({ reason: 'UnsafeRoute', message: `HostSubnet ${hs.metadata.name}: no route for ${v.subnet}${via ? ` via ${via}` : ''}: ${bad}` });
    // The subnet itself is sound when only the next hop is wrong: its working route stays.
    return { ...(via && !outside && !peerRouteWhy(v.subnet, undefined, local) ? { keep: v.subnet } : {}), problems };
  }
  return via ? { route: { dst: v.subnet, via }, problems } : { keep: v.subnet, problems };
}

/**
 * Why a peer's subnet is not one of its ClusterNetwork's: the shared rule, and every subnet
 * while that ClusterNetwork is not in this agent's view (deleted, or never made): its route
 * goes, it is not kept. "Not in view" is never "not read yet": the agent's view lists every
 * kind at one revision, its ClusterNetworks first, and no routes pass runs before they are
 * listed (reconcilers/routes.ts). One being deleted is in view (deletionTimestamp set) until
 * it is gone, and its peers' routes stay meanwhile; once gone, the controller deletes the
 * HostSubnets it made in it, and the peers' routes went a moment before.
 */
function outsideWhy(hs: HostSubnet, subnet: string, cn: ClusterNetwork | undefined): string | undefined {
  if (!cn) return `ClusterNetwork "${hs.spec.clusterNetwork}" does not exist, so ${subnet} lies in no ClusterNetwork`;
  return hostSubnetFitWhy(subnet, { name: cn.metadata.name, cidr: cn.spec.cidr, hostPrefix: cn.spec.hostPrefix }, hs.spec.subnet != null);
}

/** A Node's spec.address (written by an admin, checked like any field); its reported status is not used. */
function adminNodeAddress(n: Node | undefined, problems: Problem[]): string | undefined {
  if (n?.spec?.address == null) return undefined;
  const problem = invalidField('Node', n.metadata.name, [['spec.address', n.spec.address, FIELD.ipv4]]);
  if (problem) { problems.push(problem); return undefined; }
  return n.spec.address;
}
