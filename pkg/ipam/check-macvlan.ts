// `xctl ipam check`: one MacvlanNet's line, what its addresses are held by (check.ts).
import type { MacvlanNet } from '../api/index.js';
import { parseIPv4 } from '../ip/ipv4.js';
import type { Claim } from './keys.js';
import { contains, type Interval } from './ranges.js';
import { macvlanRange } from './plan.js';
import { macvlanUsage } from './macvlan-usage.js';
import { firstFew } from '../first-few.js';

type PoolClaim = { claim: Claim };

/**
 * USED and FREE of the MacvlanNet's range and what holds it. USED counts the range's addresses
 * only, so the breakdown does too: a claim outside it (kept for a container after the range
 * shrank: docs/design.md, "Addresses in use are claimed again") is named apart. Counted in the
 * breakdown it read "14 pre-claimed ..., 3 other single" under USED 16.
 */
export function macvlanUse(all: PoolClaim[], containerAddrs: Array<{ mvn: string; node: string; ip: string }>, name: string, spec: MacvlanNet['spec']): { what: string; used: number; free: number } {
  const u = macvlanUsage(spec, all.map((c) => c.claim));
  const { mine, outside } = splitByRange(spec, all);
  const byRole = (r: string) => mine.filter((c) => c.claim.role === r).length;
  // of the pre-claimed ones: a container keeps an address no claim backs any more (an ipRange
  // shrunk under it), which `unclaimed` names; counted here it read "13 pre-claimed of which 17"
  const preClaimed = new Set(mine.filter((c) => c.claim.role === 'node-pool').map((c) => `${c.claim.node}|${c.claim.ip}`));
  const inUse = containerAddrs.filter((a) => a.mvn === name && preClaimed.has(`${a.node}|${a.ip}`)).length;
  const other = mine.length - byRole('docker-block') - byRole('node-pool') - byRole('external');
  const apart = outside.length ? `; not in USED: ${outside.length} outside the range, ${outsideText(outside)}` : '';
  return { what: `addresses (${byRole('docker-block')} Docker blocks, ${byRole('node-pool')} pre-claimed for nodes of which ${inUse} in containers, ${byRole('external')} external, ${other} other single${apart})`, used: u.allocated, free: u.free };
}

function ipNum(s: string | undefined): number | undefined {
  try { return s === undefined ? undefined : parseIPv4(s); } catch { return undefined; }
}

/** The claims of the range (macvlanRange: ipRange less exclude and gateway; blocks stay here), and the single addresses outside it. */
function splitByRange(spec: MacvlanNet['spec'], claims: PoolClaim[]): { mine: PoolClaim[]; outside: PoolClaim[] } {
  let range: Interval[];
  try { range = macvlanRange(spec); } catch { return { mine: claims, outside: [] }; }
  const mine: PoolClaim[] = [];
  const outside: PoolClaim[] = [];
  for (const c of claims) {
    const ip = c.claim.cidr ? undefined : ipNum(c.claim.ip);
    if (ip !== undefined && !contains(range, ip)) outside.push(c); else mine.push(c);
  }
  return { mine, outside };
}

/** At most 3 outside addresses by name, with what holds each. */
function outsideText(outside: PoolClaim[]): string {
  return firstFew(outside.map((c) => `${c.claim.ip} ${c.claim.role === 'node-pool' ? 'pre-claimed' : c.claim.role}${c.claim.node ? ` for ${c.claim.node}` : ''}`), 3);
}
