// dockerIPAM xnet: the word that the pool is used up (status.poolUsedUp, once per MacvlanNet)
// and the node parts it is for (status.nodes[].usedUp; the rule is ../dockeripam/used-up.ts),
// so the node's IPAM plugin refuses a request at once instead of after its 20 s. Decided once
// every node's part is planned: a node planned after the one starving may be refilled or
// return addresses in the same round. The reason was once copied into each asking node's part:
// 512 bytes a node, about 700 KB of one key at 1,000 asking nodes (etcd takes 1.5 MiB a request).
import { MAX_USED_UP_REASON, type MacvlanNodeStatus } from '../api/index.js';
import { macvlanAddressRange } from '../ipam/plan.js';
import { poolUsedUp, usedUpReason } from '../dockeripam/used-up.js';
import { parseIPv4 } from '../ip/ipv4.js';
import { macvlanHolders, macvlanRangeText, type HeldAddress } from './macvlan-exhausted.js';
import { claimsLeaving } from './macvlan-freeing.js';
import { freeAddresses, type MvnRound } from './macvlan-round.js';
import type { Ctx } from './context.js';

/** A node's part as the round planned it: `starved` when it asks with none at hand, `idle` what it holds at hand after the round. */
export interface PlannedPart { status: MacvlanNodeStatus; starved?: string; idle?: number }

/**
 * Marks usedUp in the part of each node asking with none at hand, when the round leaves
 * nothing for it, and returns why (for status.poolUsedUp). `freeing`: the round deletes claims
 * (free in the next round). Not while the round is cut short (more, again: it plans again), a
 * node's part went unplanned (skipped) or a claim of the range is on its way out (a NIC being
 * deleted: macvlan-freeing.ts).
 */
export function markUsedUp(ctx: Ctx, r: MvnRound, parts: readonly PlannedPart[], freeing: boolean): string | undefined {
  const starved = parts.filter((p) => p.starved);
  if (!r.fair || !starved.length || r.more || r.again || parts.some((p) => p.idle === undefined)) return undefined;
  const found = freeAddresses(r, 1, 'node-pool');
  if (!poolUsedUp({ free: found.ips.length, cooling: found.coolingUntil !== undefined, freeing, idle: parts.map((p) => p.idle!) })) return undefined;
  const range = macvlanAddressRange(r.m.spec, r.takenBlocks);
  // looked at last: it reads every claim of the range
  if (claimsLeaving(ctx, r.m, range)) return undefined;
  // who holds the range, as a ContainerNic's PoolExhausted says it (`: held by 3 host shims, ...`)
  const held = macvlanHolders(ctx, r.m, range, roundClaims(ctx, r, parts).values()).replace(/^: /, '');
  const reason = usedUpReason(r.fair.poolSize, macvlanRangeText(r.m), held);
  for (const p of starved) p.status.usedUp = true;
  return reason.length > MAX_USED_UP_REASON ? `${reason.slice(0, MAX_USED_UP_REASON - 3)}...` : reason;
}

/**
 * The range's address claims as this round leaves them: the cache holds them as the round
 * started, without what the round claims or marks in the same transaction (a pre-claim marked
 * external, a NIC's address), so the sentence's counts did not add up in that round. Nothing is
 * released in a round that says used up (that is freeing).
 */
function roundClaims(ctx: Ctx, r: MvnRound, parts: readonly PlannedPart[]): Map<number, HeldAddress> {
  const out = new Map<number, HeldAddress>();
  for (const c of ctx.model.claimsIn('macvlannets', r.name, 'addresses').values()) out.set(c.ip, c);
  // NICs' addresses claimed in this transaction (the round's own are in the parts below)
  for (const ip of r.nicTaken) if (!r.rp.addrs.has(ip) && !out.has(ip)) out.set(ip, { ip, claim: { role: 'nic' } });
  const put = (ip: string, role: string, node: string) => out.set(parseIPv4(ip), { ip: parseIPv4(ip), claim: { role, node } });
  for (const { status: s } of parts) {
    if (s.shimAddress) put(s.shimAddress, 'shim', s.name);
    for (const ip of s.addresses ?? []) put(ip, 'node-pool', s.name);
  }
  for (const m of r.marked ?? []) put(m.ip, 'external', m.node);
  return out;
}
