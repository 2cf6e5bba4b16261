// The controller's side of per-node address pools (spec.dockerIPAM: xnet), pure: given the
// addresses pre-claimed for one node and that node's report, what to claim, release and mark
// external. The agent hands out only addresses the controller claimed for it and gives one
// back only by listing it in `returned`, which it never hands out again; the controller
// deletes a pre-claim only when so returned (or when the node leaves the MacvlanNet). So a
// claim and a container never diverge, whatever the order of the two writers.
import { parseIPv4 } from '../ip/ipv4.js';
import { LOW_WATER, TARGET_FREE, type NodeIpamReport } from './report.js';

export interface NodePoolPlan {
  /** pre-claims to delete (returned by the node and not in use) */
  release: number[];
  /** pre-claims to turn into `external` claims (answered an ARP probe, not in use) */
  external: number[];
  /** specific addresses to claim for the node (docker run --ip), if nobody holds them */
  requested: number[];
  /** how many more addresses to claim for the node */
  more: number;
}

/** The most free addresses beyond TARGET_FREE a node's `want` gets it: xnet's agent asks for one at a time. */
export const MAX_WANT = 64;

/** Each address once: the report is untrusted, and a key twice in one etcd transaction is refused. */
const nums = (list: string[]) => [...new Set(list.map(parseIPv4))];

/**
 * Pre-claims the node has at hand: held, not in use, not returned, not external (what its
 * agent's book calls free). Addresses the report lists but the node does not hold count for nothing.
 */
export function idleCount(held: ReadonlySet<number>, report: NodeIpamReport | undefined): number {
  const out = new Set(nums([...(report?.assigned ?? []).map((a) => a.ip), ...(report?.returned ?? []), ...(report?.external ?? [])]));
  let n = 0;
  for (const ip of held) if (!out.has(ip)) n++;
  return n;
}

/**
 * `cap`: the most free addresses the node may hold after the refill, its fair share of a small
 * pool (./fair-share.ts); undefined on a pool large enough for every node's refill.
 */
export function planNodePool(held: ReadonlySet<number>, report: NodeIpamReport | undefined, cap?: number): NodePoolPlan {
  const inUse = new Set(nums((report?.assigned ?? []).map((a) => a.ip)));
  const release = nums(report?.returned ?? []).filter((ip) => held.has(ip) && !inUse.has(ip));
  const external = nums(report?.external ?? []).filter((ip) => held.has(ip) && !inUse.has(ip) && !release.includes(ip));
  const requested = nums(report?.requested ?? []).filter((ip) => !held.has(ip));
  const gone = new Set([...release, ...external]);
  let free = 0;
  for (const ip of held) if (!inUse.has(ip) && !gone.has(ip)) free++;
  // `want` asks for that many free addresses beyond the usual TARGET_FREE, counted against what
  // the node holds free already: the same report read again claims nothing more. Capped
  // (MAX_WANT): a node writing want: 4096 into its report took a shared segment's every free
  // address in one round; xnet's agent asks for one at a time.
  const want = Math.min(report?.want ?? 0, MAX_WANT);
  const refill = free < LOW_WATER || want > 0 ? Math.max(0, TARGET_FREE + want - free) : 0;
  // --ip requests are not capped: the user named the address, and it is free or refused anyway
  const more = cap === undefined ? refill : Math.min(refill, Math.max(0, cap - free));
  return { release, external, requested, more };
}
