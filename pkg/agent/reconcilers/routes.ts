// Peers' subnets via their underlay address. Runs when a peer's routable HostSubnet or the
// Node of a peer with one changes (events.ts), whenever the kernel reports a route change,
// and at each resync.
import { isXnetRoute, type Route } from '../../netlink/types.js';
import type { LocalAddresses } from '../../api/rules.js';
import { PeerRouteMemo, peerRoutes } from '../peer-routes.js';
import type { AgentContext } from '../context.js';
import { planRoutes } from '../planner/routes.js';

/**
 * This host's own addresses with their network, read off the connected routes of the main
 * table ("198.18.0.0/24 dev eth0 proto kernel scope link src 198.18.0.11"): no extra `ip`
 * process on every pass.
 */
export function localAddresses(routes: Route[]): LocalAddresses {
  return routes.filter((r) => r.prefsrc && r.dst.includes('/')).map((r) => `${r.prefsrc}/${r.dst.split('/')[1]}`);
}

/** Each agent's verdicts on its peers' HostSubnets, kept between passes (peer-routes.ts). */
const memos = new WeakMap<AgentContext, PeerRouteMemo>();

export function peerRouteMemo(ctx: AgentContext): PeerRouteMemo {
  let m = memos.get(ctx);
  if (!m) memos.set(ctx, (m = new PeerRouteMemo()));
  return m;
}

export async function reconcileRoutes(ctx: AgentContext): Promise<void> {
  const observed = await ctx.dp.ip.routes();
  const desired = peerRoutes(ctx.node, ctx.caches.hostSubnets.list(), ctx.caches.nodes, localAddresses(observed), peerRouteMemo(ctx));
  // Peer routes are the gateway routes; the shims' device routes belong to the macvlan reconciler.
  const plan = planRoutes(desired.routes, observed, (r) => isXnetRoute(r) && !!r.via && r.dst !== 'default', desired.keep);
  ctx.routeProblems = [...desired.problems, ...plan.problems].map((p) => p.message);
  if (plan.ops.length) {
    ctx.log.info('routes', { ops: plan.ops.length });
    try {
      // Routes to different peers do not depend on each other: one unreachable next hop
      // must not hold back the rest.
      await ctx.dp.execute(plan.ops, { independent: true });
    } catch (e) {
      ctx.routeProblems = [...ctx.routeProblems, (e as Error).message];
      throw e;
    }
  }
}
