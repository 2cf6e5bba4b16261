// The leader marks each address claim it sees go (ipam/release-mark.ts) in etcd, under a lease
// that outlives --address-cooldown, so that the cooldown holds across controllers: a controller
// started later (every one that saw the release restarted meanwhile) reads the mark and waits
// out what is left, instead of handing the address out at once. Marks are written a moment
// after their release, batched, in transactions that the term's guard makes the leader's
// alone; the leases are never kept alive: etcd deletes a mark once its cooldown is over.
import type { Etcd3, ICompare, Lease } from 'etcd3';
import type { Logger } from '../log.js';
import type { IpamKeys } from '../ipam/keys.js';
import type { ReleaseMark } from '../ipam/release-mark.js';
import { putOp, txn } from '../runtime/kv.js';
import { monotonicMs } from '../runtime/clock.js';
import { RELEASE_MARK_RETRY, backoffDelay, mayRetry } from '../runtime/backoff.js';
import { ETCD_DEFAULT_LIMITS, REQUEST_BYTES_BASE, entryBytes } from '../etcd/limits.js';
import { MAX_PLAN_OPS } from './txn-plan.js';
import type { Release } from './released-index.js';
import type { Model } from './model.js';

/** A burst of releases (a node's NICs deleted) goes out in one transaction, this long after its first. */
const BATCH_MS = 50;
/**
 * One lease serves the marks of this many seconds; each lease lives the cooldown and this long,
 * so a mark lives at least the cooldown and at most this much longer.
 */
const LEASE_ROTATE_S = 10;
/** How long a graceful stop waits for the marks queued before it resigns (Term.finishLeading, after the reconciles in flight settled). */
const STOP_FLUSH_MS = 2_000;

/** A mark waiting to be written, and how many of its tries failed. */
interface Queued { mark: ReleaseMark; failures: number }

export interface ReleaseMarksOptions {
  client: Etcd3;
  ipam: IpamKeys;
  /** the term's guard: a mark is written only while this term leads */
  guard: ICompare;
  cooldownMs: number;
  /** at most this many ops per transaction (--max-txn-ops) */
  maxTxnOps: number;
  log: Logger;
}

export class ReleaseMarks {
  /** by mark key: a second release of one address before its mark went replaces the first */
  private readonly queue = new Map<string, Queued>();
  private lease?: { lease: Lease; id: string; grantedAt: number };
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private closed = false;

  constructor(private readonly o: ReleaseMarksOptions) {}

  /** Marks the release (soon, with the others of its burst). With no cooldown there is nothing to carry over. */
  note(r: Release): void {
    if (this.closed || this.o.cooldownMs <= 0) return;
    const { type, pool, ip, ...mark } = r;
    this.queue.set(this.o.ipam.releaseMark(type, pool, ip), { mark, failures: 0 });
    this.schedule(BATCH_MS);
  }

  /** Stops marking; waits for the transaction in flight. What is queued is dropped (the next leader marks what it saw). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.queue.clear();
    await this.flushing;
  }

  private schedule(ms: number): void {
    if (this.timer || this.flushing || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.queue.size) this.schedule(this.retryInMs());
      });
    }, ms);
    this.timer.unref();
  }

  /** The next flush's wait: the backoff of the most failed mark queued, or a batch's. */
  private retryInMs(): number {
    const worst = Math.max(0, ...[...this.queue.values()].map((q) => q.failures));
    return worst ? backoffDelay(worst, RELEASE_MARK_RETRY) : BATCH_MS;
  }

  /**
   * Writes what is queued now (a graceful stop, before the term's lease goes), within about `ms`:
   * the marks of the last moments would otherwise wait for a batch timer the stop clears.
   */
  async flushNow(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    // bounded as a whole: a transaction etcd does not answer takes its own deadline and retries
    const deadline = new Promise<void>((r) => { timer = setTimeout(r, ms); });
    try { await Promise.race([this.drain(monotonicMs() + ms), deadline]); } finally { clearTimeout(timer); }
  }

  /** Flushes until the queue is empty, the term over or `end`; one transaction at a time, the timer's too. */
  private async drain(end: number): Promise<void> {
    while (!this.closed && monotonicMs() < end) {
      // a flush the timer started re-arms it when it ends: cleared at every turn
      clearTimeout(this.timer);
      this.timer = undefined;
      if (this.flushing) { await this.flushing; continue; }
      if (!this.queue.size) return;
      const f = (this.flushing = this.flush());
      try { await f; } finally { if (this.flushing === f) this.flushing = undefined; }
    }
  }

  /**
   * The queue's first marks that fit one transaction: at most --max-txn-ops puts (the guard's
   * compare is counted apart), never more than a TxnPlan's MAX_PLAN_OPS, and half of etcd's
   * default request size whatever etcd allows (a node's thousands of addresses released at once
   * were one transaction of megabytes that etcd refused at every try).
   */
  private takeBatch(): Array<[string, Queued]> {
    const maxOps = Math.min(MAX_PLAN_OPS, Math.max(1, this.o.maxTxnOps));
    const out: Array<[string, Queued]> = [];
    let bytes = REQUEST_BYTES_BASE;
    for (const [key, q] of this.queue) {
      const b = entryBytes(key, JSON.stringify(q.mark));
      if (out.length >= maxOps || (out.length && bytes + b > ETCD_DEFAULT_LIMITS.maxRequestBytes / 2)) break;
      out.push([key, q]);
      bytes += b;
    }
    for (const [key] of out) this.queue.delete(key);
    return out;
  }

  /** Writes one transaction's worth of the queue (takeBatch). */
  private async flush(): Promise<void> {
    const batch = this.takeBatch();
    try {
      const lease = await this.currentLease();
      const r = await txn(this.o.client, [this.o.guard], batch.map(([key, q]) => putOp(key, q.mark, lease)));
      // the term is over: the next leader marks what it saw still cooling (term start)
      if (!r.succeeded) this.closed = true;
    } catch (err) {
      this.lease = undefined;
      this.requeue(batch, err);
    }
  }

  /** Puts a failed batch back (unless a newer release of the address came meanwhile), or gives it up after its retries. */
  private requeue(batch: Array<[string, Queued]>, err: unknown): void {
    let dropped = 0;
    for (const [key, q] of batch) {
      if (this.queue.has(key)) continue;
      if (mayRetry(q.failures + 1, RELEASE_MARK_RETRY)) this.queue.set(key, { mark: q.mark, failures: q.failures + 1 });
      else dropped++;
    }
    const level = dropped ? 'warn' : 'debug';
    this.o.log.log(level, dropped ? 'release marks not written; the addresses cool down in this controller only' : 'release marks not written yet; retrying',
      { marks: batch.length, dropped, error: err instanceof Error ? err.message : String(err) });
  }

  /** The lease of this LEASE_ROTATE_S: granted for the cooldown and the rotation, never kept alive. */
  private async currentLease(): Promise<string> {
    const now = monotonicMs();
    if (this.lease && now - this.lease.grantedAt < LEASE_ROTATE_S * 1000) return this.lease.id;
    const lease = this.o.client.lease(Math.ceil(this.o.cooldownMs / 1000) + LEASE_ROTATE_S, { autoKeepAlive: false });
    lease.on('lost', () => undefined);
    const id = await lease.grant();
    this.lease = { lease, id, grantedAt: now };
    return id;
  }
}

/**
 * Marks, for a term that starts leading, every release its model knows to be cooling and finds
 * no mark of (a leader that stopped before writing it), then each claim seen to go until stop().
 */
export function startReleaseMarks(ctx: Omit<ReleaseMarksOptions, 'ipam'> & { model: Model }): { flush(): Promise<void>; stop(): Promise<void> } {
  const { model } = ctx;
  const marks = new ReleaseMarks({ ...ctx, ipam: model.ipam });
  for (const r of model.releases.cooling(ctx.cooldownMs)) {
    if (!model.cache.get(model.ipam.releaseMark(r.type, r.pool, r.ip))) marks.note(r);
  }
  const unsubscribe = model.releases.onRelease((r) => marks.note(r));
  return { flush: () => marks.flushNow(STOP_FLUSH_MS), stop: () => { unsubscribe(); return marks.close(); } };
}
