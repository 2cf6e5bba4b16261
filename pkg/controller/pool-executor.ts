// Serialises all writes that touch one pool and batches them: requests that arrive while a
// round is in flight are planned together into the next one, in as many transactions as they
// need (up to MAX_ROUND_TXNS, committed side by side). Planning each round from one snapshot,
// with a round state that the (at most MAX_ROUNDS_IN_FLIGHT) rounds in flight share, means the
// only way a commit can fail is a change made outside this pool's flow (a user edit, a GC
// delete) — and then the read-back of its compared keys refreshed the cache, and the request
// is planned again once the rounds in flight have landed, from a fresh round state.
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

/** The key of what one planning pass memoizes: dropped before the next pass (planRound). */
export const PASS_MEMO = 'pass-memo';

/**
 * A memo that lives for one planning pass (a synchronous loop: the cache cannot change under
 * it), unlike the round state, which the rounds in flight share and which may outlive changes.
 */
export function passMemo(state: RoundState): Map<string, unknown> {
  let m = state.get(PASS_MEMO) as Map<string, unknown> | undefined;
  if (!m) state.set(PASS_MEMO, (m = new Map()));
  return m;
}

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

/**
 * Rounds in flight at once: the next round is planned (on the controller's CPU) while etcd
 * commits the last ones, instead of the two taking turns. They share one round state, so none
 * takes an address another is claiming. Three (with 1,024 workers) beat two in eight of eight
 * interleaved bench/ipam runs (4.6% less time; docs/scale.md, "Sixth pass").
 */
export const MAX_ROUNDS_IN_FLIGHT = 3;

export class PoolExecutor<I, O> {
  private pending: Pending<I, O>[] = [];
  /** requests whose transaction failed a compare: first in the next round */
  private retried: Pending<I, O>[] = [];
  private running = false;
  private closed = false;
  private inFlight = new Set<Promise<void>>();
  /** the round state the rounds in flight share; a round planned when none is gets a fresh one */
  private state: RoundState = new Map();
  private conflicts = 0;
  /** set by a round that hit a conflict: wait this long (and for the rounds in flight) first */
  private backoffMs?: number;

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

  /**
   * submit() for many items at once, without a promise each: `settled(i, ...)` is called once
   * for items[i], with what its promise would have resolved with (`out`) or rejected with
   * (`error`). It is called from the executor's own loop: it must not throw.
   */
  submitEach(items: readonly I[], settled: (i: number, how: { out: O } | { error: unknown }) => void): void {
    if (this.closed) { items.forEach((_, i) => settled(i, { error: new NotLeaderError() })); return; }
    items.forEach((item, i) => this.pending.push({ item, resolve: (out) => settled(i, { out }), reject: (error) => settled(i, { error }) }));
    if (!this.running) void this.drain();
  }

  close(): void {
    this.closed = true;
    for (const p of [...this.retried.splice(0), ...this.pending.splice(0)]) p.reject(new NotLeaderError());
  }

  private async drain(): Promise<void> {
    this.running = true;
    let batch: Pending<I, O>[] = [];
    try {
      while (!this.closed) {
        // One turn of the event loop first: the workers a commit just freed submit their next
        // items now, and they join this round instead of making a round of a few of their own.
        await new Promise<void>((r) => setImmediate(r));
        if (this.backoffMs !== undefined) {
          // a conflict: the retry plans from what the read-backs found, after the others land
          await Promise.all(this.inFlight);
          await sleep(this.backoffMs);
          this.backoffMs = undefined;
        }
        // Newcomers join the batch so that a burst of requests shares transactions.
        batch = [...this.retried.splice(0), ...batch, ...this.pending.splice(0)];
        if (batch.length === 0 || this.inFlight.size >= MAX_ROUNDS_IN_FLIGHT) {
          if (this.inFlight.size === 0) break;
          await Promise.race(this.inFlight);
          continue;
        }
        if (this.inFlight.size === 0) this.state = new Map();
        const planned = this.planRound(this.grouped(batch), this.state);
        batch = planned.left;
        if (planned.txns.length === 0) continue;
        const txns = planned.txns;
        const r: Promise<void> = this.commitRound(txns)
          .catch((err) => { for (const t of txns) for (const x of t.served) x.p.reject(err); })
          .finally(() => this.inFlight.delete(r));
        this.inFlight.add(r);
      }
    } catch (err) {
      for (const p of [...batch, ...this.retried.splice(0), ...this.pending.splice(0)]) p.reject(err);
      batch = [];
    } finally {
      this.running = false;
      // Closed mid-round: whatever was still waiting must hear so, or its worker hangs.
      for (const p of batch) p.reject(new NotLeaderError());
      if ((this.pending.length || this.retried.length) && !this.closed) void this.drain();
    }
  }

  /**
   * Commits one round's transactions side by side and settles their requests. A request whose
   * transaction failed a compare is retried (its read-back refreshed the cache) after a
   * backoff, a bounded number of times in a row.
   */
  private async commitRound(txns: RoundTxn<I, O>[]): Promise<void> {
    const results = await Promise.allSettled(txns.map((t) => t.plan.commit(this.client, this.cache)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed && failed.reason instanceof NotLeaderError) {
      this.close();
      for (const t of txns) for (const s of t.served) s.p.reject(failed.reason);
      return;
    }
    const retry: Pending<I, O>[] = [];
    results.forEach((r, i) => {
      const served = txns[i].served;
      if (r.status === 'rejected') for (const s of served) s.p.reject(r.reason);
      else if (r.value) for (const s of served) s.p.resolve(s.out);
      else retry.push(...served.map((s) => s.p));
    });
    if (retry.length === 0) { this.conflicts = 0; return; }
    if (this.closed) { for (const p of retry) p.reject(new NotLeaderError()); return; }
    if (!mayRetry(++this.conflicts, POOL_CONFLICT_BACKOFF)) {
      this.conflicts = 0;
      for (const p of retry) p.reject(new ConflictRetriesExceeded(this.pool));
      return;
    }
    this.backoffMs = backoffDelay(this.conflicts, POOL_CONFLICT_BACKOFF);
    this.retried.push(...retry);
    if (!this.running) void this.drain();
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
  private planRound(batch: Pending<I, O>[], state: RoundState): { txns: RoundTxn<I, O>[]; left: Pending<I, O>[] } {
    const txns: RoundTxn<I, O>[] = [];
    const largest = { compares: 0, ops: 0, bytes: 0 };
    state.delete(PASS_MEMO);
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
