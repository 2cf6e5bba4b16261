// Serialises all writes that touch one pool and batches them: requests that arrive while a
// round is in flight are planned together into the next one, in as many transactions as they
// need (up to MAX_ROUND_TXNS, committed side by side). Planning each round from one snapshot
// and committing one round at a time per pool means the only way a commit can fail is a
// change made outside this pool's flow (a user edit, a GC delete) — and then the
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

/** One transaction of a round and the requests it serves. */
interface RoundTxn<I, O> { plan: TxnPlan; served: Array<{ p: Pending<I, O>; out: O }> }

/**
 * At most this many transactions per round, committed side by side: a burst of a thousand
 * requests goes to etcd a few hundred at a time instead of one or two per transaction. Bounded
 * because a round is planned in one go, without yielding to the event loop.
 */
export const MAX_ROUND_TXNS = 8;

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
    /**
     * Items of one group are planned next to each other (e.g. a node's NICs, which share one
     * HostSubnet compare): more of them fit one transaction. Groups keep the order in which
     * their first item arrived, so what waited longest is still served first.
     */
    private readonly groupOf?: (item: I) => string,
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

  /**
   * Plans one round from one snapshot of the cache into up to MAX_ROUND_TXNS transactions and
   * commits them side by side; returns the requests still to serve. The round state keeps the
   * transactions apart (an address picked for one is taken for the next), so they do not
   * conflict with each other; what decides "no address twice" is still each claim's compare.
   */
  private async round(batch: Pending<I, O>[]): Promise<{ left: Pending<I, O>[]; conflict: boolean }> {
    const planned = this.planRound(this.grouped(batch));
    if (planned.txns.length === 0) return { left: planned.left, conflict: false };
    const results = await Promise.allSettled(planned.txns.map((t) => t.plan.commit(this.client, this.cache)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed && failed.reason instanceof NotLeaderError) {
      this.close();
      for (const t of planned.txns) for (const s of t.served) s.p.reject(failed.reason);
      for (const p of planned.left) p.reject(failed.reason);
      return { left: [], conflict: false };
    }
    const retry: Pending<I, O>[] = [];
    results.forEach((r, i) => {
      const served = planned.txns[i].served;
      if (r.status === 'rejected') for (const s of served) s.p.reject(r.reason);
      else if (r.value) for (const s of served) s.p.resolve(s.out);
      else retry.push(...served.map((s) => s.p));
    });
    return { left: [...retry, ...planned.left], conflict: retry.length > 0 };
  }

  private grouped(batch: Pending<I, O>[]): Pending<I, O>[] {
    if (!this.groupOf) return batch;
    const groups = new Map<string, Pending<I, O>[]>();
    for (const p of batch) {
      const g = this.groupOf(p.item);
      const list = groups.get(g);
      if (list) list.push(p); else groups.set(g, [p]);
    }
    return [...groups.values()].flat();
  }

  /**
   * Fills transactions in order. A new one is started when the current one has no room left for
   * an item as large as the largest planned so far; an item that still overflows is rolled back
   * and waits, with everything after it, for the next round (its planning touched the round
   * state, so it is not planned again in this one).
   */
  private planRound(batch: Pending<I, O>[]): { txns: RoundTxn<I, O>[]; left: Pending<I, O>[] } {
    const state: RoundState = new Map();
    const txns: RoundTxn<I, O>[] = [];
    const largest = { compares: 0, ops: 0, bytes: 0 };
    let cur: RoundTxn<I, O> | undefined;
    for (const [i, p] of batch.entries()) {
      if (cur && cur.served.length && !cur.plan.fitsWith(largest)) cur = undefined;
      if (!cur) {
        if (txns.length >= MAX_ROUND_TXNS) return { txns, left: batch.slice(i) };
        txns.push((cur = { plan: new TxnPlan(this.guard, this.leaderKey, this.maxOps), served: [] }));
      }
      const m = cur.plan.mark();
      let out: O;
      try {
        out = this.planItem(p.item, cur.plan, state);
      } catch (err) {
        cur.plan.rollback(m);
        p.reject(err);
        continue;
      }
      if (!cur.plan.fits()) {
        cur.plan.rollback(m);
        if (cur.served.length) return { txns, left: batch.slice(i) };
        p.reject(new Error(`pool ${this.pool}: one request needs more than one etcd transaction allows (--max-txn-ops, --max-request-bytes)`));
        continue;
      }
      const after = cur.plan.size;
      largest.compares = Math.max(largest.compares, after.compares - m.c);
      largest.ops = Math.max(largest.ops, after.ops - m.o);
      largest.bytes = Math.max(largest.bytes, after.bytes - m.b);
      cur.served.push({ p, out });
    }
    return { txns: txns.filter((t) => t.served.length), left: [] };
  }
}
