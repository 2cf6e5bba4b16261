// Serialises all writes that touch one pool and batches them: requests that arrive while a
// transaction is in flight are planned together into the next one. Planning from one
// snapshot and committing one transaction at a time per pool means the only way a commit can
// fail is a change made outside this pool's flow (a user edit, a GC delete) — and then the
// failure branch refreshed the cache and the round is planned again.
import type { Etcd3 } from 'etcd3';
import type { KvCache } from '../runtime/kv-cache.js';
import { TxnPlan, NotLeaderError } from './txn-plan.js';
import type { ICompare } from 'etcd3';
import { ControllerError } from '../errors.js';
import { POOL_CONFLICT_BACKOFF, backoffDelay, mayRetry, sleep } from '../runtime/backoff.js';

/**
 * Adds one request's compares and writes to the plan and returns what the request will
 * resolve with once the transaction commits. When the plan no longer fits one transaction
 * the executor rolls this item back and serves it in the next round; a thrown error rejects
 * only this item.
 */
export type PlanItem<I, O> = (item: I, plan: TxnPlan, round: RoundState) => O;

/** Per-round scratch state planners share (e.g. addresses already picked in this round). */
export type RoundState = Map<string, unknown>;

export class ConflictRetriesExceeded extends ControllerError {
  constructor(pool: string) { super('Conflict', `pool ${pool}: transaction kept conflicting with concurrent changes; will retry`, { retryable: true }); }
}

interface Pending<I, O> { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }

export class PoolExecutor<I, O> {
  private pending: Pending<I, O>[] = [];
  private running = false;
  private closed = false;

  constructor(
    readonly pool: string,
    private readonly client: Etcd3,
    private readonly cache: KvCache,
    private readonly guard: ICompare,
    private readonly leaderKey: string,
    private readonly planItem: PlanItem<I, O>,
    private readonly maxOps?: number,
  ) {}

  submit(item: I): Promise<O> {
    if (this.closed) return Promise.reject(new NotLeaderError());
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  close(): void {
    this.closed = true;
    for (const p of this.pending.splice(0)) p.reject(new NotLeaderError());
  }

  private async drain(): Promise<void> {
    this.running = true;
    let batch: Pending<I, O>[] = [];
    try {
      let conflicts = 0;
      while (!this.closed) {
        // Newcomers join the batch so that a burst of requests shares transactions.
        batch.push(...this.pending.splice(0));
        if (batch.length === 0) break;
        const r = await this.round(batch);
        batch = r.left;
        if (!r.conflict) { conflicts = 0; continue; }
        if (!mayRetry(++conflicts, POOL_CONFLICT_BACKOFF)) {
          for (const p of batch) p.reject(new ConflictRetriesExceeded(this.pool));
          batch = [];
          conflicts = 0;
          continue;
        }
        await sleep(backoffDelay(conflicts, POOL_CONFLICT_BACKOFF));
      }
    } catch (err) {
      for (const p of [...batch, ...this.pending.splice(0)]) p.reject(err);
      batch = [];
    } finally {
      this.running = false;
      // Closed mid-round: whatever was still waiting must hear so, or its worker hangs.
      for (const p of batch) p.reject(new NotLeaderError());
      if (this.pending.length && !this.closed) void this.drain();
    }
  }

  /** Plans and commits one transaction; returns the requests still to serve. */
  private async round(batch: Pending<I, O>[]): Promise<{ left: Pending<I, O>[]; conflict: boolean }> {
    const plan = new TxnPlan(this.guard, this.leaderKey, this.maxOps);
    const state: RoundState = new Map();
    const served: Array<{ p: Pending<I, O>; out: O }> = [];
    const left: Pending<I, O>[] = [];
    for (const p of batch) {
      if (left.length) { left.push(p); continue; }
      const m = plan.mark();
      let out: O;
      try {
        out = this.planItem(p.item, plan, state);
      } catch (err) {
        plan.rollback(m);
        p.reject(err);
        continue;
      }
      if (!plan.fits()) {
        plan.rollback(m);
        if (served.length === 0) { p.reject(new Error(`pool ${this.pool}: one request needs more than one etcd transaction allows (--max-txn-ops, --max-request-bytes)`)); continue; }
        left.push(p);
        continue;
      }
      served.push({ p, out });
    }
    if (served.length === 0) return { left, conflict: false };
    let ok: boolean;
    try {
      ok = await plan.commit(this.client, this.cache);
    } catch (err) {
      if (err instanceof NotLeaderError) this.close();
      for (const s of served) s.p.reject(err);
      for (const p of left) p.reject(err);
      return { left: [], conflict: false };
    }
    if (!ok) return { left: [...served.map((s) => s.p), ...left], conflict: true };
    for (const s of served) s.p.resolve(s.out);
    return { left, conflict: false };
  }
}
