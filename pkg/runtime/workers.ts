import type { WorkQueue } from './workqueue.js';
import type { BackoffPolicy } from './backoff.js';
import type { Logger } from '../log-line.js';
import { reconcileDuration, reconcileErrors, reconcileWaits, trackQueue, workqueueRetries } from '../metrics/metrics.js';
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
 * in any order, whenever it is done (a key holds a worker until then, as in a reconcile of its
 * own): a key never settled keeps its worker's slot for good; a second settle of a key, or a
 * settle of a key its run does not hold, is reported and ignored. `start` should not throw: a
 * throw (or the rejection of the promise an async `start` returns) is reported and fails every
 * key of the run it has not settled yet (each re-added with backoff, onError told), and a later
 * settle of those is ignored.
 */
export interface BulkReconcile<K> {
  accepts(key: K): boolean;
  start(keys: K[], settle: (key: K, how: Settled) => void): void;
}

export interface WorkerOptions<K> {
  workers?: number;
  /** Called for each failed reconcile, once the key is re-added with backoff (after `retryInMs`); its throw, or an async one's rejection, is logged. */
  onError?: (key: K, err: unknown, retryInMs: number) => void;
  /** The backoff a failure's retry follows, when not the queue's (undefined, or a throw, which is logged: the queue's). */
  backoffOf?: (key: K, err: unknown) => BackoffPolicy | undefined;
  /**
   * metrics: the queue's name, the kind a key belongs to (the label of its reconciles) and which
   * failures are waits for something to come free rather than faults (the controller's RetryLater:
   * a NIC waiting for an address), counted in xnet_reconcile_waits_total and not in
   * xnet_reconcile_errors_total, whose alert would otherwise fire on a full pool.
   */
  metrics?: { queue: string; kindOf: (key: K) => string; isWait?: (err: unknown) => boolean };
  bulk?: BulkReconcile<K>;
  /** where a callback's throw (error) and a bulk reconcile's stray settle (warn) are told; stderr without it */
  log?: Pick<Logger, 'error' | 'warn'>;
}

/**
 * Runs `workers` loops that take keys from the queue and reconcile them. A thrown error (of
 * any type) re-adds the key with backoff, then onError is told; success forgets the backoff.
 * The queue guarantees one worker per key. At most `workers` keys are reconciled at once, a
 * bulk reconcile's counted one by one. Resolves, never rejects, when the queue is shut down and
 * every key taken has been settled.
 *
 * Whatever a callback does the workers go on, as Kubernetes' HandleCrash has them: what onError,
 * `backoffOf` (the queue's backoff then), `metrics.kindOf` or `bulk.accepts` throws (or an async onError rejects with) is logged and ignored (the key was re-added already;
 * its kind counts as "unknown", told once per reconcile; it is reconciled alone), a result that throws
 * when read (its requeueAfterMs a getter that throws) fails the key with that throw, and a bulk reconcile that breaks its
 * contract fails or drops only what it broke (BulkReconcile). A key never settled, like a
 * reconcile that never returns, keeps its slot and stays processing: the promise waits for it.
 */
export async function runWorkers<K>(queue: WorkQueue<K>, reconcile: Reconcile<K>, opts: WorkerOptions<K> = {}): Promise<void> {
  const n = Math.max(1, opts.workers ?? 1);
  const m = opts.metrics;
  const untrack = m ? trackQueue(m.queue, () => queue.len()) : () => undefined;
  const slots = new Slots(n);
  const g = guarded(opts);
  const settled = settler(queue, g, m);
  const bulk = opts.bulk && bulkStarter(queue, opts.bulk, slots, settled, g, !!m);
  const one = async (key: K) => {
    // read once: a kindOf that throws is told once per reconcile, not again for its error
    const kind = m && g.kindOf(key);
    const end = kind !== undefined && reconcileDuration.startTimer({ kind });
    let how: Settled;
    try {
      how = await reconcile(key);
    } catch (err) {
      how = { error: err };
    }
    settled(key, how, kind);
    if (end) end();
    queue.done(key);
    slots.give(1);
  };
  const loop = async () => {
    for (;;) {
      const wait = slots.take();
      if (wait) await wait;
      const key = await queue.get();
      if (key === undefined) { slots.give(1); slots.passOn(); return; }
      const inBulk = bulk !== undefined && g.accepts(key);
      try {
        if (inBulk) bulk.start(key);
      } finally {
        slots.passOn();
      }
      if (!inBulk) await one(key);
    }
  };
  try {
    await Promise.all(Array.from({ length: n }, loop));
    await slots.allFree();
  } finally {
    untrack();
  }
}

/** The options' callbacks, each of which never throws: what the caller's throws is logged. */
interface Guarded<K> {
  onError(key: K, err: unknown, ms: number): void;
  backoffOf(key: K, err: unknown): BackoffPolicy | undefined;
  kindOf(key: K): string;
  isWait(key: K, err: unknown): boolean;
  accepts(key: K): boolean;
  report(level: 'error' | 'warn', what: string, key: K, thrown?: { error: unknown }): void;
}

function guarded<K>({ onError, backoffOf, metrics, bulk, log }: WorkerOptions<K>): Guarded<K> {
  const report: Guarded<K>['report'] = (level, what, key, thrown) => {
    try {
      const meta = { key: String(key), ...(thrown && { error: thrown.error instanceof Error ? thrown.error.message : String(thrown.error) }) };
      if (log) log[level](what, meta); else console.error(`runWorkers: ${what}`, meta);
    } catch {
      // the log (or the key's or error's string) threw too: nothing is left to tell it to
    }
  };
  return {
    report,
    onError(key, err, ms) {
      const threw = (error: unknown) => report('error', 'onError threw; ignored (the key is re-added)', key, { error });
      try { whenRejected(onError?.(key, err, ms), threw); } catch (error) { threw(error); }
    },
    backoffOf(key, err) {
      try { return backoffOf?.(key, err); } catch (error) { report('error', 'backoffOf threw; the queue\'s backoff is used', key, { error }); return undefined; }
    },
    kindOf(key) {
      try { return String(metrics?.kindOf(key)); } catch (error) { report('error', 'metrics kindOf threw; counted as "unknown"', key, { error }); return 'unknown'; }
    },
    isWait(key, err) {
      try { return !!metrics?.isWait?.(err); } catch (error) { report('error', 'metrics isWait threw; counted as an error', key, { error }); return false; }
    },
    accepts(key) {
      try { return !!bulk?.accepts(key); } catch (error) { report('error', 'bulk accepts threw; the key is reconciled alone', key, { error }); return false; }
    },
  };
}

/**
 * A callback typed to return nothing may be async (TypeScript lets a promise stand for void): its
 * rejection is `rejected`'s, as its throw would be, never left unhandled (a daemon exits on one).
 */
function whenRejected(returned: unknown, rejected: (error: unknown) => void): void {
  if (typeof (returned as PromiseLike<unknown> | null | undefined)?.then === 'function') Promise.resolve(returned).then(undefined, rejected);
}

const failed = (how: Settled): how is { error: unknown } => typeof how === 'object' && how !== null && 'error' in how;

/**
 * A key's outcome, read once: `{ error }`, or a success and when to look again. A result that
 * throws when read (a getter, a proxy) is a failure with what it threw: the key is retried
 * rather than lost, and the throw never escapes the worker (its slot and the key's processing
 * mark would stay taken).
 */
function outcomeOf(how: Settled): { error: unknown } | { requeueAfterMs?: number } {
  try {
    if (failed(how)) return { error: how.error };
    const after = (how as ReconcileResult | undefined)?.requeueAfterMs;
    return typeof after === 'number' ? { requeueAfterMs: after } : {};
  } catch (error) {
    return { error };
  }
}

/**
 * What follows a key's reconcile: its backoff forgotten, or the key re-added after its next
 * step. Never throws (anything but `{ error }`, or a result that throws when read, is a
 * success). `kind`: the key's metrics label, as read for its reconcile (undefined without metrics).
 */
function settler<K>(queue: WorkQueue<K>, g: Guarded<K>, m: WorkerOptions<K>['metrics']): (key: K, how: Settled, kind?: string) => void {
  return (key, how, kind) => {
    const outcome = outcomeOf(how);
    if (!('error' in outcome)) {
      queue.forget(key);
      if (outcome.requeueAfterMs !== undefined) queue.addAfter(key, outcome.requeueAfterMs);
      return;
    }
    const ms = queue.addRateLimited(key, g.backoffOf(key, outcome.error));
    if (m) {
      (g.isWait(key, outcome.error) ? reconcileWaits : reconcileErrors).inc({ kind: kind ?? 'unknown' });
      workqueueRetries.inc({ queue: m.queue });
    }
    g.onError(key, outcome.error, ms);
  };
}

/**
 * Starts a run of bulk keys behind `first`, each holding a worker slot until settled. Each
 * key's reconcile duration is from the start of its run to its own settle. Never throws.
 */
function bulkStarter<K>(queue: WorkQueue<K>, bulk: BulkReconcile<K>, slots: Slots, settled: (key: K, how: Settled, kind?: string) => void,
  g: Guarded<K>, metrics: boolean): { start(first: K): void } {
  const timers = new Map<string, { observe(v: number): void }>();
  const timer = (kind: string) => {
    let t = timers.get(kind);
    if (!t) timers.set(kind, (t = reconcileDuration.labels({ kind })));
    return t;
  };
  return {
    start(first) {
      const keys = [first, ...queue.takeMore((k) => g.accepts(k), slots.free)];
      slots.takeNow(keys.length - 1);
      const t0 = performance.now();
      const open = new Set(keys);
      const settle = (key: K, how: Settled) => {
        // once per key: a second settle must not free a slot or a key it no longer holds
        if (!open.delete(key)) { g.report('warn', 'bulk reconcile settled a key it does not hold (settled already, or its start threw); ignored', key); return; }
        const kind = metrics ? g.kindOf(key) : undefined;
        settled(key, how, kind);
        if (kind !== undefined) timer(kind).observe((performance.now() - t0) / 1000);
        queue.done(key);
        slots.give(1);
      };
      const fail = (error: unknown) => {
        g.report('error', 'bulk start threw; the keys of its run it had not settled fail', first, { error });
        for (const k of [...open]) settle(k, { error });
      };
      try {
        whenRejected(bulk.start(keys, settle), fail);
      } catch (err) {
        fail(err);
      }
    },
  };
}
