// Parents no MacvlanNet uses any more: undo what xnet recorded doing to them (promiscuous mode,
// brought up) and delete the VLAN sub-interfaces it made. Runs after a MacvlanNet leaves this
// node and in the agent's garbage pass (so also for MacvlanNets deleted while it was down).
import { unreadable, type AgentContext } from '../context.js';
import { isDeleting, macvlanParent, nodeInterface, selects } from '../desired.js';
import { currentEntries } from '../parent-record.js';
import { ipLine, isIpOp } from '../planner/ops.js';
import { isXnetVlan, parentsInUse, planParentRelease, takesLinkAway, type ParentRelease, type ParentReleasePlan } from '../planner/parents.js';
import type { HostUse } from '../../netlink/ip.js';

/**
 * The parents of the MacvlanNets that select this node; undefined when one of them has none
 * known yet (the Node's interface not reported yet), or when a MacvlanNet's or this Node's
 * key does not decode (its parent or labels are unknown): then nothing is released, in doubt.
 */
function macvlanUsers(ctx: AgentContext): { parent: string; vlan?: number }[] | undefined {
  const self = ctx.caches.nodes.get(ctx.node);
  if (!self || unreadable(ctx, 'MacvlanNet').size || unreadable(ctx, 'Node').has(ctx.node)) return undefined;
  const out: { parent: string; vlan?: number }[] = [];
  for (const m of ctx.caches.macvlanNets.list()) {
    if (isDeleting(m) || !selects(m.spec.nodeSelector, self)) continue;
    const parent = macvlanParent(m, self, ctx.node);
    if (!parent) return undefined;
    out.push({ parent, ...(m.spec.vlan ? { vlan: m.spec.vlan } : {}) });
  }
  return out;
}

/**
 * Whether the record names a parent no MacvlanNet in the caches uses: a release may have work.
 * Answered from memory, so the many MacvlanNets that do not select this node cost nothing.
 */
export function recordedUnused(ctx: AgentContext): boolean {
  const names = Object.keys(ctx.parents?.entries() ?? {});
  if (names.length === 0) return false;
  const users = macvlanUsers(ctx);
  if (!users) return false;
  const inUse = parentsInUse(users, [], { links: [], addrs: [], routes: [] });
  return names.some((n) => !inUse.has(n));
}

export async function releaseParents(ctx: AgentContext): Promise<void> {
  const record = ctx.parents;
  if (!record || ctx.dp.dryRun) return;
  await record.serial(async () => {
    const host = await ctx.dp.hostState();
    const all = record.entries();
    const records = currentEntries(all, host.links);
    // made again since, or gone: the entry says nothing about the link of that name now
    record.forget(Object.keys(all).filter((n) => !(n in records)));
    if (Object.keys(records).length === 0 && !host.links.some(isXnetVlan)) return;
    // every Docker network, the user's too: a user's macvlan on a parent xnet changed keeps it
    const docker = await ctx.dp.docker.listNetworks();
    // read last: a MacvlanNet that arrived meanwhile keeps its parent
    const users = macvlanUsers(ctx);
    if (!users) return;
    const r = { records, inUse: parentsInUse(users, docker, host), host, nodeInterface: nodeInterface(ctx.caches.nodes.get(ctx.node)) };
    const plan = await releasePlan(r, () => ctx.dp.hostUse());
    if (plan.kept.length) {
      ctx.log.info('leaving up (or in place) links xnet changed or made that the host relies on', { kept: plan.kept.map((k) => `${k.name}: ${k.why}`) });
    }
    if (plan.ops.length) {
      ctx.log.info('undoing what xnet changed on parent interfaces no MacvlanNet uses', { ops: plan.ops.map((o) => (isIpOp(o) ? ipLine(o).join(' ') : o.op)) });
      await ctx.dp.execute(plan.ops);
    }
    record.forget(plan.released);
  });
}

/**
 * The release plan. Planned first against the host read's own view (IPv4 addresses, the IPv4
 * main table): only when that plan takes a link down or deletes one is the host's whole use of
 * its links read (every address family, every routing table, the policy rules: five `ip`
 * reads) and the plan made again with it. More use only ever keeps links, so the second plan
 * is the first or less.
 * A read that fails throws: nothing is released this pass, in doubt.
 */
export async function releasePlan(r: Omit<ParentRelease, 'use'>, readUse: () => Promise<HostUse>): Promise<ParentReleasePlan> {
  const first = planParentRelease({ ...r, use: { ...r.host, rules: [] } });
  if (!takesLinkAway(first.ops)) return first;
  return planParentRelease({ ...r, use: await readUse() });
}
