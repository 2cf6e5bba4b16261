// No NAT inside the cluster, forwarding of cluster traffic, IP forwarding on.
import { desiredNat } from '../desired.js';
import type { AgentContext } from '../context.js';
import { planNat } from '../planner/nat.js';
import { localHostSubnets } from './host-subnets.js';

export async function reconcileNat(ctx: AgentContext): Promise<void> {
  const d = desiredNat(ctx.caches.clusterNetworks.list(), localHostSubnets(ctx));
  const plan = planNat(d, await ctx.dp.natState());
  if (plan.ops.length) {
    ctx.log.info('nat', { ops: plan.ops.map((o) => o.op) });
    await ctx.dp.execute(plan.ops);
  }
}
