// The container's default route while one of its NICs is to be it (spec.defaultRoute).
//
// Docker gives a container a default route of its own (via its network's gateway on eth0, at
// metric 0). xnet once replaced it with the NIC's, so the container had none left once the NIC
// went (its route goes with its link) and kept the NIC's when defaultRoute was set false. Now
// xnet first copies the container's own default route to a high metric, marked as xnet's (the
// fallback), and only then replaces the metric-0 route with the NIC's: whenever the NIC's route
// goes (the NIC deleted, with the agent up or down, or defaultRoute set false) the kernel uses
// the fallback, so the container always has a default route. A restarted container gets a new
// namespace with Docker's fresh route, which is kept aside again when the NIC is made anew.
//
// Docker's metric-0 default route is the one route here that xnet changes without having made
// it. It is in bounds because the user asked for the NIC to be the container's default route,
// which that route stands in the way of; and it is kept (at the fallback metric), never dropped.
// No other route of the container is touched, and never one of the host: every op runs in the
// container's pinned namespace.
import { isXnetRoute, type Route } from '../../netlink/types.js';
import type { ContainerNs, IpOp, Problem } from './ops.js';

/** The metric the container's own default route is kept at while one of its NICs is the default route. */
export const FALLBACK_DEFAULT_METRIC = 10076;

/** What of a NIC decides its default route. */
export interface DefaultRouteNic {
  ifName: string;
  gateway?: string;
  defaultRoute: boolean;
  netns: ContainerNs;
}

export interface DefaultRoutePlan {
  ops: IpOp[];
  problem?: Problem;
}

const metricOf = (r: Route) => r.metric ?? 0;
const defaults = (routes: Route[]) => routes.filter((r) => r.dst === 'default' && (!r.table || r.table === 'main'));
const isFallback = (r: Route) => isXnetRoute(r) && metricOf(r) === FALLBACK_DEFAULT_METRIC;
const wantsDefault = (d: DefaultRouteNic): d is DefaultRouteNic & { gateway: string } => d.defaultRoute && !!d.gateway;

/**
 * What a NIC's Ready message adds when it asks to be the default route but has no gateway to
 * route through (a MacvlanNet without spec.gateway: Docker's first address there is only its
 * placeholder, not known to be a router). The NIC works, so it stays Ready; without this the
 * user saw Ready and no hint why the container's default route stayed Docker's.
 */
export function noDefaultRouteNote(d: DefaultRouteNic, macvlanNet: string | undefined): string {
  if (!d.defaultRoute || d.gateway) return '';
  return `; no default route through it: ${macvlanNet ? `MacvlanNet ${macvlanNet} sets no spec.gateway` : 'its network has no gateway'}`;
}

/** The NIC's default route is in place: the metric-0 default route via its gateway on it, whoever made it. */
const inPlace = (d: DefaultRouteNic, all: Route[]) => all.some((r) => metricOf(r) === 0 && r.via === d.gateway && r.dev === d.ifName);

/**
 * xnet's default routes through this NIC that it no longer wants (defaultRoute false, or no
 * gateway to route through). Another NIC's default route, and the fallback, are not this NIC's.
 */
const unwanted = (d: DefaultRouteNic, all: Route[]) => (wantsDefault(d) ? [] : all.filter((r) => isXnetRoute(r) && !isFallback(r) && r.dev === d.ifName));

/**
 * The ops that make the container's default routes what the NIC asks for, read from the
 * container's routes alone (an agent restarted in between plans the same, and nothing once in
 * place): the fallback first, then the NIC's route over the metric-0 one (each step leaves the
 * container a default route); or, the NIC no longer the default route, xnet's route through it
 * deleted, the fallback taking over.
 */
export function planDefaultRoute(d: DefaultRouteNic, routes: Route[]): DefaultRoutePlan {
  const all = defaults(routes);
  if (!wantsDefault(d)) {
    return { ops: unwanted(d, all).map((r): IpOp => ({ op: 'route.del', dst: 'default', ...(r.via ? { via: r.via } : {}), dev: d.ifName, proto: r.proto, netns: d.netns })) };
  }
  if (inPlace(d, all)) return { ops: [] };
  // Another NIC's default route (xnet's, at metric 0, on another link) is not taken over: the
  // two NICs' reconciles replaced each other's for ever, each change waking the other.
  const rival = all.find((r) => metricOf(r) === 0 && isXnetRoute(r) && r.dev !== d.ifName);
  if (rival) {
    return { ops: [], problem: { reason: 'DefaultRouteConflict', message: `the container's default route is already xnet's through another NIC (${describe(rival)}); only one NIC of a container may set defaultRoute, so ${d.ifName} is not made the default route and nothing was changed` } };
  }
  const ops: IpOp[] = [];
  const own = all.find((r) => metricOf(r) === 0 && !isXnetRoute(r));
  if (own) {
    const problem = fallbackProblem(own, all);
    if (problem) return { ops: [], problem };
    ops.push({ op: 'route.replace', dst: 'default', ...(own.via ? { via: own.via } : {}), dev: own.dev!, metric: FALLBACK_DEFAULT_METRIC, netns: d.netns });
  }
  ops.push({ op: 'route.default', via: d.gateway, dev: d.ifName, netns: d.netns });
  return { ops };
}

/**
 * Why the container's own default route cannot be kept as the fallback: it has no single device
 * (a multipath route), or a default route xnet did not make holds the fallback's metric (it
 * would be replaced). Either way the NIC is not made the default route: that would drop a route
 * that is not xnet's.
 */
function fallbackProblem(own: Route, all: Route[]): Problem | undefined {
  const tail = 'xnet keeps the container\'s own default route as a fallback before a NIC becomes the default route, and could not';
  if (!own.dev) return { reason: 'DefaultRouteConflict', message: `the container's default route (${describe(own)}) has no single device; ${tail}` };
  const taken = all.find((r) => metricOf(r) === FALLBACK_DEFAULT_METRIC && !isXnetRoute(r));
  if (taken) return { reason: 'DefaultRouteConflict', message: `a default route xnet did not make holds metric ${FALLBACK_DEFAULT_METRIC} (${describe(taken)}); ${tail}` };
  return undefined;
}

/**
 * What differs between the NIC's declared default route and the container's routes (undefined:
 * nothing): its route missing, or xnet's route through it left while it is not to be the default.
 */
export function defaultRouteDifference(d: DefaultRouteNic, routes: Route[]): string | undefined {
  const all = defaults(routes);
  if (wantsDefault(d)) return inPlace(d, all) ? undefined : `no default route via ${d.gateway} on ${d.ifName}`;
  const left = unwanted(d, all)[0];
  return left ? `xnet's default route ${describe(left)} is still there, though ${d.ifName} is not to be the default route` : undefined;
}

function describe(r: Route): string {
  return [r.dst, r.via ? `via ${r.via}` : '', r.dev ? `dev ${r.dev}` : '', `proto ${r.proto}`, r.metric ? `metric ${r.metric}` : ''].filter(Boolean).join(' ');
}
