// The address cooldown (--address-cooldown, default 30 s): whether a free address of a pool may
// be handed out now, one rule for every taker the controller picks one for. An address whose
// claim went stays out of use for the cooldown: neighbours' ARP caches on the segment may still
// map it to the MAC of what left. Only the ContainerNics' pick waited it out before (nics.ts):
// on a MacvlanNet the round's own takers (a node's host shim, its refill of pre-claimed
// addresses, its Docker block: macvlan-round.ts, macvlan-cooling.ts) took an address a
// ContainerNic had released a moment ago. An address asked for by name (a NIC's spec.ip, a
// node's `docker run --ip`) is the user's choice and picks nothing: no cooldown.
import type { PoolType } from '../ipam/keys.js';
import { monotonicMs } from '../runtime/clock.js';
import type { Ctx } from './context.js';
import type { ReleasedClaim } from './model.js';

/** What the controller picks a free address for: a ContainerNic, or on a MacvlanNet a node's shim, pre-claim or Docker block. */
export type AddressTaker = 'nic' | 'shim' | 'node-pool' | 'docker-block';

/**
 * Whether `taker` waits out the cooldown of an address whose `released` claim went. Always,
 * but for a node's pre-claim given back and pre-claimed again: a node's IPAM plugin hands an
 * address its container left to its next container at once (announced with a gratuitous ARP),
 * so between two nodes' plugins it is no worse, and what a starving node's request (20 s) waits
 * for is what another node gave back for it (docs/design.md, "A small pool is shared fairly").
 * Not a pre-claim of a deleted Node for another node: nobody gave it back, its containers may
 * still use it (a Node made again gets back what they use, if nobody took it meanwhile) or have
 * just gone. For the Node made again (`node`, the taker's) it is its own again at once.
 */
export function coolsFor(released: ReleasedClaim, taker: AddressTaker, node?: string): boolean {
  if (released.role !== 'node-pool' || taker !== 'node-pool') return true;
  return !!released.nodeGone && (node === undefined || released.node !== node);
}

/**
 * Until when (runtime/clock.ts: monotonic ms) `ip` of the pool stays out of `taker`'s hands
 * after its claim went, or undefined: free to hand out now.
 */
export function coolingUntil(ctx: Pick<Ctx, 'model' | 'addressCooldownMs'>, pool: { type: PoolType; name: string }, ip: number, taker: AddressTaker, node?: string): number | undefined {
  const c = ctx.model.coolingUntil(pool.type, pool.name, ip, ctx.addressCooldownMs);
  return c && coolsFor(c, taker, node) ? c.until : undefined;
}

/**
 * How a taker that finds only cooling addresses says it (`released less than 30 s ago; the
 * first is reused in 4 s`): they come back by themselves, so it is a wait, not a refusal.
 */
export function releasedLately(cooldownMs: number, until: number): string {
  const wait = Math.max(0, until - monotonicMs());
  return `released less than ${Math.round(cooldownMs / 1000)} s ago; the first is reused in ${Math.ceil(wait / 1000)} s`;
}

/**
 * The pool's free addresses that no taker may have now, and until when each cools (monotonic
 * ms): what its status counts apart from `free` (macvlan-status.ts). A pre-claim given back is
 * not one: another node's refill takes it at once (coolsFor), as poolUsedUp counts it.
 */
export function coolingForAll(ctx: Pick<Ctx, 'model' | 'addressCooldownMs'>, pool: { type: PoolType; name: string }): Map<number, number> {
  const out = new Map<number, number>();
  if (ctx.addressCooldownMs <= 0) return out;
  for (const c of ctx.model.releases.coolingIn(pool.type, pool.name, ctx.addressCooldownMs)) if (coolsFor(c, 'node-pool')) out.set(c.ip, c.until);
  return out;
}
