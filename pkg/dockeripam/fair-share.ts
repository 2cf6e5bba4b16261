// Fair shares of a small MacvlanNet pool (dockerIPAM: xnet), pure. Refilled in name order with
// 8 at hand each, the first node of a small pool took every address left (the lab's `tiny`: a
// /29 ipRange, three shims, host-1 held the five others idle and host-2's `docker run` failed
// after 20 s). So while the pool is small, a node's refill stops at its share of what is free
// or idle, and a node that has none while another holds idle ones above its share gets some
// back: the controller cannot take a pre-claim (the agent may be handing it out this instant,
// ./node-pool.ts), so it publishes a limit (status.nodes[].maxFree) and the agent returns its
// free addresses above it (./report.ts surplusOf) like any other surplus.
import { TARGET_FREE } from './report.js';
import { MAX_WANT } from './node-pool.js';
import { firstFew } from '../first-few.js';
import { MAX_MACVLAN_NODE_MESSAGE } from '../api/conditions.js';
import { clipNodeMessage } from '../api/node-message.js';

/** No refill leaves a node more than this free (TARGET_FREE plus the most `want` counts for): a share this large limits nothing. */
export const UNCAPPED = TARGET_FREE + MAX_WANT;

/**
 * Without counting or decoding anything: no share can bind, since even counting every taken
 * address as inside the range, what is free gives every node UNCAPPED. The usual pool (a /24
 * or larger, a few nodes) stops here, so the rule costs a large pool nothing.
 */
export function shareCannotBind(rangeSize: number, taken: number, nodes: number): boolean {
  return rangeSize - taken >= UNCAPPED * nodes;
}

/**
 * The most free addresses each node may hold after a refill: what is free in the pool plus what
 * the nodes hold idle, divided among them, at least 1 (a node with one at hand starts a
 * container without waiting for the controller). Undefined when it would limit nothing.
 * The remainder stays free for whichever node uses its share first (and for ContainerNics).
 */
export function fairShare(free: number, idle: readonly number[]): number | undefined {
  if (idle.length === 0) return undefined;
  const share = Math.max(1, Math.floor((free + idle.reduce((s, n) => s + n, 0)) / idle.length));
  return share >= UNCAPPED ? undefined : share;
}

export interface NodeNeed {
  name: string;
  /** free pre-claims it holds (./node-pool.ts idleCount) */
  idle: number;
  /** it has none at hand and its agent asks for more (or it has no shim address) */
  starving: boolean;
}

/**
 * The limit published to the nodes holding more idle addresses than their share, while another
 * node starves; undefined otherwise: a node keeps what it holds unless someone needs it, so a
 * pool at rest is not churned.
 */
export function rebalanceLimit(needs: readonly NodeNeed[], share: number | undefined): number | undefined {
  if (share === undefined || !needs.some((n) => n.starving)) return undefined;
  return needs.some((n) => n.idle > share) ? share : undefined;
}

/**
 * The limit that has the nodes give back, of the idle pre-claims they hold, the `shortfall`
 * addresses ContainerNics wait for beyond what is free (a declared NIC comes before an address
 * held at hand for a container that may never come): the highest L such that what they hold
 * idle above L covers it, 0 when nothing less does; undefined when nothing is short. The
 * controller never takes a pre-claim itself (the agent may be handing it out this instant):
 * the agent returns what it holds free above the limit, and the NIC gets one once released.
 */
export function nicLimit(idle: readonly number[], shortfall: number): number | undefined {
  if (shortfall <= 0 || idle.length === 0) return undefined;
  for (let limit = Math.max(...idle) - 1; limit > 0; limit--) {
    let back = 0;
    for (const n of idle) back += Math.max(0, n - limit);
    if (back >= shortfall) return limit;
  }
  return idle.some((n) => n > 0) ? 0 : undefined;
}

/** Holders named in the message at most; it is copied into a status every node reads. */
const MAX_HOLDERS = 3;

/**
 * Why `self` has no address at hand: the pool is taken (or what is free is kept for `nics`
 * ContainerNics and `shims` host shims waiting, which come first), and by whom idle ones are held.
 */
export function starvedMessage(poolSize: number, needs: readonly NodeNeed[], self: string, limit?: number, nics = 0, shims = 0): string {
  const waiting = [...(nics > 0 ? [`${nics} NIC(s)`] : []), ...(shims > 0 ? [`${shims} host shim(s)`] : [])];
  const kept = waiting.length ? ` or kept for ${waiting.join(' and ')}` : '';
  const head = `no free address for its containers: all ${poolSize} of the pool's addresses are taken${kept}`;
  const holders = needs.filter((n) => n.name !== self && n.idle > 0).sort((a, b) => b.idle - a.idle || a.name.localeCompare(b.name));
  if (!holders.length) return `${head}, none idle on another node`;
  const asked = limit !== undefined ? `, asked to keep at most ${limit}` : '';
  const say = (n: number) => `${head}; idle ones are held by ${firstFew(holders.map((h) => `${h.name} (${h.idle})`), n)}${asked}`;
  // fewer holders named (the rest counted) rather than the end cut: it says what was asked of them
  let n = MAX_HOLDERS;
  while (n > 1 && say(n).length > MAX_MACVLAN_NODE_MESSAGE) n--;
  return clipNodeMessage(say(n));
}
