// dockerIPAM xnet: the addresses a selected node's containers use (its report's `assigned`)
// that no claim of that node backs are claimed for it again. They lose their claim when the
// Node is deleted while its agent and containers run on: a deleted Node keeps nothing, and the
// agent, re-registering, has the controller make the Node again (as kubelet's). Meanwhile its
// addresses in use were free for any node's refill, which takes the lowest free ones, where
// they usually are: another node handed one probed it, found it answering and marked it
// `external` (xnet's own container taken for an outsider, held until that Node went), and
// `xctl ipam check` named it unclaimed for as long as its container ran.
//
// The report is untrusted, so only what nobody holds is taken: a free address inside the
// range (no claim, not pinned by a NIC, not a Node's own address), or one marked `external`
// (a mark keeps the address from everyone, as the pre-claim of the node using it does, so no
// holder loses anything; a node that lies about it gets an address that answers ARP, which
// its own probe marks external again once it is idle). An address another node, a shim or a
// NIC holds stays with it: which of two users keeps it is a human's call, `ipam check` names it.
// And one report gets at most MAX_RECLAIM addresses so (its lowest in-use ones inside the range), as it gets at
// most 256 by `requested` and 64 by `want`: a node listing 65,536 containers it does not have
// would otherwise take a shared segment's every free address at once, and none past the bound
// of one node's pre-claims (MAX_NODE_PRECLAIMS, macvlan-requests.ts): listing 256 other free
// addresses in each report, a node took them past it as by `requested`.
//
// The same holds for an address an edit left outside the range (ipRange shrunk, exclude grown)
// while a container uses it: the container keeps it (moving a live container's address is not
// the controller's call), and, as Calico keeps a shrunk pool's allocations in use until they
// are released, so does its claim: kept (keptInUse) as long as the node's report lists it,
// inside `subnet`. Such a claim is announced apart from the addresses at hand
// (`status.nodes[].outsideRange`): the node's IPAM plugin must never hand it to another
// container, and it is freed as soon as the report no longer lists it. Freed at once, `xctl
// ipam check` named it unclaimed for as long as the container ran, and the range growing back
// had nothing but this round's order between it and another holder (a NIC pinning it, applied
// before the round, was accepted).
// Only a claim the node holds is kept outside the range; none is made there. Claimed anew on
// the report's word alone, a node listing addresses it does not use took the gateway, the
// broadcast address, a router's excluded address, and kept them once the range grew back:
// more than a lying node could take before. One freed by an older controller stays unclaimed
// (`ipam check` names it) until its container goes.
import { cidrContains, formatIPv4, parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { macvlanAddressRange } from '../ipam/plan.js';
import { contains } from '../ipam/ranges.js';
import type { Claim } from '../ipam/keys.js';
import type { ClaimEntry } from './model.js';
import type { TxnPlan } from './txn-plan.js';
import type { Ctx } from './context.js';
import { maxPreClaims, preClaimRoom } from './macvlan-requests.js';
import { reportedInUse } from './ipam-report.js';
import { claimAddress, reportOf, tryAdd, type MvnRound } from './macvlan-round.js';

/** The most in-use addresses one report has claimed again for its node (the most `requested` lists). */
export const MAX_RECLAIM = 256;

/**
 * Claims for each node the addresses its report lists in use that nobody holds, before any
 * shim or refill of the round could hand them to another node; files them in `r.reclaimed`.
 */
export function reclaimInUse(ctx: Ctx, r: MvnRound, nodes: string[], plan: TxnPlan): void {
  const range = macvlanAddressRange(r.m.spec, r.takenBlocks);
  const marks = new Map(r.unfreed.map((c) => [c.ip, c]));
  for (const node of nodes) {
    const held = new Set((r.pools.get(node) ?? []).map((c) => c.ip));
    // the budget goes to the lowest listed inside the range: spent on addresses kept below a
    // range shrunk from the bottom, it left in-range ones to another node's refill
    const assigned = [...new Set((reportOf(ctx, r, node)?.assigned ?? []).map((a) => parseIPv4(a.ip)))]
      .filter((ip) => contains(range, ip)).sort((a, b) => a - b);
    // nor past the bound of a node's pre-claims: a liar listing 256 other free addresses a report took them past it
    let room = preClaimRoom(held.size, maxPreClaims(ctx));
    for (const ip of assigned.slice(0, MAX_RECLAIM)) {
      if (held.has(ip)) continue;
      if (!room) break;
      const claim: Claim = { owner: r.owner, role: 'node-pool', ip: formatIPv4(ip), node };
      const mark = marks.get(ip);
      const taken = mark ? takeMark(r, plan, mark, claim) : !r.takenAddrs.has(ip) && claimAddress(r, ip, claim, plan);
      if (!taken) continue;
      marks.delete(ip);
      room--;
      r.reclaimed.set(node, [...(r.reclaimed.get(node) ?? []), ip]);
    }
  }
}

/**
 * Whether the own pre-claim `c`, which the edited range no longer holds (keepOwnClaim), stays
 * because its selected node's report lists it in use (or the report does not decode: unreadable
 * is not absent); if so it is filed into `r.outside`, announced apart and never handed out.
 */
export function keptInUse(ctx: Ctx, r: MvnRound, c: ClaimEntry, selected: Set<string>): boolean {
  const node = c.claim.node;
  if (!r.xnetIpam || c.claim.role !== 'node-pool' || !node || !selected.has(node) || !inSubnet(r, c.ip)) return false;
  if (reportedInUse(ctx, node, r.name, c.claim.ip!) === false) return false;
  r.outside.set(node, [...(r.outside.get(node) ?? []), c.ip]);
  return true;
}

function inSubnet(r: MvnRound, ip: number): boolean {
  try { return cidrContains(parseCidr(r.m.spec.subnet, false), ip); } catch { return false; }
}

/** Turns an `external` mark into the node's pre-claim (guarded: the mark as cached). */
function takeMark(r: MvnRound, plan: TxnPlan, mark: ClaimEntry, claim: Claim): boolean {
  if (!tryAdd(r, plan, () => plan.unchanged(mark.key, mark.kv).put(mark.key, claim), claim.node)) return false;
  r.unfreed = r.unfreed.filter((c) => c !== mark);
  return true;
}
