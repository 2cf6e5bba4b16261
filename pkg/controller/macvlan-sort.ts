// A MacvlanNet round's own claims (macvlan.ts startRound), sorted: kept for a selected node
// (filed by node and role in the round), kept while a container uses it (outside the range, a
// node that left, Docker's old block), an external mark kept, or freed in the round's
// transaction while it holds them.
import type { TxnPlan } from './txn-plan.js';
import type { ClaimEntry } from './model.js';
import type { Ctx } from './context.js';
import { parseCidr } from '../ip/ipv4.js';
import { macvlanBlockFits } from '../ipam/plan.js';
import { contains } from '../ipam/ranges.js';
import { heldByLeavingNode } from './macvlan-leaving.js';
import { keptInUse } from './macvlan-reclaim.js';
import { markCleared } from './macvlan-unmark.js';
import { fitsFor, freeClaim, neverFits, type MvnRound } from './macvlan-round.js';
import { freedOnReport, inUseByDocker } from './macvlan-moving.js';

/**
 * Files each own claim of the round as kept or unfreed, then frees the others (while the
 * transaction holds them): only once every claim is filed is a node's part whole, and the room
 * fitsFor keeps for it as large as it will be. A release no transaction holds beside its node's
 * part (too large from before MAX_NODE_PRECLAIMS) waits for no next one: the part is skipped.
 */
export function sortOwnClaims(ctx: Ctx, r: MvnRound, selected: Set<string>, plan: TxnPlan): void {
  const { name, owner: { uid } } = r;
  const poolPrefix = ctx.model.ipam.pool('macvlannets', name);
  const freed: Array<{ c: ClaimEntry; unmarked: boolean }> = [];
  for (const c of ctx.model.claimsOf(uid)) {
    // a mark its node's probe found free again is freed like any claim no one keeps
    const unmarked = c.claim.role === 'external' && markCleared(ctx, r, c);
    if (c.claim.role === 'external' && c.key.startsWith(poolPrefix) && externalKept(ctx, c) && !unmarked) { r.unfreed.push(c); continue; }
    if (c.key.startsWith(poolPrefix) && (keepOwnClaim(r, c, selected) || keptInUse(ctx, r, c, selected) || inUseByDocker(ctx, name, uid, c, selected, r.previous)
      || heldByLeavingNode(ctx, name, selected, c, r.leaving))) continue;
    freed.push({ c, unmarked });
  }
  for (const { c, unmarked } of freed) {
    const mark = plan.mark();
    freedOnReport(ctx, plan, name, c);
    freeClaim(plan, c);
    if (!fitsFor(r, plan, c.claim.node)) {
      const never = neverFits(r, plan, mark, c.claim.node);
      plan.rollback(mark);
      if (!never) r.more = true;
      continue;
    }
    if (c.claim.role === 'docker-block') r.freeing = true;
    if (unmarked) (r.unmarked ??= []).push({ ip: c.claim.ip!, node: c.claim.node! });
  }
}

/**
 * An address a node's ARP probe found in use outside xnet stays marked while that Node exists
 * (or does not decode: unreadable is not gone). A deleted Node's word is no longer taken: a
 * lying node's marks would otherwise hold the pool until the MacvlanNet went. Freed, such an
 * address is probed again by the next node handed it.
 */
function externalKept(ctx: Ctx, c: ClaimEntry): boolean {
  const node = c.claim.node;
  return !node || !!ctx.model.node(node) || ctx.model.cache.isRefused(ctx.model.keys.object('Node', node));
}

/**
 * Whether an own claim is still wanted; files it under its node when so. One the edited range
 * (subnet, ipRange, exclude, gateway, blockPrefix) no longer covers is not: it is freed in this
 * transaction and the node gets another from the range below, as a new node would.
 */
function keepOwnClaim(r: MvnRound, c: ClaimEntry, selected: Set<string>): boolean {
  const node = c.claim.node;
  if (!node || !selected.has(node)) return false;
  if (c.claim.role === 'docker-block') {
    if (r.xnetIpam || !macvlanBlockFits(r.m.spec, parseCidr(c.claim.cidr!)) || r.blocks.has(node)) return false;
    r.blocks.set(node, c);
    return true;
  }
  if (!contains(r.addrRange, c.ip)) return false;
  if (c.claim.role === 'node-pool') {
    if (!r.xnetIpam) return false;
    const list = r.pools.get(node) ?? [];
    list.push(c);
    r.pools.set(node, list);
    return true;
  }
  if (c.claim.role !== 'shim' || r.shims.has(node)) return false;
  r.shims.set(node, c);
  return true;
}
