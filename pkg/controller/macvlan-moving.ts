// A node's Docker block that an edit of the MacvlanNet moved (keepOwnClaim in macvlan-sort.ts drops
// it, and the node gets another) stays the ip-range of the node's Docker network while a
// container is attached there: Docker cannot make the network again until they go (agent
// planner/docker-networks.ts, NetworkInUse), and until then it hands out the old block's
// addresses to every `docker run`. Freed, those addresses could go to a ContainerNic or into
// another node's block: one address twice on a shared segment. So the old block stays claimed,
// announced as the node's `previousDockerRange`, while the node's own report on the MacvlanNet
// says its Docker network has that ip-range; it is freed once the report shows another (the
// agent made the network on the new block) or none.
// The report is untrusted: it is decoded, and it is the node's own (only its agent writes its
// status keys), so a node keeps only a block the controller gave it; one that lies keeps at
// most one such block of its own claimed (docs/security.md).
import { formatCidr, parseCidr } from '../ip/ipv4.js';
import type { ClaimEntry } from './model.js';
import type { Ctx } from './context.js';
import type { TxnPlan } from './txn-plan.js';

/**
 * The ip-range a node's report says its Docker network has (normalised), when the report is
 * about this incarnation of the MacvlanNet (`uid`) and names a CIDR; else undefined.
 */
export function reportedDockerRange(report: Record<string, unknown> | undefined, uid: string): string | undefined {
  if (!report || (report.objectUid !== undefined && report.objectUid !== uid)) return undefined;
  const range = report.dockerRange;
  if (typeof range !== 'string') return undefined;
  try {
    return formatCidr(parseCidr(range));
  } catch {
    return undefined;
  }
}

/**
 * Whether the own Docker block `c`, which its selected node no longer keeps as its block, is
 * still its Docker network's ip-range by the node's report; if so it is filed into `previous`
 * (one a node: a second is not kept).
 */
export function inUseByDocker(ctx: Ctx, mvn: string, uid: string, c: ClaimEntry, selected: Set<string>, previous: Map<string, ClaimEntry>): boolean {
  const node = c.claim.node;
  if (c.claim.role !== 'docker-block' || !node || !selected.has(node) || previous.has(node)) return false;
  if (reportedDockerRange(ctx.model.nodeStatus(node, 'MacvlanNet', mvn), uid) !== c.claim.cidr) return false;
  previous.set(node, c);
  return true;
}

/**
 * A node's Docker block is freed on its report (this one's and macvlan-leaving.ts): the
 * transaction holds only while the report is as cached, so a report that changed meanwhile
 * (the agent now says Docker has that block) is read before anything is freed. One compare per
 * node whatever it frees (TxnPlan merges equal compares).
 */
export function freedOnReport(ctx: Ctx, plan: TxnPlan, mvn: string, c: ClaimEntry): void {
  const node = c.claim.node;
  if (c.claim.role !== 'docker-block' || !node) return;
  const key = ctx.model.keys.status('MacvlanNet', mvn, { node });
  plan.unchanged(key, ctx.model.cache.get(key));
}
