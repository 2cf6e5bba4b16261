// How `xctl label` reads and writes its objects. Each edited object is written pinned to the
// version it was read at, so a concurrent change is never overwritten. More objects than one
// etcd transaction holds are written in several: a change by another writer met in a later
// transaction left the earlier ones written and stopped the label (exit 3), where kubectl reads
// a conflicting object again and goes on. So the objects not written yet are read again, edited
// again and written, a bounded number of times; giving up says what all the attempts wrote.
import type { AnyObject } from '../../api/types.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { ref, skippedLines } from '../format.js';
import { UndecodableObjectError } from './get-read.js';
import { checkedBatch } from './batch.js';
import { parseSources } from '../../manifest/load.js';
import { StaleResourceVersionError, type SkippedKey, type WriteProgress } from '../../store/types.js';
import { OutcomeUnknownError, PartialWriteError } from '../../store/txn-writer.js';
import type { Target } from './targets.js';
import { backoffDelay, LABEL_REREAD_RETRY, mayRetry, sleep } from '../../runtime/backoff.js';
import { partialWriteFailure, unknownOutcomeFailure } from './progress.js';
import { CliError, EXIT } from '../exit.js';

/** One object with the label changes made, and what its line says: labeled, unlabeled, not labeled. */
export interface LabelEdit { object: AnyObject; action: string }
/** The edits of the objects read, in the order given, and how many were not found or are being deleted. */
/** missing: not found or not decoding (`undecodable` of them: its object key is there, unreadable) */
export interface LabelRead { edits: LabelEdit[]; missing: number; deleting: number; undecodable?: number }
export type Relabel = (o: AnyObject) => LabelEdit;

/**
 * A label set to another value, without --overwrite: refused, as kubectl refuses it. Met at the
 * first reading nothing was labeled; met when objects not written yet are read again, the
 * transactions before are written (stopped() says so, with `refusal` alone).
 */
export class OverwriteRefusedError extends CliError {
  constructor(readonly refusal: string) { super(EXIT.FAILED, `${refusal}; nothing was labeled`); }
}

const changed = (e: LabelEdit) => e.action !== 'not labeled';
const targetOf = (o: AnyObject): Target => ({ kind: o.kind, name: o.metadata.name });

/**
 * The targets read and edited; each one missing or being deleted said on stderr, not edited.
 * Read all at once (a few reads for a batch larger than one transaction takes), not one read
 * each, a round trip per object over a slow link: without their status, which apply drops.
 */
export async function readEdits(session: Session, io: CliIO, targets: Target[], relabel: Relabel): Promise<LabelRead> {
  const out: LabelRead = { edits: [], missing: 0, deleting: 0 };
  const read = await session.store().readMany(targets);
  for (const [i, t] of targets.entries()) {
    const { object: o, skipped } = read[i];
    if (!o) { out.missing++; sayNotRead(io, t, skipped, out); continue; }
    // one going away takes no writes (apply refuses them); the others are labeled all the same
    if (o.metadata.deletionTimestamp) { out.deleting++; io.err(`error: ${ref(o)} is being deleted: not labeled\n`); continue; }
    out.edits.push(relabel(o));
  }
  return out;
}

/** A target with no object to edit, said as get says it: a key that does not decode is there, not "not found". */
function sayNotRead(io: CliIO, t: Target, skipped: SkippedKey[], out: LabelRead): void {
  if (!skipped.length) { io.err(`error: ${t.kind} "${t.name}" not found\n`); return; }
  out.undecodable = (out.undecodable ?? 0) + 1;
  io.err(`${skippedLines(skipped)}error: ${new UndecodableObjectError(t.kind, t.name).message}\n`);
}

/** What the attempts so far wrote, and the warnings said or to say once the label is written. */
interface Attempts {
  result: LabelRead;
  /** the edits settled (written, or already as wanted), in the order written */
  settled: LabelEdit[];
  transactions: number;
  written: number;
  /** the transactions the last attempt had left when it stopped */
  plannedLeft: number;
  said: Set<string>;
  leaving: Set<string>;
}

/**
 * Writes the changed edits of `first` (dry run: checks them). A stale one re-reads the edits not
 * written yet and writes them, at most LABEL_REREAD_RETRY's attempts; `first` as it ends up
 * (an edit read again replaces its first reading).
 */
export async function writeEdits(session: Session, io: CliIO, first: LabelRead, relabel: Relabel, dryRun: boolean): Promise<LabelRead> {
  const a: Attempts = { result: first, settled: [], transactions: 0, written: 0, plannedLeft: 0, said: new Set(), leaving: new Set() };
  let pending = first.edits.filter(changed);
  for (let attempt = 1; pending.length; attempt++) {
    const seen: { last?: WriteProgress } = {};
    try {
      await writeOnce(session, io, pending.map((e) => e.object), dryRun, a, seen);
      break;
    } catch (e) {
      const p = e instanceof PartialWriteError ? e.progress : seen.last;
      a.settled.push(...pending.slice(0, p?.done ?? 0));
      a.transactions += p?.transactions ?? 0;
      a.written += p?.written ?? 0;
      a.plannedLeft = p ? p.planned - p.transactions : a.plannedLeft;
      const rest = pending.slice(p?.done ?? 0);
      const cause = e instanceof PartialWriteError ? e.cause : e;
      // a transaction sent when etcd went away may have committed; one never sent did not
      const inFlight = e instanceof PartialWriteError ? e.inFlight : e instanceof OutcomeUnknownError;
      if (!(cause instanceof StaleResourceVersionError) || !mayRetry(attempt, LABEL_REREAD_RETRY)) throw stopped(session, cause, a, rest, e instanceof PartialWriteError, inFlight);
      await sleep(backoffDelay(attempt, LABEL_REREAD_RETRY));
      pending = await reread(session, io, rest, a.result, relabel).catch((x: unknown) => { throw stopped(session, x, a, rest, false, false); });
    }
  }
  for (const w of a.leaving) io.err(`Warning: ${w}\n`);
  return a.result;
}

/**
 * The edits not written yet, read again and edited again, in `result` in their place (one gone
 * or being deleted since is said and dropped); those that still change something.
 */
async function reread(session: Session, io: CliIO, rest: LabelEdit[], result: LabelRead, relabel: Relabel): Promise<LabelEdit[]> {
  const again = await readEdits(session, io, rest.map((e) => targetOf(e.object)), relabel);
  result.missing += again.missing;
  result.undecodable = (result.undecodable ?? 0) + (again.undecodable ?? 0);
  result.deleting += again.deleting;
  const now = new Map(again.edits.map((e) => [ref(e.object), e]));
  const stale = new Set(rest.map((e) => ref(e.object)));
  result.edits = result.edits.flatMap((e) => (!stale.has(ref(e.object)) ? [e] : now.has(ref(e.object)) ? [now.get(ref(e.object))!] : []));
  return again.edits.filter(changed);
}

/**
 * Why the label stopped: the cause itself when nothing was written, else how far all the
 * attempts got together (progress.ts), with the cause's exit code.
 */
function stopped(session: Session, cause: unknown, a: Attempts, rest: LabelEdit[], partial: boolean, inFlight: boolean): unknown {
  if (!a.transactions && !partial) return cause;
  const refs = [...a.settled, ...rest].map((e) => ref(e.object));
  const progress = { total: refs.length, done: a.settled.length, written: a.written, transactions: a.transactions, planned: a.transactions + a.plannedLeft };
  // a value set meanwhile stays refused by the same label again: only --overwrite replaces it
  const rerun = cause instanceof OverwriteRefusedError ? 'The same label refuses that value again; give --overwrite to replace it.'
    : 'Re-running the same label converges: what is already labeled is left as it is.';
  const why = cause instanceof OverwriteRefusedError ? new CliError(cause.code, cause.refusal) : cause;
  return unknownOutcomeFailure(partialWriteFailure(new PartialWriteError(progress, why, inFlight), { command: 'label', refs, order: 'the order listed', rerun, as: session.conn }), { command: 'label', rerun });
}

/**
 * Through apply's path: the edited objects as a manifest (checked as one; a warning said once
 * over all attempts, what the write takes away kept to say once it is all written), written
 * pinned to their resourceVersion and uid; `seen` gets the write's progress.
 */
async function writeOnce(session: Session, io: CliIO, objects: AnyObject[], dryRun: boolean, a: Attempts, seen: { last?: WriteProgress }): Promise<void> {
  const text = objects.map((o) => JSON.stringify(o)).join('\n---\n');
  const checked = await checkedBatch(session, parseSources([{ file: 'xctl label', text }]));
  for (const w of checked.warnings) if (!a.said.has(w)) { a.said.add(w); io.err(`Warning: ${w}\n`); }
  try {
    await session.store().applyAll(checked.objects, { dryRun, labelsAsGiven: true, onProgress: (p) => { seen.last = p; }, signal: io.signal });
  } catch (e) {
    // the Nodes of the transactions written left their networks all the same: said once the rest is written
    const written = new Set(objects.slice(0, e instanceof PartialWriteError ? e.progress.done : 0).filter((o) => o.kind === 'Node').map((o) => o.metadata.name));
    for (const w of checked.leaving) if (w.node !== undefined && written.has(w.node)) a.leaving.add(w.text);
    throw e;
  }
  for (const w of checked.leaving) a.leaving.add(w.text);
}
