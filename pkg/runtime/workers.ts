import type { WorkQueue } from './workqueue.js';
import { reconcileDuration, reconcileErrors, trackQueue, workqueueRetries } from '../metrics/metrics.js';

/** What a reconcile asks for besides success: look again later (polling a condition). */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type Reconcile<K> = (key: K) => Promise<ReconcileResult | void>;

export interface WorkerOptions<K> {
  workers?: number;
  /** Called for each failed reconcile before the key is re-added with backoff. */
  onError?: (key: K, err: unknown, retryInMs: number) => void;
  /** metrics: the queue's name and the kind a key belongs to (the label of its reconciles) */
  metrics?: { queue: string; kindOf: (key: K) => string };
}

/**
 * Runs `workers` loops that take keys from the queue and reconcile them. A thrown error
 * re-adds the key with backoff; success forgets the backoff. The queue guarantees one
 * worker per key. Resolves when the queue is shut down and every worker has finished.
 */
export async function runWorkers<K>(queue: WorkQueue<K>, reconcile: Reconcile<K>, opts: WorkerOptions<K> = {}): Promise<void> {
  const n = Math.max(1, opts.workers ?? 1);
  const m = opts.metrics;
  const untrack = m ? trackQueue(m.queue, () => queue.len()) : () => undefined;
  const loop = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const end = m && reconcileDuration.startTimer({ kind: m.kindOf(key) });
      try {
        const r = await reconcile(key);
        queue.forget(key);
        if (r && r.requeueAfterMs !== undefined) queue.addAfter(key, r.requeueAfterMs);
      } catch (err) {
        const ms = queue.addRateLimited(key);
        if (m) { reconcileErrors.inc({ kind: m.kindOf(key) }); workqueueRetries.inc({ queue: m.queue }); }
        opts.onError?.(key, err, ms);
      } finally {
        end?.();
        queue.done(key);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: n }, loop));
  } finally {
    untrack();
  }
}
