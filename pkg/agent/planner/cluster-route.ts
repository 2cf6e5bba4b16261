// The route from a container to the rest of its NIC's ClusterNetwork.
//
// A container on an xnet bridge network (docker run --net <the HostSubnet's network>) reaches
// every host's subnet through its default route: its gateway is the bridge, and the host routes
// the ClusterNetwork's CIDR on. A container on any other network (Docker's default bridge, a
// network of the user's) has its default route elsewhere: with only a connected route to its
// own HostSubnet, its ClusterNetwork NIC reached the containers of its own host and no other.
// So such a NIC also carries `<ClusterNetwork CIDR> via <gateway> dev <ifName> proto 76` (what
// a CNI plugin's IPAM `routes` would add). Not made when the container already has a route to
// that CIDR (another NIC's, or one of the user's), when its default route already goes via an
// address inside the CIDR, or when the NIC is itself the default route. Like the default route,
// it lives in the container's pinned namespace only and goes with the NIC's link.
import { cidrContains, formatCidr, parseCidr, parseIPv4, type Cidr } from '../../ip/ipv4.js';
import { isXnetRoute, type Route } from '../../netlink/types.js';
import type { ContainerNs, IpOp } from './ops.js';

/** What of a NIC decides its ClusterNetwork route. */
export interface ClusterRouteNic {
  ifName: string;
  gateway?: string;
  defaultRoute: boolean;
  /** the NIC's ClusterNetwork's CIDR (none for a MacvlanNet NIC: one L2 segment, no route needed) */
  clusterCidr?: string;
  netns: ContainerNs;
}

const mainTable = (r: Route) => !r.table || r.table === 'main';

/** A route's destination is exactly `c` (the kernel writes it normalised, a host route without /32). */
function sameCidr(dst: string, c: Cidr): boolean {
  if (!dst.includes('/')) return false;
  try {
    const d = parseCidr(dst, false);
    return d.base === c.base && d.prefix === c.prefix;
  } catch {
    return false;
  }
}

/** The route's next hop is an address inside `c` (an IPv6 or unparsable one is not). */
function viaInside(r: Route, c: Cidr): boolean {
  try {
    return !!r.via && cidrContains(c, parseIPv4(r.via));
  } catch {
    return false;
  }
}

/** The route the NIC should carry, or undefined: none is needed (see above). */
function wanted(d: ClusterRouteNic, routes: Route[]): { cidr: Cidr; own?: Route } | undefined {
  if (!d.clusterCidr || !d.gateway || d.defaultRoute) return undefined;
  const cidr = parseCidr(d.clusterCidr, false);
  const main = routes.filter(mainTable);
  const toCidr = main.filter((r) => sameCidr(r.dst, cidr));
  const own = toCidr.find((r) => isXnetRoute(r) && r.dev === d.ifName);
  if (own) return { cidr, own };
  if (toCidr.length) return undefined;
  // xnet's default route through this NIC is going (it is not the default route: default-route.ts
  // deletes it in the same plan), so the container's next default route is what counts
  const goes = (r: Route) => isXnetRoute(r) && r.dev === d.ifName;
  const def = main.filter((r) => r.dst === 'default' && !goes(r)).sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0))[0];
  return def && viaInside(def, cidr) ? undefined : { cidr };
}

/**
 * xnet's routes through the NIC to somewhere other than the route it should carry: one to the
 * CIDR the ClusterNetwork had before it was changed (grown or shrunk), or one no longer wanted
 * (the NIC became the default route). The default route is default-route.ts's.
 */
function leftOver(d: ClusterRouteNic, routes: Route[], keep: Cidr | undefined): Route[] {
  return routes.filter((r) => mainTable(r) && isXnetRoute(r) && r.dev === d.ifName && r.dst !== 'default' && !(keep && sameCidr(r.dst, keep)));
}

/** The ops that give the NIC its ClusterNetwork route (replacing xnet's own with another gateway) and take left-over ones away. */
export function planClusterRoute(d: ClusterRouteNic, routes: Route[]): IpOp[] {
  const w = wanted(d, routes);
  const ops: IpOp[] = leftOver(d, routes, w?.cidr).map((r) => ({ op: 'route.del', dst: r.dst, ...(r.via ? { via: r.via } : {}), dev: d.ifName, proto: r.proto, netns: d.netns }));
  if (w && !(w.own && w.own.via === d.gateway)) ops.push({ op: 'route.replace', dst: formatCidr(w.cidr), via: d.gateway!, dev: d.ifName, netns: d.netns });
  return ops;
}

/** What differs from the NIC's ClusterNetwork route (undefined: nothing). */
export function clusterRouteDifference(d: ClusterRouteNic, routes: Route[]): string | undefined {
  const w = wanted(d, routes);
  const left = leftOver(d, routes, w?.cidr)[0];
  if (left) return `xnet's route to ${left.dst} through ${d.ifName} is left over`;
  return w && !(w.own && w.own.via === d.gateway) ? `no route to ClusterNetwork ${d.clusterCidr} via ${d.gateway} on ${d.ifName}` : undefined;
}
