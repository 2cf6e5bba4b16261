import type { WorkQueue } from './workqueue.js';
import { reconcileDuration, reconcileErrors, trackQueue, workqueueRetries } from '../metrics/metrics.js';
import { Slots } from './slots.js';

/** What a reconcile asks for besides success: look again later (polling a condition). */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type Reconcile<K> = (key: K) => Promise<ReconcileResult | void>;

/**
 * How one key of a bulk reconcile ended: `{ error }` failed (re-added with backoff, as a
 * thrown error of a reconcile), anything else succeeded.
 */
export type Settled = { error: unknown } | ReconcileResult | void;

/**
 * Keys reconciled many at once (the controller's ContainerNics, handed to their pool together):
 * a worker that takes one of these keys takes the run of them queued behind it too, as many as
 * there are workers free, and `start`s them with one call. `settle` must be called once per key,
 * in any order, whenever it is done (a key holds a worker until then, as in a reconcile of its own).
 */
export interface BulkReconcile<K> {
  accepts(key: K): boolean;
  start(keys: K[], settle: (key: K, how: Settled) => void): void;
}

export interface WorkerOptions<K> {
  workers?: number;
  /** Called for each failed reconcile before the key is re-added with backoff. */
  onError?: (key: K, err: unknown, retryInMs: number) => void;
  /** metrics: the queue's name and the kind a key belongs to (the label of its reconciles) */
  metrics?: { queue: string; kindOf: (key: K) => string };
  bulk?: BulkReconcile<K>;
}

/**
 * Runs `workers` loops that take keys from the queue and reconcile them. A thrown error
 * re-adds the key with backoff; success forgets the backoff. The queue guarantees one
 * worker per key. At most `workers` keys are reconciled at once, a bulk reconcile's counted
 * one by one. Resolves when the queue is shut down and every key taken has been settled.
 */
export async function runWorkers<K>(queue: WorkQueue<K>, reconcile: Reconcile<K>, opts: WorkerOptions<K> = {}): Promise<void> {
  const n = Math.max(1, opts.workers ?? 1);
  const m = opts.metrics;
  const untrack = m ? trackQueue(m.queue, () => queue.len()) : () => undefined;
  const slots = new Slots(n);
  const settled = settler(queue, opts);
  const bulk = opts.bulk && bulkStarter(queue, opts.bulk, slots, settled, m);
  const loop = async () => {
    for (;;) {
      const wait = slots.take();
      if (wait) await wait;
      const key = await queue.get();
      if (key === undefined) { slots.give(1); slots.passOn(); return; }
      if (bulk?.accepts(key)) { bulk.start(key); slots.passOn(); continue; }
      slots.passOn();
      const end = m && reconcileDuration.startTimer({ kind: m.kindOf(key) });
      try {
        const r = await reconcile(key);
        settled(key, r);
      } catch (err) {
        settled(key, { error: err });
      } finally {
        end?.();
        queue.done(key);
        slots.give(1);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: n }, loop));
    await slots.allFree();
  } finally {
    untrack();
  }
}

/** What follows a key's reconcile: its backoff forgotten, or the key re-added after its next step. */
function settler<K>(queue: WorkQueue<K>, opts: WorkerOptions<K>): (key: K, how: Settled) => void {
  const m = opts.metrics;
  return (key, how) => {
    if (!(how && 'error' in how)) {
      queue.forget(key);
      if (how && how.requeueAfterMs !== undefined) queue.addAfter(key, how.requeueAfterMs);
      return;
    }
    const ms = queue.addRateLimited(key);
    if (m) { reconcileErrors.inc({ kind: m.kindOf(key) }); workqueueRetries.inc({ queue: m.queue }); }
    opts.onError?.(key, how.error, ms);
  };
}

/**
 * Starts a run of bulk keys behind `first`, each holding a worker slot until settled. Each
 * key's reconcile duration is from the start of its run to its own settle.
 */
function bulkStarter<K>(queue: WorkQueue<K>, bulk: BulkReconcile<K>, slots: Slots, settled: (key: K, how: Settled) => void,
  m: WorkerOptions<K>['metrics']): { accepts(key: K): boolean; start(first: K): void } {
  const timers = new Map<string, { observe(v: number): void }>();
  const timer = (kind: string) => {
    let t = timers.get(kind);
    if (!t) timers.set(kind, (t = reconcileDuration.labels({ kind })));
    return t;
  };
  return {
    accepts: (key) => bulk.accepts(key),
    start(first) {
      const keys = [first, ...queue.takeMore((k) => bulk.accepts(k), slots.free)];
      slots.takeNow(keys.length - 1);
      const t0 = performance.now();
      const open = new Set(keys);
      const settle = (key: K, how: Settled) => {
        // once per key: a second settle must not free a slot or a key it no longer holds
        if (!open.delete(key)) return;
        try {
          settled(key, how);
        } finally {
          if (m) timer(m.kindOf(key)).observe((performance.now() - t0) / 1000);
          queue.done(key);
          slots.give(1);
        }
      };
      try {
        bulk.start(keys, settle);
      } catch (err) {
        for (const k of [...open]) settle(k, { error: err });
      }
    },
  };
}
