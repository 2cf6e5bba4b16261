// What a node's agent reports about the addresses the controller pre-claimed for it on one
// MacvlanNet (spec.dockerIPAM: xnet), under its own status key
// (/registry/status/nodes/<node>/macvlannets/<name>, field `ipam`). The controller reads it as
// untrusted input: decoded against its schema (../api/ipam-report.ts, re-exported here), an
// invalid report is ignored as a whole.
import { byAddress } from '../ip/ipv4.js';
import { MAX_REPORTED_CONTAINER, MAX_REPORTED_NAME, type Assignment, type NodeIpamReport } from '../api/ipam-report.js';
import type { NetBook } from './journal.js';

export * from '../api/ipam-report.js';

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

/**
 * What a node's book of one MacvlanNet says in its report, sorted (../agent writes it into its
 * status), with the marks its probe found free again (./external-marks.ts): only while there are
 * some, and none the pool holds again or that answered since.
 */
export function bookReport(b: NetBook, cleared: readonly string[] = []): NodeIpamReport {
  const held = new Set([...b.pool, ...b.external]);
  const freed = cleared.filter((a) => !held.has(a)).sort(byAddress);
  return {
    ...(freed.length ? { cleared: freed } : {}),
    assigned: Object.entries(b.assigned).sort(([x], [y]) => byAddress(x, y)).map(([ip, a]) => ({ ip, ...reportedContainer(a) })),
    returned: [...b.returned].sort(byAddress), external: [...b.external].sort(byAddress),
    requested: [...b.requested].sort(byAddress), want: b.want,
  };
}
