// What a node's agent reports about the addresses the controller pre-claimed for it on one
// MacvlanNet (spec.dockerIPAM: xnet), under its own status key
// (/registry/status/nodes/<node>/macvlannets/<name>, field `ipam`). The controller reads it as
// untrusted input: decoded against this schema, an invalid report is ignored as a whole.
import { z } from 'zod';
import { byAddress, isIPv4 } from '../ip/ipv4.js';
import type { NetBook } from './journal.js';

const ip = z.string().refine(isIPv4, 'not an IPv4 address');

/**
 * The longest container name and id a report carries. Docker sets no limit on a container's
 * name, so the agent clips it (it is only for messages): one longer name in a report made the
 * whole report fail to decode, and the controller then ignored the node's pool (no refill).
 */
export const MAX_REPORTED_NAME = 256;
export const MAX_REPORTED_CONTAINER = 128;

export const assignment = z.strictObject({
  ip,
  /** Docker container id, once the agent has seen the endpoint in Docker */
  container: z.string().max(MAX_REPORTED_CONTAINER).optional(),
  /** container name (for messages) */
  name: z.string().max(MAX_REPORTED_NAME).optional(),
});

export const nodeIpamReport = z.strictObject({
  /** addresses handed to Docker containers on this node */
  assigned: z.array(assignment).max(65536).default([]),
  /** pre-claimed addresses this node gives back (it will never hand them out again) */
  returned: z.array(ip).max(65536).default([]),
  /** pre-claimed addresses that answered an ARP probe: someone outside xnet uses them */
  external: z.array(ip).max(65536).default([]),
  /** addresses asked for by `docker run --ip` that this node does not hold yet */
  requested: z.array(ip).max(256).default([]),
  /** how many more free addresses the node wants at once (requests waiting) */
  want: z.number().int().min(0).max(4096).default(0),
});

export type Assignment = z.infer<typeof assignment>;

/**
 * Who holds an address, as the report says it: within the limits above (Docker names have
 * none), so that one long name never makes the whole report undecodable.
 */
export function reportedContainer(a: { container?: string; name?: string }): Omit<Assignment, 'ip'> {
  return {
    ...(a.container && a.container.length <= MAX_REPORTED_CONTAINER ? { container: a.container } : {}),
    ...(a.name ? { name: a.name.length > MAX_REPORTED_NAME ? `${a.name.slice(0, MAX_REPORTED_NAME - 3)}...` : a.name } : {}),
  };
}
export type NodeIpamReport = z.infer<typeof nodeIpamReport>;

export function decodeReport(v: unknown): NodeIpamReport | undefined {
  const r = nodeIpamReport.safeParse(v);
  return r.success ? r.data : undefined;
}

/** Free pre-claimed addresses a node keeps at hand; below LOW_WATER the controller refills to TARGET_FREE. */
export const LOW_WATER = 4;
export const TARGET_FREE = 8;
/** above this many free ones the agent gives the surplus back (returned when idle) */
export const HIGH_WATER = 24;

/**
 * What the agent gives back of the free addresses it holds (lowest first): above HIGH_WATER all
 * but TARGET_FREE, and above the controller's `limit` (status.nodes[].maxFree, set while
 * another node of a small pool has none: ./fair-share.ts) all but `limit`. The lowest stay.
 */
export function surplusOf(free: readonly string[], limit?: number): string[] {
  const high = Math.min(HIGH_WATER, limit ?? HIGH_WATER);
  if (free.length <= high) return [];
  return free.slice(Math.min(TARGET_FREE, limit ?? TARGET_FREE));
}

/** What a node's book of one MacvlanNet says in its report, sorted (../agent writes it into its status). */
export function bookReport(b: NetBook): NodeIpamReport {
  return {
    assigned: Object.entries(b.assigned).sort(([x], [y]) => byAddress(x, y)).map(([ip, a]) => ({ ip, ...reportedContainer(a) })),
    returned: [...b.returned].sort(byAddress), external: [...b.external].sort(byAddress),
    requested: [...b.requested].sort(byAddress), want: b.want,
  };
}
