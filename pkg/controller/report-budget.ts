// How often one node's reports (of itself, of a MacvlanNet) may make the leader look again at
// what they feed into state every node reads. A node's report is its own key, written as often
// as the node likes; what follows from it is not the node's alone:
// - a MacvlanNet's controller status (its node's part, and the status key every agent on the
//   MacvlanNet receives when what others act on moves; it was one key holding every node's
//   part): a node rewriting its report some 300 times a second (its ready flag, message,
//   `assigned` list) had the leader write that status over 200 times a second;
// - a node's accepted address is every peer's next hop to its subnets (HostSubnet
//   `status.nodeAddress`): a node flipping its reported address between two valid ones had
//   every peer replace its route to that node some 20 times a second, an `ip` run each.
// A token bucket per node keeps what one node's reports cost the others to a fixed rate.
// Reports beyond it are not lost (the reconcile is level-triggered and reads the latest report)
// but wait for the next token, and the leader logs once per episode which node is held back,
// for the operator to look at that host.
import type { Logger } from '../log.js';
import { monotonicMs } from '../runtime/clock.js';

/** Reports of one node taken at once before the rate applies: an honest agent's burst (its start, a few MacvlanNets, a docker-run spree). */
export const REPORT_BURST = 20;
/** Reports of one node taken per second beyond the burst. */
export const REPORTS_PER_SECOND = 5;
/** Nodes whose buckets are kept; past it, the full (idle) ones are dropped. */
const MAX_TRACKED_NODES = 10_000;

interface Bucket { tokens: number; at: number; pendingUntil: number; logged: boolean }

export class ReportBudget {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly log: Logger,
    private readonly burst = REPORT_BURST,
    private readonly perSecond = REPORTS_PER_SECOND,
    private readonly now: () => number = monotonicMs,
  ) {}

  /**
   * Milliseconds the effects of this node's report wait: 0 when a token is at hand (it is
   * taken). Otherwise the next token is reserved for one deferred look, which every report
   * until then joins (the work queue keeps one pending delay per key).
   */
  delayFor(node: string): number {
    const t = this.now();
    const b = this.bucket(node, t);
    if (b.pendingUntil > t) return b.pendingUntil - t;
    if (b.tokens >= 1) {
      // an episode ends once the node was quiet long enough to fill its bucket: one line per episode
      if (b.tokens >= this.burst) b.logged = false;
      b.tokens -= 1;
      return 0;
    }
    const wait = Math.ceil(((1 - b.tokens) * 1000) / this.perSecond);
    b.tokens -= 1;
    b.pendingUntil = t + wait;
    if (!b.logged) {
      b.logged = true;
      this.log.warn('a node rewrites its reports faster than the leader takes them; what follows from them waits', { node, burst: this.burst, perSecond: this.perSecond });
    }
    return wait;
  }

  private bucket(node: string, t: number): Bucket {
    let b = this.buckets.get(node);
    if (!b) {
      if (this.buckets.size >= MAX_TRACKED_NODES) this.dropIdle(t);
      this.buckets.set(node, (b = { tokens: this.burst, at: t, pendingUntil: 0, logged: false }));
      return b;
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) * this.perSecond) / 1000);
    b.at = t;
    return b;
  }

  /** Forgets nodes whose bucket has filled again: a fresh bucket is the same. */
  private dropIdle(t: number): void {
    for (const [node, b] of this.buckets) {
      if (b.pendingUntil <= t && b.tokens + ((t - b.at) * this.perSecond) / 1000 >= this.burst) this.buckets.delete(node);
    }
  }
}
