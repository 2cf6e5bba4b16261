// The agent's own `verify`: after its work settles, and at every resync interval, it runs the
// verifier against its host through its own caches and reports the differences
// (pkg/verify/report.ts). Runs never overlap; a poke during a run schedules one more. The
// first check of a starting agent waits for quiet at most firstWithinMs: the report of the
// agent before it expires with that one's lease, and until this one writes its own `xctl
// verify` says the agent is not running (a host where something is reconciled every second
// would otherwise wait for the first interval, 30 s).
import type { Caches } from '../agent/context.js';
import type { NetworkEvidence } from '../agent/network-record.js';
import type { Logger } from '../log.js';
import { monotonicMs } from '../runtime/clock.js';
import type { Store } from '../store/types.js';
import type { ObservedReporter } from './report.js';
import { differences, type RecordingDataplane } from './verify.js';

export interface SelfCheckOptions {
  node: string;
  store: Store;
  caches: Caches;
  dp: RecordingDataplane;
  reporter: ObservedReporter;
  ipamPlugin?: string;
  /** the agent's network record, read only (network-record.ts readOnly) */
  networks?: NetworkEvidence;
  /** periodic check (the agent's resync interval) */
  everyMs: number;
  /** quiet time after the last reconcile before checking (default 2 s) */
  settleMs?: number;
  /** the first check runs at the latest this long after start, quiet or not (default 5 s) */
  firstWithinMs?: number;
  log: Logger;
}

export class SelfCheck {
  private settle?: NodeJS.Timeout;
  private periodic?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  /** until the first check has run: when it is due at the latest (monotonicMs) */
  private firstDue?: number;

  constructor(private readonly o: SelfCheckOptions) {}

  start(): void {
    this.firstDue = monotonicMs() + (this.o.firstWithinMs ?? 5000);
    // run() directly: a poke() from a reconcile would clear a periodic run left as a timer
    this.periodic = setInterval(() => void this.run(), this.o.everyMs);
    this.poke();
  }

  /** Something was reconciled: check once things have been quiet for settleMs. */
  poke(delayMs = this.o.settleMs ?? 2000): void {
    if (this.stopped) return;
    clearTimeout(this.settle);
    const delay = this.firstDue === undefined ? delayMs : Math.max(0, Math.min(delayMs, this.firstDue - monotonicMs()));
    this.settle = setTimeout(() => void this.run(), delay);
  }

  private async run(): Promise<void> {
    if (this.running) { this.again = true; return; }
    this.running = this.check().finally(() => { this.running = undefined; });
    await this.running;
    if (this.again && !this.stopped) { this.again = false; this.poke(); }
  }

  private async check(): Promise<void> {
    const unreported = this.firstDue !== undefined;
    this.firstDue = undefined;
    try {
      const diffs = await differences({ node: this.o.node, store: this.o.store, caches: this.o.caches, dp: this.o.dp, ipamPlugin: this.o.ipamPlugin, networks: this.o.networks });
      if (!this.stopped) await this.o.reporter.publish(diffs);
    } catch (e) {
      this.o.log.warn('observed-state check failed', { error: (e as Error).message });
      // Nothing reported yet (etcd not reachable at start): tried again as the first was,
      // within firstWithinMs, not left to the interval while xctl verify says "not running".
      if (unreported && !this.stopped) {
        const within = this.o.firstWithinMs ?? 5000;
        this.firstDue = monotonicMs() + within;
        this.poke(within);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.settle);
    clearInterval(this.periodic);
    await this.running;
    this.o.reporter.close();
  }
}
