// Peers' subnets via their underlay address. Runs when a peer's routable HostSubnet, the
// Node of a peer with one or a ClusterNetwork (came, went, other cidr) changes (events.ts),
// whenever the kernel reports a route change, and at each resync. A pass after store events
// about a few peers plans only their destinations (routes-delta.ts); any other pass looks at
// every peer.
import { isXnetRoute, normalizeDst, type Addr, type Route } from '../../netlink/types.js';
import { inPlaceBeforeStart } from '../heal.js';
import { routesAfter, routesPutBack } from '../restart-evidence.js';
import type { LocalAddresses } from '../../api/rules.js';
import { PeerRouteMemo, peerRoutes, peerShare, type PeerPart } from '../peer-routes.js';
import { unreadable, type AgentContext } from '../context.js';
import type { Plan } from '../planner/ops.js';
import { planRoutes } from '../planner/routes.js';
import { planDelta, rememberPass, type RoutesMemory } from '../routes-delta.js';

/**
 * This host's own IPv4 addresses with their prefix ("198.18.0.11/24"): the networks it is
 * directly on. Not read off routes: any route may carry a `src` ("10.0.0.0/8 via 10.1.0.1 src
 * 10.1.0.5" is no network the host is on, and made every 10.x peer an UnsafeRoute), and an
 * address without its connected route (noprefixroute) is the host's all the same. The agent's
 * host read gives addresses and routes from one `ip` run (host-reads.ts): no extra process.
 */
export function localAddresses(addrs: Addr[]): LocalAddresses {
  return addrs.map((a) => a.cidr);
}

/** Each agent's verdicts on its peers' HostSubnets, kept between passes (peer-routes.ts). */
const memos = new WeakMap<AgentContext, PeerRouteMemo>();
/** What each agent's last full pass left, while it reported no problem (routes-delta.ts). */
const memories = new WeakMap<AgentContext, RoutesMemory>();

export function peerRouteMemo(ctx: AgentContext): PeerRouteMemo {
  let m = memos.get(ctx);
  if (!m) memos.set(ctx, (m = new PeerRouteMemo()));
  return m;
}

/** Peer routes are the gateway routes; the shims' device routes belong to the macvlan reconciler. */
const ownsPeerRoute = (r: Route) => isXnetRoute(r) && !!r.via && r.dst !== 'default';

export async function reconcileRoutes(ctx: AgentContext): Promise<void> {
  const changes = ctx.routesDirty?.take() ?? { all: true };
  try {
    // Each peer's subnet is checked against its ClusterNetwork: before they are listed every
    // one would look deleted, and every peer route would go (the agent lists them first).
    if (!ctx.caches.clusterNetworks.hasSynced()) throw new Error('ClusterNetworks are not listed yet: no routes pass before they are');
    // one host read: its main table and its addresses (host-reads.ts)
    const [observed, addrs] = await Promise.all([ctx.dp.ip.routes(), ctx.dp.ip.addrs()]);
    const local = localAddresses(addrs);
    const plan = (!changes.all && deltaPlan(ctx, changes.names, observed, local)) || fullPlan(ctx, observed, local);
    // at start-up, a route put back as this boot's record holds it is a heal (heal.ts)
    if (ctx.routesRecord && routesPutBack(plan.ops, ctx.routesRecord.previousRun())) inPlaceBeforeStart();
    let ok = false;
    try {
      if (plan.ops.length) await execute(ctx, plan);
      ok = true;
    } finally {
      record(ctx, observed, plan, ok);
    }
  } catch (e) {
    // what this pass was to do may not be done: the next one looks at every peer
    memories.delete(ctx);
    ctx.routesDirty?.everything();
    throw e;
  }
}

/** The changed peers' destinations only, or undefined when a full pass must decide. */
function deltaPlan(ctx: AgentContext, names: string[], observed: Route[], local: LocalAddresses): Plan | undefined {
  const memory = memories.get(ctx);
  const localKey = local.join(',');
  if (!memory || memory.localKey !== localKey) return undefined;
  const share = (name: string) => {
    const hs = ctx.caches.hostSubnets.get(name);
    return hs && peerShare(ctx.node, hs, ctx.caches, local, localKey, peerRouteMemo(ctx));
  };
  return planDelta(memory, new Map(names.map((n) => [n, share(n)])), observed, ownsPeerRoute);
}

/**
 * Every peer's routes. While a HostSubnet's or ClusterNetwork's key does not decode no peer
 * route is deleted, in doubt: an agent that started after the key went bad does not know which
 * subnet it routes, nor (since peers route only inside their ClusterNetwork) which it allows.
 */
function fullPlan(ctx: AgentContext, observed: Route[], local: LocalAddresses): Plan {
  const parts = new Map<string, PeerPart>();
  const desired = peerRoutes(ctx.node, ctx.caches.hostSubnets.list(), ctx.caches, local, peerRouteMemo(ctx), parts);
  const doubt = unreadable(ctx, 'HostSubnet').size || unreadable(ctx, 'ClusterNetwork').size ? observed.filter(ownsPeerRoute).map((r) => r.dst) : [];
  const plan = planRoutes(desired.routes, observed, ownsPeerRoute, [...desired.keep, ...doubt]);
  ctx.routeProblems = [...desired.problems, ...plan.problems];
  const memory = ctx.routeProblems.length === 0 ? rememberPass(local.join(','), parts) : undefined;
  if (memory) memories.set(ctx, memory); else memories.delete(ctx);
  return plan;
}

/** The peer routes the kernel has after the pass, in the routes record (not in a dry run: it changed nothing). */
function record(ctx: AgentContext, observed: Route[], plan: Plan, ok: boolean): void {
  if (!ctx.routesRecord || ctx.dp.dryRun) return;
  const found = Object.fromEntries(observed.filter((r) => ownsPeerRoute(r) && (!r.table || r.table === 'main')).map((r) => [normalizeDst(r.dst), r.via!]));
  ctx.routesRecord.update(routesAfter(found, plan.ops, ok));
}

async function execute(ctx: AgentContext, plan: Plan): Promise<void> {
  ctx.log.info('routes', { ops: plan.ops.length });
  try {
    // Routes to different peers do not depend on each other: one unreachable next hop
    // must not hold back the rest.
    await ctx.dp.execute(plan.ops, { independent: true });
  } catch (e) {
    ctx.routeProblems = [...ctx.routeProblems, { reason: 'RoutesFailed', message: (e as Error).message }];
    throw e;
  }
}
