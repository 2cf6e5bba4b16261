// A HostSubnet that goes (its node no longer selected, or its Node deleted) may leave its Docker
// bridge network on the host: containers still attached keep it there (agent: NetworkInUse),
// and with it the subnet they have addresses in. The node's agent keeps its report on the
// HostSubnet until that network is off the host, also after the HostSubnet is deleted
// (agent/reconcilers/host-subnet-reports.ts). While that report is there, the block claims of
// the HostSubnet it is about (its objectUid) are kept: freed at once, the next node to join got
// the same block, and two hosts held one subnet. Kept claims are still claims: no other node is
// given the block, `xctl ipam check` counts them as held by that report (ipam/check-leaving.ts),
// and the same node, selected again, takes its own block back (adoptable). A deleted Node keeps
// nothing: nobody is left on it to hold anything. A Node whose key does not decode, and a report
// that does not decode, keep everything (unreadable is not absent). As macvlan-leaving.ts.
import type { ClaimEntry } from './model.js';
import type { Ctx } from './context.js';

/** Whether `node` can hold anything: its Node is there, or its key does not decode. */
function nodeHolds(ctx: Ctx, node: string): boolean {
  return !!ctx.model.node(node) || ctx.model.cache.isRefused(ctx.model.keys.object('Node', node));
}

/**
 * Whether `node`'s report on HostSubnet `name` keeps what the incarnation `uid` of it holds: a
 * report about that one (or that does not say which), or one that does not decode.
 */
export function reportKeeps(ctx: Ctx, node: string, name: string, uid: string): boolean {
  if (!nodeHolds(ctx, node)) return false;
  if (ctx.model.cache.isRefused(ctx.model.keys.status('HostSubnet', name, { node }))) return true;
  const report = ctx.model.nodeStatus(node, 'HostSubnet', name);
  return !!report && (report.objectUid === undefined || report.objectUid === uid);
}

/**
 * The node whose report keeps the claims of the HostSubnet incarnation `owner` (one that is
 * gone), or undefined: nothing keeps them. Asked of the few claims whose owner is gone.
 */
export function keptBy(ctx: Ctx, owner: { name: string; uid: string }): string | undefined {
  const { keys, cache } = ctx.model;
  const refused = cache.refusedUnder(keys.objects('Node')).map((k) => keys.parseObjectKey(k)?.name);
  const nodes = [...[...ctx.model.objects('Node')].map((n) => n.obj.metadata.name), ...refused];
  return nodes.find((n): n is string => !!n && reportKeeps(ctx, n, owner.name, owner.uid));
}

/**
 * Whether this node report (of a HostSubnet that is gone) keeps a claim now: the sweep of
 * orphaned statuses leaves it to its agent, which removes it once the network is gone.
 */
export function reportKeepsClaims(ctx: Ctx, node: string, name: string, report: Record<string, unknown>): boolean {
  if (!nodeHolds(ctx, node)) return false;
  const uid = report.objectUid;
  return uid === undefined || (typeof uid === 'string' && ctx.model.claimsOf(uid).length > 0 && reportKeeps(ctx, node, name, uid));
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
    out.push(...ctx.model.claimsOf(uid).filter((c) => c.key.startsWith(blocks) && c.claim.owner.kind === 'HostSubnet'));
  }
  return out;
}
