// Commits planned steps in order: in one transaction when they all fit etcd's limits (all or
// nothing), otherwise in consecutive transactions that each fit (each all or nothing, the
// whole in order). A transaction whose compares fail is planned again from fresh reads; a
// failure after the first commit says how far the write got, since what was committed stays.
import type { Etcd3, ICompare } from 'etcd3';
import { TxnBudget, type EtcdLimits } from '../etcd/limits.js';
import { EtcdUnavailableError, StoreError, ValidationError } from '../errors.js';
import { fromEtcdError } from '../etcd/errors.js';
import { noneReached, trackAttempts, type Attempts } from '../etcd/attempts.js';
import type { WriteProgress } from './types.js';
import { backoffDelay, mayRetry, sleep, type BackoffPolicy } from '../runtime/backoff.js';
export type { WriteProgress };
import type { WriteStep } from './write-plan.js';

/**
 * One object whose writes exceed what one etcd transaction may hold. Found when the batch is
 * packed, before its first transaction (nothing was written), or when a conflicting
 * transaction is planned again after earlier ones committed (PartialWriteError carries it).
 */
export class TooLargeError extends ValidationError {
  /** excess: what is over which limit ("about 1642855 bytes > --max-request-bytes 1572864") */
  constructor(readonly kind: string, readonly objectName: string, readonly excess: string, nothingWritten = true) {
    super('TooLarge', `${kind} "${objectName}" does not fit one etcd transaction (${excess})${nothingWritten ? '; nothing was written' : ''}`);
  }
}

/**
 * A multi-transaction write that stopped after committing some of its transactions; `inFlight`:
 * a transaction of it was sent when etcd went away and may have committed (false when no
 * attempt of it reached etcd: attempts.ts).
 */
export class PartialWriteError extends StoreError {
  constructor(readonly progress: WriteProgress, cause: unknown, readonly inFlight = true) {
    super('Partial', `stopped after ${progress.transactions} of ${progress.planned} transactions ` +
      `(${progress.done} of ${progress.total} objects done, ${progress.written} written): ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/**
 * The user interrupted the write (Ctrl-C): no transaction was sent after it. What was
 * committed before stays, and a write of several transactions says how far it got.
 */
export class InterruptedError extends StoreError {
  /** `inFlight`: a transaction was sent and its answer not waited for (it may have committed) */
  constructor(readonly inFlight = false) { super('Interrupted', 'interrupted'); }
}

/**
 * How long an interrupted write waits for the answer of the transaction in flight (long enough
 * for one sent again after its answer was lost, so that it is counted as written): xctl gives
 * a busy command a second more after Ctrl-C before it exits (cli/io.ts), so that the write
 * still says how far it got, and without that answer that this transaction may have been written.
 */
export const INTERRUPTED_ANSWER_WAIT_MS = 2000;

/** `answer`, unless the write is interrupted and it has not come INTERRUPTED_ANSWER_WAIT_MS later (InterruptedError, in flight). */
async function answerUnlessInterrupted<T>(answer: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return answer;
  let timer: NodeJS.Timeout | undefined;
  let onAbort = () => {};
  const givenUp = new Promise<never>((_, reject) => {
    onAbort = () => { timer = setTimeout(() => reject(new InterruptedError(true)), INTERRUPTED_ANSWER_WAIT_MS); };
    if (signal.aborted) onAbort(); else signal.addEventListener('abort', onAbort, { once: true });
  });
  answer.catch(() => {}); // an answer given up on: its failure is no one's to handle
  try {
    return await Promise.race([answer, givenUp]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * A write of one transaction (all or nothing) whose answer never came: etcd went away while it
 * was sent, so it may or may not have committed. Still an EtcdUnavailableError (its callers
 * retry it as one, xctl exits 5 on it); xctl says that whether it was written is unknown.
 */
export class OutcomeUnknownError extends EtcdUnavailableError {
  constructor(cause: unknown) { super((cause as Error)?.message ?? String(cause), cause); }
}

export interface WriteOptions<R> {
  limits: EtcdLimits;
  /** how often, and after what wait, a conflicting transaction is planned again; none: the conflict fails at once */
  retry?: BackoffPolicy;
  /**
   * the same steps planned again from what is stored now; `committed`, called as soon as what
   * is stored proves that their refused transaction committed with its answer lost (a create
   * stored with the uid this request gave it: own-writes.ts), also when planning then fails
   */
  replan(steps: WriteStep<R>[], committed: () => void): Promise<WriteStep<R>[]>;
  /**
   * the error for a transaction that kept conflicting; `changed`: its steps whose own compares
   * fail on their own after the last attempt (what the other writer changed), to name
   */
  conflict(steps: WriteStep<R>[], changed: WriteStep<R>[]): Error;
  onProgress?(p: WriteProgress): void;
  /** once aborted (Ctrl-C), no transaction is sent: the write stops as one that fails midway (InterruptedError) */
  signal?: AbortSignal;
}

export interface Written<R> { step: WriteStep<R>; /** etcd revision of its transaction; none when nothing was written */ revision?: string }

/** A compare's identity: two equal ones are sent once (distinctCompares). */
const compareId = (c: ICompare) => JSON.stringify(c);

/**
 * What `step` adds to a run whose distinct compares are `sent`: its compares that are not among
 * them, each once (distinctCompares sends them so), and its ops; `fresh` gets the ids of the
 * compares it counted.
 */
function measure<R>(step: WriteStep<R>, limits: EtcdLimits, sent: ReadonlySet<string> = new Set(), fresh = new Set<string>()): TxnBudget {
  const b = new TxnBudget(limits);
  for (const c of step.compares) {
    const id = compareId(c);
    if (sent.has(id) || fresh.has(id)) continue;
    fresh.add(id);
    b.compare(c.key ?? '', c.range_end);
  }
  for (const op of step.ops) {
    if (op.request_put) b.op(op.request_put.key ?? '', op.request_put.value);
    else if (op.request_delete_range) b.op(op.request_delete_range.key ?? '', op.request_delete_range.range_end);
    else b.op(op.request_range?.key ?? '');
  }
  return b;
}

/** What is over a limit in the delete's mark of the step's object (WriteStep.marked), measured as that delete's step is. */
function markedExcess<R>(step: WriteStep<R>, limits: EtcdLimits): string | undefined {
  const excess = step.marked && measure(step.marked, limits).excess();
  return excess ? `once marked for deletion, ${excess}` : undefined;
}

/**
 * Splits the steps, in order, into runs that each fit one transaction; steps with nothing to
 * write join the current run. A compare several steps of a run carry is counted once, as it is
 * sent (distinctCompares). TooLargeError when one step alone does not fit.
 */
export function packSteps<R>(steps: WriteStep<R>[], limits: EtcdLimits): WriteStep<R>[][] {
  const runs: WriteStep<R>[][] = [];
  let run: WriteStep<R>[] = [];
  let budget = new TxnBudget(limits);
  /** the distinct compares of the run so far: one shared by its steps (delete-guard.ts) is sent once, and counted once */
  let sent = new Set<string>();
  for (const step of steps) {
    if (step.ops.length) {
      const alone = new Set<string>();
      const own = measure(step, limits, undefined, alone);
      const excess = own.excess() ?? markedExcess(step, limits);
      if (excess) throw new TooLargeError(step.ref.kind, step.ref.name, excess);
      const fresh = new Set<string>();
      const joined = budget.clone().add(measure(step, limits, sent, fresh));
      if (joined.fits()) { budget = joined; for (const id of fresh) sent.add(id); }
      else { runs.push(run); run = []; budget = new TxnBudget(limits).add(own); sent = alone; }
    }
    run.push(step);
  }
  if (run.length) runs.push(run);
  return runs;
}

export const writes = <R>(run: WriteStep<R>[]) => run.some((s) => s.ops.length > 0);

/**
 * A run's compares, each once: the guarded steps of a delete share their range compares
 * (delete-guard.ts), and etcd would read the whole range again for every copy.
 */
export function distinctCompares<R>(run: WriteStep<R>[]): ICompare[] {
  const seen = new Set<string>();
  return run.flatMap((s) => s.compares).filter((c) => {
    const id = compareId(c);
    return !seen.has(id) && !!seen.add(id);
  });
}

/** Commits one run; the revision, undefined when it had nothing to write, false on a failed compare. */
async function commitRun<R>(client: Etcd3, run: WriteStep<R>[]): Promise<string | undefined | false> {
  if (!writes(run)) return undefined;
  const res = await client.kv.txn({ compare: distinctCompares(run), success: run.flatMap((s) => s.ops), failure: [] });
  return res.succeeded ? String(res.header.revision) : false;
}

/**
 * The steps of a refused run whose compares fail on their own now: the objects another writer
 * changed. Each is tried alone (a read-only transaction: its compares, nothing to write), only
 * once a conflict is given up on; none when that cannot be told.
 */
async function changedSteps<R>(client: Etcd3, run: WriteStep<R>[]): Promise<WriteStep<R>[]> {
  const out: WriteStep<R>[] = [];
  try {
    for (const s of run) {
      if (!s.ops.length || !s.compares.length) continue;
      const res = await client.kv.txn({ compare: s.compares, success: [], failure: [] });
      if (!res.succeeded) out.push(s);
    }
  } catch {
    return [];
  }
  return out;
}

/**
 * Whether a refused run committed with its answer lost, as its replan (`again`, paired with it
 * step by step) tells without a create's uid to prove it: every one of its writes found done as
 * this request wanted it (own-writes.ts, doneBefore). A transaction is all or nothing: when one
 * of its writes is found done otherwise (a create stored with another writer's uid), it did not
 * commit, and what is stored another writer wrote (two applies of one manifest at once), which
 * this request must not count as its own.
 */
function allDoneUnseen<R>(run: WriteStep<R>[], again: WriteStep<R>[]): boolean {
  return !writes(again) && run.every((s, i) => !s.ops.length || again[i]?.doneBefore);
}

const refKey = (s: WriteStep<unknown>) => `${s.ref.kind}/${s.ref.name}`;

/**
 * How far a write got: `written` counts each object once, also one written by a transaction
 * whose answer was lost and then again by its replan (over another writer's change).
 */
class Progress {
  readonly p: WriteProgress;
  private readonly written = new Set<string>();
  constructor(total: number, planned: number) { this.p = { total, done: 0, written: 0, transactions: 0, planned }; }

  /** a transaction of `run` committed (also one whose answer was lost) */
  committed<R>(run: WriteStep<R>[]): void {
    this.p.transactions++;
    for (const s of run) if (s.ops.length) this.written.add(refKey(s));
    this.p.written = this.written.size;
  }

  /** the transactions planned: those committed, and those of `queue` still to write */
  replanned<R>(queue: WriteStep<R>[][]): void { this.p.planned = this.p.transactions + queue.filter(writes).length; }
}

/**
 * The refused first run of `queue` planned again, in its place. When what is stored shows that
 * its transaction committed with its answer lost, it is counted as committed at once: a replan
 * that fails then (another writer's change refused) says that it was written.
 */
async function replanRefused<R>(queue: WriteStep<R>[][], o: WriteOptions<R>, progress: Progress): Promise<void> {
  const run = queue[0];
  let counted = false;
  const committed = () => {
    if (counted) return;
    counted = true;
    progress.committed(run);
    progress.replanned(queue);
  };
  const again = await o.replan(run, committed);
  if (allDoneUnseen(run, again)) committed();
  queue.splice(0, 1, ...packSteps(again, o.limits));
  progress.replanned(queue);
}

export async function writeSteps<R>(client: Etcd3, steps: WriteStep<R>[], o: WriteOptions<R>): Promise<Written<R>[]> {
  const queue = packSteps(steps, o.limits);
  const progress = new Progress(steps.length, queue.filter(writes).length);
  const p = progress.p;
  const out: Written<R>[] = [];
  o.onProgress?.({ ...p });
  let conflicts = 0;
  /** a transaction with writes is being committed: when it fails so that no answer came, it may have committed */
  let sending = false;
  /** its attempts that failed: one that no attempt reached etcd with did not commit */
  const attempts: Attempts = { failed: 0, mayHaveReached: false };
  try {
    while (queue.length) {
      const run = queue[0];
      // a run with nothing to write sends nothing (one whose answer was lost was counted when planned again)
      if (o.signal?.aborted && writes(run)) throw new InterruptedError();
      sending = writes(run);
      Object.assign(attempts, { failed: 0, mayHaveReached: false });
      const revision = await answerUnlessInterrupted(trackAttempts(attempts, () => commitRun(client, run)), o.signal);
      sending = false;
      if (revision === false) {
        if (!o.retry || !mayRetry(++conflicts, o.retry)) throw o.conflict(run, await changedSteps(client, run));
        await sleep(backoffDelay(conflicts, o.retry));
        await replanRefused(queue, o, progress);
        continue;
      }
      queue.shift();
      conflicts = 0;
      for (const step of run) out.push({ step, ...(revision && step.ops.length ? { revision } : {}) });
      p.done += run.length;
      if (revision) progress.committed(run);
      o.onProgress?.({ ...p });
    }
  } catch (e) {
    throw stoppedError(e, p, sending && !noneReached(attempts));
  }
  return out;
}

/** What a write that failed with `e` throws; `reached`: a transaction was being sent, and an attempt of it reached etcd. */
function stoppedError(e: unknown, p: WriteProgress, reached: boolean): unknown {
  // nothing committed: nothing was written, unless etcd went away while a transaction was
  // sent (it may have committed, and the user must hear that it may have); not when no
  // attempt of it reached etcd (connection refused before it was sent)
  const interrupted = e instanceof InterruptedError && e.inFlight;
  const inFlight = interrupted || (reached && fromEtcdError(e) instanceof EtcdUnavailableError);
  // an interrupted write says how far it got also of one transaction: a single one's outcome is unknown, not unreachable
  if (p.transactions === 0 && !(inFlight && (p.planned > 1 || interrupted))) return inFlight ? new OutcomeUnknownError(e) : e;
  const cause = e instanceof TooLargeError ? new TooLargeError(e.kind, e.objectName, e.excess, false) : e;
  return new PartialWriteError({ ...p }, cause, inFlight);
}
