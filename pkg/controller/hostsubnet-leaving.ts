// A HostSubnet that goes (its node no longer selected, or its Node deleted) may leave its Docker
// bridge network on the host: containers still attached keep it there (agent: NetworkInUse),
// and with it the subnet they have addresses in. The node's agent keeps its report on the
// HostSubnet until that network is off the host, also after the HostSubnet is deleted
// (agent/reconcilers/host-subnet-reports.ts). While that report is there, the block claims of
// the HostSubnet it is about (its objectUid) are kept, the delete writing the node into them
// (keepClaims): freed at once, the next node to join got the same block, and two hosts held
// one subnet. Kept claims are still claims: no other node is given the block, `xctl ipam
// check` counts them as held by that report (ipam/check-leaving.ts), and the same node,
// selected again, takes its own block back (adoptable). Only the node a claim names keeps it,
// so no other node's report, true or forged, holds a block of a HostSubnet not its own. A
// deleted Node keeps nothing: nobody is left on it to hold anything. A Node whose key does not
// decode, and a report that does not decode, keep everything (unreadable is not absent). Only a
// report its agent marks as one it removes itself keeps anything (api/hostsubnet-report.ts, the
// rule `xctl ipam check` shares): an agent before the mark never removes it, so its HostSubnet's
// delete frees the block and removes the report, as before. As macvlan-leaving.ts.
import { ANY_INCARNATION, reportKeepsFor, reportNetworkElsewhere } from '../api/hostsubnet-report.js';
import type { HostSubnet } from '../api/index.js';
import type { ClaimEntry } from './model.js';
import type { TxnPlan } from './txn-plan.js';
import type { Ctx } from './context.js';

/** Whether `node` can hold anything: its Node is there, or its key does not decode. */
function nodeHolds(ctx: Ctx, node: string): boolean {
  return !!ctx.model.node(node) || ctx.model.cache.isRefused(ctx.model.keys.object('Node', node));
}

/** The incarnation whose block `node`'s report on HostSubnet `name` keeps (reportKeepsFor). */
function keepsFor(ctx: Ctx, node: string, name: string): ReturnType<typeof reportKeepsFor> {
  const refused = ctx.model.cache.isRefused(ctx.model.keys.status('HostSubnet', name, { node }));
  return reportKeepsFor(refused ? 'unreadable' : ctx.model.nodeStatus(node, 'HostSubnet', name));
}

/**
 * Whether `node`'s report on HostSubnet `name` keeps what the incarnation `uid` of it holds: a
 * marked report about that one (or that does not say which), or one that does not decode.
 */
export function reportKeeps(ctx: Ctx, node: string, name: string, uid: string): boolean {
  if (!nodeHolds(ctx, node)) return false;
  const k = keepsFor(ctx, node, name);
  return k === ANY_INCARNATION || k === uid;
}

/**
 * The node whose report keeps claim `c` of a HostSubnet incarnation that is gone, or undefined:
 * nothing keeps it. Only the node the claim names counts (the delete writes it into the claims
 * it keeps): another node's report, true or not, keeps nothing of a HostSubnet not its own.
 */
export function keptBy(ctx: Ctx, c: ClaimEntry): string | undefined {
  const { node, owner } = c.claim;
  return node && owner.kind === 'HostSubnet' && reportKeeps(ctx, node, owner.name, owner.uid) ? node : undefined;
}

/**
 * Which incarnation the delete of HostSubnet `name` (incarnation `uid`, bound to `node`) keeps
 * its claims for, or undefined: no report of `node` keeps them. A report about an earlier
 * incarnation of the name keeps them too, for that one: the node was selected again (the new
 * HostSubnet took the kept block back) while its agent, down or behind, never reported on the
 * new one, and the network of the name it reports on may still hold the block.
 */
export function deleteKeepsFor(ctx: Ctx, node: string, name: string, uid: string): string | undefined {
  if (!nodeHolds(ctx, node)) return undefined;
  const earlier = keepsFor(ctx, node, name);
  if (earlier === undefined) return undefined;
  if (earlier === ANY_INCARNATION || earlier === uid) return uid;
  return earlierIncarnation(ctx, node, name, earlier) ? earlier : undefined;
}

/**
 * Whether `uid` may be an earlier incarnation of HostSubnet `name` of `node`, as the node's
 * report says (untrusted): what it holds, if anything, is blocks kept for that node under
 * that name, and no object now has that uid. Claims handed to the uid of a live object would
 * be taken as its own (its plans free or reuse whatever claims carry its uid). Scans the
 * owners of claims only here: the agent behind on a delete of a node selected again.
 */
function earlierIncarnation(ctx: Ctx, node: string, name: string, uid: string): boolean {
  const ours = (c: ClaimEntry) => c.claim.owner.kind === 'HostSubnet' && c.claim.owner.name === name && c.claim.node === node;
  if (!ctx.model.claimsOf(uid).every(ours)) return false;
  for (const kind of ['HostSubnet', 'ContainerNic', 'MacvlanNet'] as const) {
    for (const e of ctx.model.objects(kind)) if (e.obj.metadata.uid === uid) return false;
  }
  return true;
}

/**
 * The claims of the HostSubnet incarnation `uid` (being deleted, bound to `node`), rewritten
 * to name that node, and the incarnation `keptFor` the report is about, where they do not
 * yet: what keptBy reads once the HostSubnet is gone.
 */
export function keepClaims(ctx: Ctx, plan: TxnPlan, uid: string, node: string, keptFor = uid): void {
  for (const c of ctx.model.claimsOf(uid)) {
    plan.unchanged(c.key, c.kv);
    if (c.claim.node !== node || keptFor !== uid) plan.put(c.key, { ...c.claim, owner: { ...c.claim.owner, uid: keptFor }, node });
  }
}

/**
 * Whether this node report (of a HostSubnet that is gone) keeps a claim now: the sweep of
 * orphaned statuses leaves it to its agent, which removes it once the network is gone.
 */
export function reportKeepsClaims(ctx: Ctx, node: string, report: Record<string, unknown>): boolean {
  if (!nodeHolds(ctx, node)) return false;
  const uid = reportKeepsFor(report);
  if (uid === undefined) return false;
  return uid === ANY_INCARNATION || ctx.model.claimsOf(uid).some((c) => keptBy(ctx, c) === node);
}

/**
 * Whether `node`'s report on HostSubnet `name` is on the one bound to that node now, whatever
 * incarnation it is about: one about an earlier incarnation (the node selected again while its
 * agent is down or behind) is what keeps the block if this one is deleted before the agent
 * writes it anew (deleteKeepsFor), so the sweep of orphaned statuses leaves it to the agent.
 */
export function reportOnOwnHostSubnet(ctx: Ctx, node: string, name: string): boolean {
  return ctx.model.hostSubnet(name)?.obj.spec.node === node;
}

/**
 * Block claims under `blocks` (one ClusterNetwork's) kept for `node` by its reports on
 * HostSubnets that are gone: a HostSubnet of that node and network, made again (the node
 * selected again), takes them over, so its containers still on the network keep their subnet.
 */
export function adoptable(ctx: Ctx, node: string, blocks: string): ClaimEntry[] {
  const { keys, cache } = ctx.model;
  const out: ClaimEntry[] = [];
  for (const kv of cache.entries(keys.status('HostSubnet', '', { node }))) {
    const name = keys.parseStatusKey(kv.key)?.name;
    const uid = name === undefined ? undefined : ctx.model.nodeStatus(node, 'HostSubnet', name)?.objectUid;
    // a HostSubnet whose key does not decode is not gone: what it holds stays its own
    if (typeof uid !== 'string' || ctx.model.hostSubnet(name!)?.obj.metadata.uid === uid || cache.isRefused(keys.object('HostSubnet', name!))) continue;
    out.push(...ctx.model.claimsOf(uid).filter((c) => c.key.startsWith(blocks) && keptBy(ctx, c) === node));
  }
  return out;
}

/**
 * Whether block claim `c` of the live HostSubnet `hs`, a block its subnet no longer covers (its
 * spec.subnet edited), stays claimed: its node's report keeps what this incarnation holds (the
 * rule a delete applies, reportKeeps) and does not say that its Docker network is on a subnet
 * clear of the block now (reportNetworkElsewhere). The agent cannot make the network again on
 * the new subnet while containers are attached (NetworkInUse): until it has, the old block is
 * live on the host, and freed at once, another node was given it.
 */
export function editKeeps(ctx: Ctx, hs: HostSubnet, c: ClaimEntry): boolean {
  const { node } = hs.spec;
  if (!reportKeeps(ctx, node, hs.metadata.name, hs.metadata.uid!)) return false;
  return !reportNetworkElsewhere(ctx.model.nodeStatus(node, 'HostSubnet', hs.metadata.name), c.claim.cidr);
}

/**
 * Keeps the claim `editKeeps` keeps, rewritten to name the node as keepClaims does (so the
 * delete, the audit and another HostSubnet's SubnetConflict read it as held by that node), with
 * the report pinned: a report changed meanwhile plans this again.
 */
export function keepEditedClaim(ctx: Ctx, plan: TxnPlan, node: string, name: string, c: ClaimEntry): boolean {
  const report = ctx.model.keys.status('HostSubnet', name, { node });
  if (!ctx.model.cache.isRefused(report)) plan.unchanged(report, ctx.model.cache.get(report));
  plan.unchanged(c.key, c.kv);
  if (c.claim.node === node) return false;
  plan.put(c.key, { ...c.claim, node });
  return true;
}
