// Next fit over a pool's ranges: which free address a NIC is given (nics.ts), skipping what is
// claimed, taken in the round, held back or still cooling down after its release.
import { contains, type Interval } from '../ipam/ranges.js';

/** Where a round is in one pool: addresses it took, and where the next scan starts. */
export interface PickCursor { taken: ReadonlySet<number>; next?: number }

/** What a free-address scan found: an address, or only addresses still cooling down. */
type Pick = { ip: number } | { coolingUntil?: number };

/**
 * Next fit: the first free address after the highest one claimed, wrapping around. A released
 * address is therefore not the next one handed out (neighbours' ARP caches on a shared L2
 * still map it to the old MAC), and one released less than the cooldown ago is skipped.
 * `heldBack`: unclaimed addresses the pool still hands to no one picking (heldBackFromPicks).
 */
export function pickFree(
  ranges: Interval[], claims: ReadonlyMap<number, unknown>, rp: PickCursor,
  coolingUntil: (ip: number) => number | undefined, heldBack: (ip: number) => boolean = () => false,
): Pick {
  rp.next ??= highestClaimed(ranges, claims) + 1;
  const start = rp.next;
  let soonest: number | undefined;
  const scan = (from: number, to: number): number | undefined => {
    for (const r of ranges) {
      for (let ip = Math.max(r.first, from); ip <= Math.min(r.last, to); ip++) {
        if (claims.has(ip) || rp.taken.has(ip) || heldBack(ip)) continue;
        const until = coolingUntil(ip);
        if (until === undefined) return ip;
        soonest = Math.min(soonest ?? until, until);
      }
    }
    return undefined;
  };
  const ip = scan(start, Infinity) ?? scan(0, start - 1);
  if (ip === undefined) return soonest === undefined ? {} : { coolingUntil: soonest };
  rp.next = ip + 1;
  return { ip };
}

/**
 * The highest claimed address inside the ranges, or -1: walks the ranges down when they are
 * smaller than the pool's claims (a node's part of a ClusterNetwork holding thousands), else
 * the claims.
 */
function highestClaimed(ranges: Interval[], claims: ReadonlyMap<number, unknown>): number {
  const size = ranges.reduce((n, r) => n + r.last - r.first + 1, 0);
  let top = -1;
  if (size <= claims.size) {
    for (const r of ranges) for (let ip = r.last; ip >= Math.max(r.first, top + 1); ip--) if (claims.has(ip)) { top = ip; break; }
    return top;
  }
  for (const ip of claims.keys()) if (ip > top && contains(ranges, ip)) top = ip;
  return top;
}
