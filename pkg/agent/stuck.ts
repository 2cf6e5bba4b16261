// A worker stuck past its budget (issue 8 part 7). Every single call to etcd, Docker, `ip`,
// `nsenter` and `iptables-restore` has its own deadline, but a reconcile can still hang (a call
// the deadlines do not cover, or a chain of slow ones) and two hung workers stop all healing.
// The heartbeat, which runs on its own timer, then reports the Node Ready=False, reason
// AgentStuck, and the log names the key and how long it has run.
import type { Logger } from '../log.js';
import { monotonicMs } from '../runtime/clock.js';

/** The default budget of one reconcile: several calls, each bounded at 30 s, fit in it. */
export const DEFAULT_WORKER_BUDGET_MS = 120_000;

export interface StuckWorker { key: string; ms: number }

export class StuckWatch {
  /** key -> when its reconcile started (the queue runs one worker per key) */
  private readonly running = new Map<string, number>();
  private readonly reported = new Set<string>();

  constructor(readonly budgetMs: number, private readonly log: Logger) {}

  start(key: string): void { this.running.set(key, monotonicMs()); }

  end(key: string): void {
    const t0 = this.running.get(key);
    this.running.delete(key);
    if (this.reported.delete(key)) this.log.warn('worker no longer stuck', { key, ranMs: t0 === undefined ? undefined : monotonicMs() - t0 });
  }

  /** The reconciles running past the budget now; each is logged once when it first is. */
  check(now = monotonicMs()): StuckWorker[] {
    const out: StuckWorker[] = [];
    for (const [key, t0] of this.running) {
      const ms = now - t0;
      if (ms < this.budgetMs) continue;
      out.push({ key, ms });
      if (!this.reported.has(key)) {
        this.reported.add(key);
        this.log.error('worker stuck past its budget; the Node reports Ready=False AgentStuck', { key, ranMs: ms, budgetMs: this.budgetMs });
      }
    }
    return out;
  }
}

/** The Node's Ready message for stuck workers, or undefined when none is. */
export function stuckMessage(stuck: StuckWorker[], budgetMs: number): string | undefined {
  if (!stuck.length) return undefined;
  const list = stuck.map((s) => `${s.key} for ${Math.round(s.ms / 1000)} s`).join(', ');
  return `${stuck.length} worker(s) stuck past the ${Math.round(budgetMs / 1000)} s budget: ${list}; healing of those keys is stalled`;
}
