// dockerIPAM xnet: the end of an `external` mark. A node's ARP probe that found an address
// answering marks it (macvlan.ts ensureNodePool), and the node's agent probes it again after a
// quarantine (../dockeripam/external-marks.ts); when nobody answers, its report lists the
// address as `cleared` and the round frees the mark: the address is free again, for any node's
// refill or NIC, each of which looks before use. Only the node whose probe made the mark ends
// it: the report read is that node's own (only its agent writes its status keys), and another
// node's `cleared` names no mark of its own. A report read before it changed is no risk: an
// address the node once found free is probed again by whoever is handed it next.
import type { ClaimEntry } from './model.js';
import type { Ctx } from './context.js';
import { reportOf, type MvnRound } from './macvlan-round.js';

/** Whether the external mark `c` is over: the node that made it reports it cleared. */
export function markCleared(ctx: Ctx, r: MvnRound, c: ClaimEntry): boolean {
  const node = c.claim.node;
  if (!r.xnetIpam || c.claim.role !== 'external' || !node || !c.claim.ip) return false;
  return !!reportOf(ctx, r, node)?.cleared?.includes(c.claim.ip);
}
