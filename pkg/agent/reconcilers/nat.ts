// No NAT inside the cluster, forwarding of cluster traffic, IP forwarding on; and once nothing
// on the node needs them, xnet's chains and jumps off the host (planner/nat-teardown.ts).
import { desiredNat } from '../desired.js';
import { unreadable, type AgentContext } from '../context.js';
import { planNat } from '../planner/nat.js';
import { natNeeded, planNatTeardown } from '../planner/nat-teardown.js';
import { localHostSubnets } from './host-subnets.js';
import { nodeNameProblems } from '../names.js';
import { withoutCounting } from '../heal.js';
import type { Op } from '../planner/ops.js';

export async function reconcileNat(ctx: AgentContext): Promise<void> {
  // a HostSubnet the agent does not act on (a name another one holds: names.ts) gets no rules
  const clashes = nodeNameProblems(ctx);
  const local = localHostSubnets(ctx);
  // The Docker networks of all of this node's HostSubnets are xnet's (owner.ts): also of one
  // being deleted or gone whose network its containers still hold (this node keeps its report
  // of it until the network goes: host-subnet-reports.ts; their traffic to the live ones must
  // not fall into Docker's isolation), and of one whose key does not decode.
  const mine = ctx.caches.hostSubnets.list().filter((h) => h.spec.node === ctx.node).map((h) => h.metadata.name);
  const served = [...mine, ...(ctx.ownReports?.('HostSubnet') ?? []), ...unreadable(ctx, 'HostSubnet')];
  const d = desiredNat(ctx.caches.clusterNetworks.list(), local.filter((h) => !clashes.has(`HostSubnet/${h.metadata.name}`)), served);
  const observed = await ctx.dp.natState();
  // A ClusterNetwork or HostSubnet whose key does not decode is not absent (docs/security.md):
  // it may be what needs the chains, so they stay while any is so.
  const doubt = unreadable(ctx, 'ClusterNetwork').size > 0 || unreadable(ctx, 'HostSubnet').size > 0;
  const plan = natNeeded(d) || doubt ? planNat(d, observed) : planNatTeardown(observed);
  if (plan.ops.length) {
    ctx.log.info('nat', { ops: plan.ops.map((o) => o.op) });
    // xnet's jumps put back above the rules Docker just wrote for a network xnet made: no heal
    const followUp = ctx.followingOwnNatChange?.() && onlyJumpMoves(plan.ops);
    await (followUp ? withoutCounting(() => ctx.dp.execute(plan.ops)) : ctx.dp.execute(plan.ops));
  }
}

const JUMP_LINE = /^-(D|I) (POSTROUTING|FORWARD)( \d+)? -j XNET-(POSTROUTING|FORWARD)$/;

/** Whether the ops only move xnet's jumps (each put back is first deleted where it was), not add one that was gone. */
export function onlyJumpMoves(ops: Op[]): boolean {
  const lines = ops.flatMap((o) => (o.op === 'iptables.restore' ? o.lines : [`${o.op}`]));
  if (!lines.every((l) => JUMP_LINE.test(l))) return false;
  const count = (verb: string) => lines.filter((l) => l.startsWith(verb)).length;
  return count('-D') >= count('-I');
}
