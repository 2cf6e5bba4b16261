// How many addresses of a MacvlanNet are held and how many are left: one formula for the
// controller's status (`xctl get mvn`) and `xctl ipam check` (they used to disagree). The
// status also counts the free ones still cooling down apart (the controller knows them);
// `xctl ipam check` reads claims only and passes none.
import type { MacvlanNet } from '../api/index.js';
import { parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { macvlanRange } from './plan.js';
import { cidrInterval, contains, intersect, normalize, size, subtract, type Interval } from './ranges.js';

/** One claim as far as counting goes: a block (cidr) or a single address (ip). */
export interface HeldRange { cidr?: string; ip?: string }

export interface MacvlanUsage {
  /** addresses of the range held by a claim: whole Docker blocks, node pools, NICs, shims, external */
  allocated: number;
  /** addresses of the range nobody holds and none of `cooling` */
  free: number;
  /** addresses of the range nobody holds that are among `cooling` (left out when none) */
  cooling?: number;
}

/**
 * allocated = |(blocks ∪ single addresses) ∩ range|; free = |range| - allocated - cooling, where
 * cooling counts the addresses of `cooling` (released lately: none may have them yet) nobody holds.
 */
export function macvlanUsage(spec: MacvlanNet['spec'], held: Iterable<HeldRange>, cooling: Iterable<number> = []): MacvlanUsage {
  let range: Interval[];
  try { range = macvlanRange(spec); } catch { return { allocated: 0, free: 0 }; }
  const ivs: Interval[] = [];
  for (const h of held) {
    try {
      if (h.cidr) ivs.push(cidrInterval(parseCidr(h.cidr)));
      else if (h.ip) { const ip = parseIPv4(h.ip); ivs.push({ first: ip, last: ip }); }
    } catch { /* an unreadable claim holds nothing countable */ }
  }
  const allocated = size(intersect(range, normalize(ivs)));
  const unheld = subtract(range, normalize(ivs));
  let cool = 0;
  for (const ip of new Set(cooling)) if (contains(unheld, ip)) cool++;
  return { allocated, free: size(unheld) - cool, ...(cool ? { cooling: cool } : {}) };
}
