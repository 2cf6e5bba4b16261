// No NAT inside the cluster, forwarding of cluster traffic, IP forwarding on; and once nothing
// on the node needs them, xnet's chains and jumps off the host (planner/nat-teardown.ts).
import { desiredNat } from '../desired.js';
import { unreadable, type AgentContext } from '../context.js';
import { planNat } from '../planner/nat.js';
import { natNeeded, planNatTeardown } from '../planner/nat-teardown.js';
import { localHostSubnets } from './host-subnets.js';
import { nodeNameProblems } from '../names.js';

export async function reconcileNat(ctx: AgentContext): Promise<void> {
  // a HostSubnet the agent does not act on (a name another one holds: names.ts) gets no rules
  const clashes = nodeNameProblems(ctx);
  const d = desiredNat(ctx.caches.clusterNetworks.list(), localHostSubnets(ctx).filter((h) => !clashes.has(`HostSubnet/${h.metadata.name}`)));
  const observed = await ctx.dp.natState();
  // A ClusterNetwork or HostSubnet whose key does not decode is not absent (docs/security.md):
  // it may be what needs the chains, so they stay while any is so.
  const doubt = unreadable(ctx, 'ClusterNetwork').size > 0 || unreadable(ctx, 'HostSubnet').size > 0;
  const plan = natNeeded(d) || doubt ? planNat(d, observed) : planNatTeardown(observed);
  if (plan.ops.length) {
    ctx.log.info('nat', { ops: plan.ops.map((o) => o.op) });
    await ctx.dp.execute(plan.ops);
  }
}
