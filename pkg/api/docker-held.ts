// A HostSubnet's `dockerHeld`: the addresses of xnet's part of the HostSubnet (outside its
// dockerRange, not the gateway) that containers Docker attached to the HostSubnet's network hold
// (`docker run --ip` / `network connect --ip`: Docker checks such an address only against its
// own endpoints). The node's agent reports them on its HostSubnet; the controller hands none of
// them to a ContainerNic (controller/hostsubnet-docker-held.ts). One rule for both: which
// addresses count, and how many at most. The report is the node's word, trusted only for its own
// HostSubnet's block: the controller applies this rule again to what it reads.
import { z } from 'zod';
import { isIPv4, parseIPv4 } from '../ip/ipv4.js';
import { contains, type Interval } from '../ipam/ranges.js';
import { hostSubnetXnetRange } from './rules.js';

/**
 * The Ready reason of a ContainerNic whose address a Docker container holds on its network: the
 * agent reports it (agent/nic-docker-held.ts), and the controller looks at such a NIC again.
 */
export const ADDRESS_IN_USE_REASON = 'AddressInUse';

/** The most addresses a node reports (and the controller takes) per HostSubnet. */
export const MAX_DOCKER_HELD = 256;

/** The field as a node writes it: at most MAX_DOCKER_HELD IPv4 addresses (a longer one does not decode). */
export const dockerHeldSchema = z.array(z.string().refine(isIPv4, 'must be an IPv4 address')).max(MAX_DOCKER_HELD);

export interface XnetLayout { subnet: string; gateway: string; dockerRange: string }

/** xnet's part of the HostSubnet as intervals, or undefined when the layout does not parse. */
export function xnetPart(layout: Partial<XnetLayout>): Interval[] | undefined {
  if (!layout.subnet || !layout.gateway || !layout.dockerRange) return undefined;
  try { return hostSubnetXnetRange(layout as XnetLayout); } catch { return undefined; }
}

/** The addresses among `ips` inside `ranges` (xnet's part), each once, in ascending order, at most MAX_DOCKER_HELD. */
export function dockerHeldIn(ranges: Interval[], ips: Iterable<string>): number[] {
  return heldInside(ranges, [...ips].map((ip) => ({ ip }))).slice(0, MAX_DOCKER_HELD).map((h) => h.n);
}

/**
 * The holders among `held` whose address is inside `ranges`, each address once (its first
 * holder), in ascending order, all of them: the rule dockerHeldIn bounds, for a report that
 * also names each address's container and counts what it leaves out (api/outside-block.ts).
 */
export function heldInside<T extends { ip: string }>(ranges: Interval[], held: Iterable<T>): Array<T & { n: number }> {
  const inside = new Map<number, T & { n: number }>();
  for (const h of held) {
    if (!isIPv4(h.ip)) continue;
    const n = parseIPv4(h.ip);
    if (contains(ranges, n) && !inside.has(n)) inside.set(n, { ...h, n });
  }
  return [...inside.values()].sort((a, b) => a.n - b.n);
}
