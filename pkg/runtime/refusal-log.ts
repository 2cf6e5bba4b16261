// How many "skipped a key that does not decode" lines a cache writes. A key's value is written by
// whoever may write it (a node, its own status keys), as often as etcd takes it: one line per bad
// value had a node writing 500 bad values a second fill its controller's log at that rate (1,000
// lines in 2 s), drowning every other line. A key is logged when it turns unreadable, not again
// for each bad value after (xctl get names it, with its current reason, as long as it lasts), and
// all keys together within a budget: beyond it the lines are counted, and the next line says how
// many were not written.
import { monotonicMs } from './clock.js';

/** Lines written at once before the rate applies. */
export const REFUSAL_LOG_BURST = 100;
/** Lines written per second beyond the burst. */
export const REFUSAL_LOG_PER_SECOND = 1;

export class RefusalLog {
  private tokens: number;
  private at: number;
  private notLogged = 0;

  constructor(private readonly burst = REFUSAL_LOG_BURST, private readonly perSecond = REFUSAL_LOG_PER_SECOND, private readonly now: () => number = monotonicMs) {
    this.tokens = burst;
    this.at = now();
  }

  /**
   * Whether to write this refusal's line, and what it adds (how many were not written since
   * the last one). `again`: the key's previous value was refused too (its line was its first).
   */
  line(again: boolean): { notLoggedBefore?: number } | undefined {
    if (again) return undefined;
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.at) * this.perSecond) / 1000);
    this.at = t;
    if (this.tokens < 1) { this.notLogged++; return undefined; }
    this.tokens -= 1;
    const out = this.notLogged ? { notLoggedBefore: this.notLogged } : {};
    this.notLogged = 0;
    return out;
  }
}
