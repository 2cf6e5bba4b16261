// dockerIPAM xnet: when an `external` mark was made, kept in etcd. The marking node's agent
// probes the address again a quarantine after the mark (../dockeripam/external-marks.ts); it
// counted from when it first saw the mark, so an agent restarted more often than the quarantine
// never probed again. The mark's claim records its time (`markedAt`), and the node's part lists
// it next to the address (`externalMarkedAt`), which the agent counts from (distrusting it: a
// time ahead of its clock is now). Also what the status of the marks weighs in a transaction.
import { formatIPv4 } from '../ip/ipv4.js';
import type { ClaimEntry } from './model.js';
import type { Ctx } from './context.js';
import { tryAdd, type MvnRound } from './macvlan-round.js';
import type { TxnPlan } from './txn-plan.js';

/** A mark's time: Unix seconds (as the agent reads it, status.nodes[].externalMarkedAt). */
export function markTime(nowMs = Date.now()): number {
  return Math.floor(nowMs / 1000);
}

/** The most marks listed in one node's part (macvlan-status.ts withMarks). */
export const MAX_LISTED_MARKS = 256;

/**
 * The most marks status.external lists, lowest first (macvlan-status.ts); status.externalCount
 * counts them all when there are more. Listed without a cap, the ~110,000 marks a lying node can
 * make on a large pool made the status larger than etcd takes in a request, and it was never
 * written again, not even by the transaction freeing that deleted Node's marks.
 */
export const MAX_STATUS_EXTERNAL = 1024;

/** Bytes of a mark in status.external (`"255.255.255.255",`), the most an address takes. */
const LISTED_BYTES = 18;
/** Bytes of a mark in its node's part: its address again and its time (`1790000000,`). */
const PART_BYTES = 18 + 11;
/** Bytes of the lists' names in a part with marks (`,"external":[],"externalMarkedAt":[]`), and in the status. */
const PART_KEYS_BYTES = 36;
const LISTED_KEY_BYTES = 14;
/** Bytes of the count beside a capped status.external (`,"externalCount":4294967296`). */
const COUNT_BYTES = 28;

/** A mark's bytes in a list: its address in JSON (`"10.0.0.1",`); its time (`1790000000,`, `0,` without one). */
const ipBytes = (ip: string) => ip.length + 3;
const timeBytes = (t: number | undefined) => String(t ?? 0).length + 1;

/**
 * The bytes the MacvlanNet's marks add to its status (the status put is kept room for in each
 * transaction, macvlan-round.ts statusReserve), at most what they take, not much more: up to
 * MAX_STATUS_EXTERNAL in status.external (and its count when there are more), up to
 * MAX_LISTED_MARKS a node in its part with its time, only for a node
 * that can have a part (a deleted Node has none: its marks are freed, macvlan-sort.ts externalKept).
 * Kept larger than that, a round fitted nothing, not even the releases that shrink the status.
 */
export function marksStatusBytes(ctx: Ctx, mvn: string): number {
  const perNode = new Map<string, number[]>();
  const all: number[] = [];
  for (const c of ctx.model.claimsIn('macvlannets', mvn, 'addresses').values()) {
    if (c.claim.role !== 'external' || !c.claim.ip) continue;
    all.push(ipBytes(c.claim.ip));
    const node = c.claim.node ?? '';
    const sizes = perNode.get(node) ?? [];
    if (!sizes.length) perNode.set(node, sizes);
    sizes.push(ipBytes(c.claim.ip) + timeBytes(c.claim.markedAt));
  }
  let parts = 0;
  for (const [node, sizes] of perNode) if (mayHavePart(ctx, node)) parts += PART_KEYS_BYTES + listedBytes(sizes, MAX_LISTED_MARKS);
  const count = all.length > MAX_STATUS_EXTERNAL ? COUNT_BYTES : 0;
  return (all.length ? LISTED_KEY_BYTES + listedBytes(all, MAX_STATUS_EXTERNAL) + count : 0) + parts;
}

/** What a list of `sizes` takes at most: the `max` lowest addresses are listed, each no larger than the largest. */
function listedBytes(sizes: number[], max: number): number {
  if (sizes.length <= max) return sizes.reduce((s, n) => s + n, 0);
  return max * sizes.reduce((m, n) => Math.max(m, n), 0);
}

/** A selected or leaving node's part lists its marks (macvlan-status.ts withMarks): its Node is there, or does not decode. */
function mayHavePart(ctx: Ctx, node: string): boolean {
  return !!node && (!!ctx.model.node(node) || ctx.model.cache.isRefused(ctx.model.keys.object('Node', node)));
}

/**
 * Marks the node's pre-claim `e` external as of `markedAt`, when the claim and the mark's place
 * in the status fit this transaction; the round's marks, told in an event, list it.
 */
export function markExternal(r: MvnRound, plan: TxnPlan, e: ClaimEntry, node: string, markedAt: number): boolean {
  const ip = formatIPv4(e.ip);
  const external = { owner: r.owner, role: 'external' as const, ip, node, markedAt };
  // its node's part may list marks for the first time: the lists' names too
  const bytes = LISTED_BYTES + PART_BYTES + PART_KEYS_BYTES + LISTED_KEY_BYTES;
  r.reserve.bytes += bytes;
  if (!tryAdd(r, plan, () => plan.unchanged(e.key, e.kv).put(e.key, external), node)) {
    r.reserve.bytes -= bytes;
    return false;
  }
  (r.marked ??= []).push({ ip, node, markedAt });
  return true;
}
