// Parents no MacvlanNet uses any more: undo what xnet recorded doing to them (promiscuous mode,
// brought up) and delete the VLAN sub-interfaces it made; a parent still used that no user wants
// promiscuous any more has xnet's promiscuous mode turned off. Runs after a MacvlanNet leaves this
// node and in the agent's garbage pass (so also for MacvlanNets deleted while it was down).
import { unreadable, type AgentContext } from '../context.js';
import { nodeInterface } from '../desired.js';
import { parentUsers, promiscuousWishes } from '../parent-users.js';
import { currentEntries } from '../parent-record.js';
import { ipLine, isIpOp } from '../planner/ops.js';
import {
  isXnetVlan, parentsInUse, parentsWantingPromisc, planParentRelease, takesLinkAway, type ParentRelease, type ParentReleasePlan, type ParentUser,
} from '../planner/parents.js';
import type { HostUse } from '../../netlink/ip.js';

/** What uses parents on this node (parent-users.ts); undefined: in doubt, nothing is released. */
function macvlanUsers(ctx: AgentContext): ParentUser[] | undefined {
  return parentUsers({
    node: ctx.node, self: ctx.caches.nodes.get(ctx.node), macvlanNets: ctx.caches.macvlanNets.list(), nics: ctx.caches.nics.list(),
    unreadable: { macvlanNets: unreadable(ctx, 'MacvlanNet'), nodes: unreadable(ctx, 'Node'), nics: unreadable(ctx, 'ContainerNic') },
  });
}

/**
 * Whether the record names a parent no user in the caches needs (not attached to, or not
 * wanted promiscuous where xnet made it so): a release may have work. Answered from memory,
 * so the many MacvlanNets that do not select this node cost nothing.
 */
export function recordedUnused(ctx: AgentContext): boolean {
  const entries = Object.entries(ctx.parents?.entries() ?? {});
  if (entries.length === 0) return false;
  const users = macvlanUsers(ctx);
  if (!users) return false;
  const inUse = parentsInUse(users, [], { links: [], addrs: [], routes: [] });
  const promisc = parentsWantingPromisc(users, [], new Map());
  return entries.some(([n, e]) => !inUse.has(n) || (e.promisc && !promisc.has(n)));
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
    const wantPromisc = parentsWantingPromisc(users, docker, promiscuousWishes(ctx.caches.macvlanNets.list()));
    const r = { records, inUse: parentsInUse(users, docker, host), wantPromisc, host, nodeInterface: nodeInterface(ctx.caches.nodes.get(ctx.node)) };
    const plan = await releasePlan(r, () => ctx.dp.hostUse());
    if (plan.kept.length) {
      ctx.log.info('leaving up (or in place) links xnet changed or made that the host relies on', { kept: plan.kept.map((k) => `${k.name}: ${k.why}`) });
    }
    if (plan.ops.length) {
      ctx.log.info('undoing what xnet changed on parent interfaces no MacvlanNet uses', { ops: plan.ops.map((o) => (isIpOp(o) ? ipLine(o).join(' ') : o.op)) });
      await ctx.dp.execute(plan.ops);
    }
    record.forget(plan.released);
    record.forgetPromisc(plan.promiscReleased);
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
