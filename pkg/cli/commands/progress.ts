// What apply and delete -f print about a write that takes several etcd transactions: a
// progress line while it runs (stderr, on a terminal only), a summary at the end, and on a
// failure midway how far it got and that the same command again converges; about a write of
// one transaction whose answer was lost (or not awaited after Ctrl-C), that whether it happened is unknown.
import { InterruptedError, INTERRUPTED_ANSWER_WAIT_MS, OutcomeUnknownError, PartialWriteError } from '../../store/txn-writer.js';
import type { WriteProgress } from '../../store/types.js';
import { CliError, exitCodeFor, isUnreachable } from '../exit.js';
import type { CliIO } from '../io.js';
import { isRefused, refusedCause, refusedHint, type ConnectedAs } from '../refused.js';

const CLEAR_LINE = '\r\x1b[2K';

export class WriteReporter {
  last?: WriteProgress;
  private shown = false;

  /** verb: "applying", "deleting" */
  constructor(private readonly io: CliIO, private readonly verb: string) {}

  /** Store callback: keeps the latest figures; redraws the line on a terminal once the write spans transactions. */
  readonly onProgress = (p: WriteProgress): void => {
    this.last = p;
    if (!this.io.errIsTTY || p.planned < 2) return;
    this.io.err(`${CLEAR_LINE}${this.verb} ${p.done}/${p.total} objects, ${p.transactions}/${p.planned} transactions`);
    this.shown = true;
  };

  /** Removes the progress line (before results or an error are printed). */
  clear(): void {
    if (this.shown) this.io.err(CLEAR_LINE);
    this.shown = false;
  }

  /** Whether the write was (or, in a dry run, would be) split over several transactions. */
  get split(): boolean {
    return (this.last?.planned ?? 0) > 1;
  }
}

/** "3 created, 1 configured, 0 unchanged" from counts by action, in the order given. */
export function countsText(actions: readonly string[], results: readonly string[]): string {
  return actions.map((a) => `${results.filter((r) => r === a).length} ${a}`).join(', ');
}

/** "cannot reach etcd: <why>", without gRPC's resolution note. */
const unreachableText = (message: string) => `cannot reach etcd: ${message.replace(/\.?\s*Resolution note:.*$/s, '').trim()}`;

/**
 * A write of one transaction whose answer was lost, etcd then gone (OutcomeUnknownError): as
 * kubectl tells of a request that timed out, the user hears that it may or may not have been
 * made; `rerun` says how to converge. Exit code: etcd unreachable's, as before. Anything else
 * passes through (a split write's in-flight transaction is partialWriteFailure's).
 */
export function unknownOutcomeFailure(e: unknown, what: { command: string; rerun: string }): unknown {
  if (e instanceof PartialWriteError && isInterruptedOne(e)) return interruptedOneFailure(e, what);
  if (!(e instanceof OutcomeUnknownError)) return e;
  return new CliError(exitCodeFor(e), `${unreachableText(e.message)}\n` +
    `The ${what.command} is one transaction, all or nothing: it was sent and its answer lost, so whether etcd wrote it is unknown. ${what.rerun}`);
}

/**
 * A write of one transaction interrupted (Ctrl-C) while its answer was awaited, none within
 * INTERRUPTED_ANSWER_WAIT_MS: the store says how far it got ("0 of 1 transactions"), words for
 * a write of several, read as nothing written. (With several, partialWriteFailure says it.)
 */
const isInterruptedOne = (e: PartialWriteError): boolean =>
  e.inFlight && e.cause instanceof InterruptedError && e.progress.planned === 1 && e.progress.transactions === 0;

/** As unknownOutcomeFailure says a lost answer: sent, its outcome unknown, and how to converge; exit 130. */
function interruptedOneFailure(e: PartialWriteError, what: { command: string; rerun: string }): CliError {
  return new CliError(exitCodeFor(e.cause), `interrupted: the ${what.command} is one transaction, all or nothing: it was sent and its answer ` +
    `did not come within ${INTERRUPTED_ANSWER_WAIT_MS / 1000} s of the interrupt, so whether etcd wrote it is unknown. ${what.rerun}`);
}

/**
 * A re-run with the same identity is refused again: what makes it converge (`what.rerun` is for
 * an etcd that went away or a conflict), naming the identity xctl ran as.
 */
const refusedRerun = (as: ConnectedAs | undefined) =>
  `Re-running converges once xctl writes as an identity etcd lets write them, and leaves what is already done unchanged (${refusedHint(as)}).`;

/**
 * A write that stopped after committing part of the batch: the message says how many objects
 * are settled (written or already up to date), up to which one, and that re-running converges.
 * `what.done` is what the command did to the objects it wrote, in the words of its summary
 * ("deleted" for a delete); "written" unless given. `what.as`: the identity xctl connected as, which a
 * refusal names. Exit code: the cause's. Anything else passes through.
 */
export function partialWriteFailure(e: unknown, what: { command: string; refs: string[]; rerun: string; order?: string; done?: string; as?: ConnectedAs }): unknown {
  // one transaction interrupted is unknownOutcomeFailure's to say
  if (!(e instanceof PartialWriteError) || isInterruptedOne(e)) return e;
  const p = e.progress;
  const message = (e.cause as Error)?.message ?? String(e.cause);
  const lost = isUnreachable(e.cause);
  const refused = isRefused(e.cause);
  const cause = lost ? unreachableText(message) : refused ? refusedCause(message) : message;
  // etcd may have committed the transaction whose answer was lost (not one no attempt of which reached it)
  const inFlight = e.inFlight ? ` Transaction ${p.transactions + 1} was in flight: etcd may have written it too.` : '';
  // `order`: how `refs` are ordered (a label or a delete by name has no manifest)
  const settled = p.done > 0 ? ` (the first ${p.done} in ${what.order ?? 'manifest order'} are done, up to and including ${what.refs[p.done - 1]})` : '';
  const done = what.done ?? 'written';
  return new CliError(exitCodeFor(e.cause),
    `${what.command} stopped after ${p.transactions} of ${p.planned} transactions: ${p.written} of ${p.total} objects ${done}` +
    `${settled}: ${cause}\n` +
    `What was ${done} stays.${inFlight} ${refused ? refusedRerun(what.as) : what.rerun}`);
}
