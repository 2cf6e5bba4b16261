// One planning of one MacvlanNet's per-node parts (macvlan.ts): what the round shares between
// its nodes, and the steps that add a claim or a release to its transaction only when it fits.
import type { ConflictsFound } from './macvlan-conflicts.js';
import { blockOfAddress, macvlanAddressRange } from '../ipam/plan.js';
import type { Interval } from '../ipam/ranges.js';
import { padIp, type Claim, type ClaimOwner } from '../ipam/keys.js';
import type { MacvlanNet } from '../api/index.js';
import type { NodeIpamReport } from '../dockeripam/report.js';
import { nodeIpamReport } from './ipam-report.js';
import type { FairRound } from './macvlan-fair.js';
import type { GiveBacks } from './macvlan-give-back.js';
import type { LeavingParts } from './macvlan-leaving.js';
import type { ClaimEntry } from './model.js';
import type { AddressTaker } from './address-cooldown.js';
import type { TxnPlan } from './txn-plan.js';
import type { Ctx } from './context.js';

/**
 * Room kept in the transaction for the status puts written last: the status key's and the pool
 * counts' compares and ops (a node's part is a put of its own, kept room for as the round
 * touches the node: fitsFor), ~300 bytes a node, ~640 for a Ready message naming overrides of
 * no Node, ~400 for those of a Node not selected (node-missing.ts), ~600 for poolUsedUp (512
 * characters, JSON-escaped) and what the external marks take (`markBytes`,
 * macvlan-mark-time.ts; a mark the round makes adds its own).
 */
export const statusReserve = (nodes: number, markBytes = 0) => ({ compares: 2, ops: 2, bytes: 2664 + 300 * nodes + markBytes });

/** What a node's part put adds beyond its share of statusReserve's bytes: its key (bynode/<node>/status/controller/macvlannets/<name>) and its op. */
const PART_KEY_BYTES = 200;

/** The most one address takes in a part's lists: "255.255.255.255", quoted, and a comma. */
const ADDRESS_BYTES = 18;

/**
 * What the node's part put takes in the transaction: its key and fields, and each address it
 * lists (held, reclaimed, kept by a node that left; outsideRange twice: also in the shared
 * key). An address this round claims is counted by its claim's own put, larger than its place
 * in the list. Whole once the round has sorted its claims (macvlan-sort.ts).
 */
function partBytes(r: MvnRound, node: string): number {
  const addrs = (r.pools.get(node)?.length ?? 0) + (r.reclaimed.get(node)?.length ?? 0) + 2 * (r.outside.get(node)?.length ?? 0)
    + (r.leaving.get(node)?.addresses.length ?? 0);
  return PART_KEY_BYTES + ADDRESS_BYTES * addrs;
}

/**
 * Whether what was added since `m` for `node` fits no transaction, even one of its own with
 * only the node's part and the status beside it: a part too large from before
 * MAX_NODE_PRECLAIMS (macvlan-requests.ts). Waiting for the next transaction would not help.
 */
export function neverFits(r: MvnRound, plan: TxnPlan, m: ReturnType<TxnPlan['mark']>, node: string | undefined): boolean {
  return !plan.fitsAloneSince(m, r.reserve.bytes + (node === undefined ? 0 : partBytes(r, node)));
}

/** Everything one planning of one MacvlanNet shares between its nodes. */
export interface MvnRound {
  name: string;
  m: MacvlanNet;
  owner: ClaimOwner;
  xnetIpam: boolean;
  addrSpace: string;
  blockSpace: string;
  /** this MacvlanNet's own per-node claims that stay, by node */
  blocks: Map<string, ClaimEntry>;
  /** a block the node's Docker network still has after an edit moved it (macvlan-moving.ts), by node */
  previous: Map<string, ClaimEntry>;
  shims: Map<string, ClaimEntry>;
  /** shim addresses claimed in this transaction, per node */
  newShims: Map<string, string>;
  pools: Map<string, ClaimEntry[]>;
  /** where a shim or pre-claimed address may stay: macvlanAddressRange as the round starts */
  addrRange: Interval[];
  /** every address and block taken in the pool, including what this round claimed, and the addresses held back (routed by a Node, pinned by a NIC) */
  takenAddrs: Set<number>;
  takenBlocks: Interval[];
  /** what this round claimed, shared with NICs planned in the same transaction */
  rp: { blocks: Interval[]; addrs: Set<number> };
  nicTaken: Set<number>;
  /** room kept for the status puts (the shared key, the pool counts) */
  reserve: ReturnType<typeof statusReserve>;
  /**
   * the nodes whose claims this transaction changes: their parts (keys.macvlanPart) are written
   * in it, whatever else waits for the next (macvlan-status-keys.ts), so room is kept for each
   */
  touched: Set<string>;
  /** something did not fit this transaction: the rest follows in the next */
  more: boolean;
  /** the node being planned has an item no transaction holds: the rest of its part is skipped */
  skipping: boolean;
  /** an own block is deleted in this round: a node left without one may get one in the next */
  freeing: boolean;
  /** a node waits for a block this round frees: plan again once it has committed */
  again: boolean;
  /** what nodes no longer selected still hold (macvlan-leaving.ts) */
  leaving: LeavingParts;
  /** own claims neither kept nor freed by the round (external marks): a finished delete takes them */
  unfreed: ClaimEntry[];
  /** dockerIPAM xnet on a small pool: the nodes' fair shares (macvlan-fair.ts) */
  fair?: FairRound;
  /** dockerIPAM xnet: addresses in use on a node claimed for it again in this round (macvlan-reclaim.ts), by node */
  reclaimed: Map<string, number[]>;
  /** dockerIPAM xnet: own pre-claims outside the range that a node's containers still use, kept (macvlan-reclaim.ts keptInUse), by node */
  outside: Map<string, number[]>;
  /** dockerIPAM xnet: idle pre-claims asked back for another node's --ip (macvlan-give-back.ts) */
  giveBacks?: GiveBacks;
  /** each node's IPAM report, decoded once a round */
  reports: Map<string, NodeIpamReport | undefined>;
  /** dockerIPAM xnet: pre-claims this round marks external (they answered a node's ARP probe), told in an event once committed */
  marked?: Array<{ ip: string; node: string; markedAt?: number }>;
  /** dockerIPAM xnet: external marks this round frees, their node's probe found them free again (macvlan-unmark.ts) */
  unmarked?: Array<{ ip: string; node: string }>;
  /** dockerIPAM blocks: addresses held twice on the segment, written in the status (macvlan-conflicts.ts) */
  conflicts?: ConflictsFound;
  /** until when (monotonic ms) an address stays out of a taker's hands after its release (address-cooldown.ts), or undefined: free now */
  cooling: (ip: number, taker: AddressTaker, node?: string) => number | undefined;
  /** a node's shim, block or refill that found only addresses cooling down, and when the first comes free, by "<node>/<what>" (macvlan-cooling.ts) */
  coolingWaits: Map<string, number>;
}

/** The node's IPAM report for this MacvlanNet, decoded once a round. */
export function reportOf(ctx: Ctx, r: MvnRound, node: string): NodeIpamReport | undefined {
  if (!r.reports.has(node)) r.reports.set(node, nodeIpamReport(ctx, node, r.name));
  return r.reports.get(node);
}

/**
 * Deletes an own claim as cached: one another writer changed meanwhile fails the transaction,
 * and the read-back has the next plan see what it holds now instead of deleting it blind.
 */
export function freeClaim(plan: TxnPlan, c: ClaimEntry): void {
  plan.unchanged(c.key, c.kv).del(c.key);
}

/**
 * Adds one item of a node's part (a claim, a release) when it fits this transaction with room
 * left for the status, else undoes it. An item that does not fit after others marks the round
 * `more`: what fitted commits, the rest follows in the next transaction, so a part of any size
 * goes through in pieces. One that does not fit even a plan holding nothing else, or holding
 * only its node's part and the status (neverFits), never will: that node's part is skipped (its
 * status says so) and the nodes after it go on.
 */
export function tryAdd(r: MvnRound, plan: TxnPlan, add: () => void, node: string | undefined): boolean {
  if (r.more || r.skipping) return false;
  const m = plan.mark();
  add();
  if (fitsFor(r, plan, node)) return true;
  const never = m.o === 0 || neverFits(r, plan, m, node);
  plan.rollback(m);
  if (never) r.skipping = true;
  else r.more = true;
  return false;
}

/**
 * Whether the plan leaves room for the status: statusReserve, and a part put for each node
 * touched so far and for `node` (the node an item just added concerns), which is then touched,
 * as large as that part is (partBytes): a node holding more than a transaction holds beside the
 * status gets no item in any (its part is skipped: tryAdd).
 */
export function fitsFor(r: MvnRound, plan: TxnPlan, node: string | undefined): boolean {
  const added = node !== undefined && !r.touched.has(node);
  const parts = r.touched.size + (added ? 1 : 0);
  let bytes = r.reserve.bytes + (added ? partBytes(r, node) : 0);
  for (const t of r.touched) bytes += partBytes(r, t);
  if (!plan.fitsWith({ compares: r.reserve.compares + parts, ops: r.reserve.ops + parts, bytes })) return false;
  if (node !== undefined) r.touched.add(node);
  return true;
}

/** Free addresses found for a taker, and when the first cooling one it passed over comes free when it found fewer than it asked for. */
export interface FreeFound { ips: number[]; coolingUntil?: number }

/**
 * The free addresses of the pool, lowest first, outside every Docker block, for a shim or a
 * refill: not one a node asks for by name, reserved for it (macvlan-reserved.ts), nor one still
 * cooling down for that taker (a refill: for that node) after its release (address-cooldown.ts).
 */
export function freeAddresses(r: MvnRound, n: number, taker: 'shim' | 'node-pool', node?: string): FreeFound {
  const ips: number[] = [];
  const reserved = r.giveBacks?.wanted;
  let soonest: number | undefined;
  for (const range of macvlanAddressRange(r.m.spec, r.takenBlocks)) {
    for (let a = range.first; a <= range.last && ips.length < n; a++) {
      if (r.takenAddrs.has(a) || reserved?.has(a)) continue;
      const until = r.cooling(a, taker, node);
      if (until === undefined) ips.push(a);
      else soonest = Math.min(soonest ?? until, until);
    }
    if (ips.length >= n) break;
  }
  return ips.length < n && soonest !== undefined ? { ips, coolingUntil: soonest } : { ips };
}

/** Claims one address for the node (guarded: no such claim, no block over it), if it fits. */
export function claimAddress(r: MvnRound, ip: number, claim: Claim, plan: TxnPlan): boolean {
  const key = r.addrSpace + padIp(ip);
  if (!tryAdd(r, plan, () => plan.absent(key).absent(r.blockSpace + padIp(blockOfAddress(r.m.spec, ip).base)).put(key, claim), claim.node)) return false;
  r.takenAddrs.add(ip);
  r.rp.addrs.add(ip);
  r.nicTaken.add(ip);
  return true;
}
