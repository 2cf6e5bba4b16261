// dockerIPAM xnet: when an `external` mark was made, kept in etcd. The marking node's agent
// probes the address again a quarantine after the mark (../dockeripam/external-marks.ts); it
// counted from when it first saw the mark, so an agent restarted more often than the quarantine
// never probed again. The mark's claim records its time (`markedAt`), and the node's part lists
// it next to the address (`externalMarkedAt`), which the agent counts from (distrusting it: a
// time ahead of its clock is now).
import { formatIPv4 } from '../ip/ipv4.js';
import type { ClaimEntry } from './model.js';
import { tryAdd, type MvnRound } from './macvlan-round.js';
import type { TxnPlan } from './txn-plan.js';

/** A mark's time: Unix seconds (as the agent reads it, status.nodes[].externalMarkedAt). */
export function markTime(nowMs = Date.now()): number {
  return Math.floor(nowMs / 1000);
}

/** The most marks listed in one node's part: status.external lists them all already (macvlan-status.ts). */
export const MAX_LISTED_MARKS = 256;

/**
 * Marks the node's pre-claim `e` external as of `markedAt`, when the claim fits this
 * transaction; the round's marks, told in an event, list it.
 */
export function markExternal(r: MvnRound, plan: TxnPlan, e: ClaimEntry, node: string, markedAt: number): boolean {
  const ip = formatIPv4(e.ip);
  const external = { owner: r.owner, role: 'external' as const, ip, node, markedAt };
  if (!tryAdd(r, plan, () => plan.unchanged(e.key, e.kv).put(e.key, external))) return false;
  (r.marked ??= []).push({ ip, node, markedAt });
  return true;
}
