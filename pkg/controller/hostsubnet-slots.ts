// Which hostPrefix blocks ("slots") of a ClusterNetwork are taken, as HostSubnet allocation
// (hostsubnets.ts) sees them in one round: claimed in etcd (also under another hostPrefix),
// taken by a round in flight, holding a Node's own address, or held by a claim whose value
// does not decode. Slot indexes count from the cidr's base (ipam/plan.ts).
import type { ClusterNetwork } from '../api/index.js';
import { blockOf, blockIndex, parseCidr, type Cidr } from '../ip/ipv4.js';
import type { RoundState } from './pool-executor.js';
import type { Entry, ClaimEntry } from './model.js';
import type { Ctx } from './context.js';

/**
 * Slot indexes count from the cidr's base, so what a round state keeps by slot is filed under
 * the cidr too: rounds in flight across an edit of the cidr do not mix the two numberings.
 */
export const slotsId = (cn: Entry<ClusterNetwork>) => `${cn.obj.metadata.name}@${cn.obj.spec.cidr}`;

/**
 * Slots taken in the rounds sharing `state`, each with the uid of the HostSubnet that took it: one
 * planned again (rolled back, or its commit failed) is not refused the slots it took itself.
 */
export function takenSlots(state: RoundState, cn: Entry<ClusterNetwork>): Map<number, string> {
  let s = state.get(`slots/${slotsId(cn)}`) as Map<number, string> | undefined;
  if (!s) state.set(`slots/${slotsId(cn)}`, (s = new Map()));
  return s;
}

/**
 * Claimed slots of the ClusterNetwork, computed once per round state (shared by the rounds in
 * flight): a slot claimed meanwhile by someone else fails its create-if-absent compare.
 */
export function slotClaims(ctx: Ctx, cn: Entry<ClusterNetwork>, state: RoundState): Map<number, ClaimEntry> {
  const memo = `slotClaims/${slotsId(cn)}`;
  const hit = state.get(memo) as Map<number, ClaimEntry> | undefined;
  if (hit) return hit;
  const pool = parseCidr(cn.obj.spec.cidr);
  const out = new Map<number, ClaimEntry>();
  state.set(memo, out);
  const all = [...ctx.model.claimsIn('clusternetworks', cn.obj.metadata.name, 'blocks').values()];
  for (const c of all) {
    const i = blockIndex(pool, { base: c.ip, prefix: cn.obj.spec.hostPrefix });
    if (Number.isInteger(i)) out.set(i, c);
  }
  // A claim made under other blocks (one kept across the ClusterNetwork's delete while its
  // network stays on its host, hostsubnet-leaving.ts, and the network applied again with
  // another hostPrefix) holds every slot its subnet covers, not only the one its key names.
  for (const c of all) for (const i of coveredSlots(pool, cn.obj.spec.hostPrefix, c)) if (!out.has(i)) out.set(i, c);
  return out;
}

/**
 * Slots whose block claim is in etcd with a value that does not decode: held by no one known
 * (the block's size is in the value), so no HostSubnet is given one: its create-if-absent
 * would fail every time, and every HostSubnet planned in the same transaction with it.
 */
export function unreadableSlots(ctx: Ctx, cn: Entry<ClusterNetwork>): Set<number> {
  const out = new Set<number>();
  for (const base of ctx.model.unreadableClaimsIn('clusternetworks', cn.obj.metadata.name, 'blocks')) out.add(slotIndex(cn, base));
  return out;
}

/** The slots (of `hostPrefix` blocks of `pool`) that claim `c`'s subnet overlaps. */
function coveredSlots(pool: Cidr, hostPrefix: number, c: ClaimEntry): number[] {
  const held = (c.claim.cidr ? parseCidrOrUndefined(c.claim.cidr) : undefined) ?? { base: c.ip, prefix: hostPrefix };
  const lo = Math.max(held.base, pool.base);
  const hi = Math.min(held.base + 2 ** (32 - held.prefix), pool.base + 2 ** (32 - pool.prefix));
  if (lo >= hi) return [];
  const size = 2 ** (32 - hostPrefix);
  const first = Math.floor((lo - pool.base) / size);
  const last = Math.floor((hi - 1 - pool.base) / size);
  return Array.from({ length: last - first + 1 }, (_, k) => first + k);
}

function parseCidrOrUndefined(text: string): Cidr | undefined {
  try { return parseCidr(text); } catch { return undefined; }
}

/**
 * Slots holding an address a Node is routed by (Model.nodeRoutedBy), once per round state: no
 * new HostSubnet gets one (its gateway, a NIC or Docker's half could be the host's own address).
 */
export function routedSlots(ctx: Ctx, cn: Entry<ClusterNetwork>, state: RoundState): Set<number> {
  const memo = `routedSlots/${slotsId(cn)}`;
  let out = state.get(memo) as Set<number> | undefined;
  if (out) return out;
  state.set(memo, (out = new Set()));
  const block = (ip: number) => blockOf(ip, cn.obj.spec.hostPrefix).base;
  for (const ip of ctx.model.routedAddressesIn(parseCidr(cn.obj.spec.cidr))) out.add(slotIndex(cn, block(ip)));
  return out;
}

export function slotIndex(cn: Entry<ClusterNetwork>, base: number): number {
  return blockIndex(parseCidr(cn.obj.spec.cidr), { base, prefix: cn.obj.spec.hostPrefix });
}
