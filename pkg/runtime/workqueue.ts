import { backoffDelay, WORKQUEUE_BACKOFF, type BackoffPolicy } from './backoff.js';
import { monotonicMs } from './clock.js';

/**
 * A deduplicating work queue in the manner of client-go's workqueue:
 * - a key is queued at most once however often it is added;
 * - a key handed out by get() is "processing" until done(); adding it meanwhile marks it
 *   dirty and it is queued again on done(), so one key never has two workers at once and no
 *   change is lost;
 * - addRateLimited() re-adds after a per-key exponential backoff (capped); forget() resets it
 *   after a success.
 * Level-triggered reconcilers need nothing more: a key says "look at this object again".
 */
export class WorkQueue<K = string> {
  private queue: K[] = [];
  /** index of the queue's first key: taking one is O(1) at 10,000 queued (shift() is not) */
  private head = 0;
  private readonly queued = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly dirty = new Set<K>();
  private readonly failures = new Map<K, number>();
  private readonly timers = new Map<K, { timer: NodeJS.Timeout; due: number }>();
  private readonly waiters: Array<(k: K | undefined) => void> = [];
  private shuttingDown = false;

  constructor(private readonly backoff: BackoffPolicy = WORKQUEUE_BACKOFF) {}

  add(key: K): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) { this.dirty.add(key); return; }
    if (this.queued.has(key)) return;
    const w = this.waiters.shift();
    if (w) { this.processing.add(key); w(key); return; }
    this.queued.add(key);
    this.queue.push(key);
  }

  /**
   * Adds the key after `ms`; of two pending delays for the same key the one that ends first
   * wins (a reconcile asking to look again in 500 ms is not held back by a 10 s backoff).
   */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) { this.add(key); return; }
    // monotonic (clock.ts): a wall clock set forward must not keep a pending longer delay first
    const due = monotonicMs() + ms;
    const pending = this.timers.get(key);
    if (pending && pending.due <= due) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => { this.timers.delete(key); this.add(key); }, ms);
    timer.unref?.();
    this.timers.set(key, { timer, due });
  }

  /**
   * Re-adds after this key's next backoff step, of `policy` (the queue's without it: a caller may
   * back off one kind of failure longer than another); returns the delay chosen.
   */
  addRateLimited(key: K, policy: BackoffPolicy = this.backoff): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const ms = backoffDelay(n, policy);
    this.addAfter(key, ms);
    return ms;
  }

  /** Clears the key's backoff: call after a successful reconcile. */
  forget(key: K): void {
    this.failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** Resolves with the next key (now processing), or undefined once the queue shuts down. */
  get(): Promise<K | undefined> {
    if (this.head < this.queue.length) {
      const k = this.queue[this.head++];
      this.compact();
      this.queued.delete(k);
      this.processing.add(k);
      return Promise.resolve(k);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Takes up to `max` more keys now, each as get() would hand it out (processing until done()):
   * the keys at the head of the queue while `accepts` takes them, in order, none skipped, so a
   * key another kind queued first is not overtaken. For a worker that reconciles many at once.
   */
  takeMore(accepts: (key: K) => boolean, max: number): K[] {
    const out: K[] = [];
    while (out.length < max && this.head < this.queue.length && accepts(this.queue[this.head])) {
      const k = this.queue[this.head++];
      this.queued.delete(k);
      this.processing.add(k);
      out.push(k);
    }
    this.compact();
    return out;
  }

  /** Drops the keys taken from the array's front once they are many (or all). */
  private compact(): void {
    if (this.head === this.queue.length) { this.queue = []; this.head = 0; }
    else if (this.head > 1024 && this.head * 2 > this.queue.length) { this.queue = this.queue.slice(this.head); this.head = 0; }
  }

  /** Marks the key finished; if it was added while processing it is queued again. */
  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  /** Keys waiting (not processing, not delayed). */
  len(): number {
    return this.queue.length - this.head;
  }

  isProcessing(key: K): boolean {
    return this.processing.has(key);
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    this.queue = [];
    this.head = 0;
    this.queued.clear();
    this.dirty.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
