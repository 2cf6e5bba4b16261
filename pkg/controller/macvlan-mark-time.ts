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

/** The most marks listed in one node's part: status.external lists them all already (macvlan-status.ts). */
export const MAX_LISTED_MARKS = 256;

/** Bytes of one mark in status.external (`"255.255.255.255",`). */
const LISTED_BYTES = 18;
/** Bytes of one mark in its node's part: its address again and its time (`1790000000,`). */
const PART_BYTES = 18 + 11;

/**
 * The bytes the MacvlanNet's marks add to its status (the status put is kept room for in each
 * transaction, macvlan-round.ts statusReserve): each in status.external, up to MAX_LISTED_MARKS
 * a node in its part with its time.
 */
export function marksStatusBytes(ctx: Ctx, mvn: string): number {
  const perNode = new Map<string, number>();
  let all = 0;
  for (const c of ctx.model.claimsIn('macvlannets', mvn, 'addresses').values()) {
    if (c.claim.role !== 'external') continue;
    all++;
    const node = c.claim.node ?? '';
    perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  let listed = 0;
  for (const n of perNode.values()) listed += Math.min(n, MAX_LISTED_MARKS);
  return all * LISTED_BYTES + listed * PART_BYTES;
}

/**
 * Marks the node's pre-claim `e` external as of `markedAt`, when the claim and the mark's place
 * in the status fit this transaction; the round's marks, told in an event, list it.
 */
export function markExternal(r: MvnRound, plan: TxnPlan, e: ClaimEntry, node: string, markedAt: number): boolean {
  const ip = formatIPv4(e.ip);
  const external = { owner: r.owner, role: 'external' as const, ip, node, markedAt };
  r.reserve.bytes += LISTED_BYTES + PART_BYTES;
  if (!tryAdd(r, plan, () => plan.unchanged(e.key, e.kv).put(e.key, external))) {
    r.reserve.bytes -= LISTED_BYTES + PART_BYTES;
    return false;
  }
  (r.marked ??= []).push({ ip, node, markedAt });
  return true;
}
