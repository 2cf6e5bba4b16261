import type { Condition } from '../../api/fields.js';
import type { Kind } from '../../api/kinds.js';
import type { AnyObject } from '../../api/types.js';
import type { ReadResult, SkippedKey, Store } from '../../store/types.js';
import { Keys } from '../../store/keys.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { CliError, EXIT, UsageError } from '../exit.js';
import { ref } from '../format.js';
import type { Command } from 'commander';
import { KIND_HELP, fileOption, type RegisterCommand } from '../command.js';
import { printable } from '../../printable.js';
import { selectTargets, type SelectionOptions } from './selection.js';
import { selectorOption } from '../flag-values.js';
import { parseJsonPathGoal, jsonPathState, type JsonPathGoal } from './wait-jsonpath.js';

export interface WaitOptions { for?: string; timeout?: string }

type Goal = { type: 'condition'; condition: string; status: string } | { type: 'delete' } | JsonPathGoal;

/** condition=Ready, condition=Ready=False, delete, or jsonpath={.status.x}=VALUE (as kubectl wait). */
export function parseFor(s: string | undefined): Goal {
  if (!s) throw new UsageError('--for is required, e.g. --for condition=Ready');
  if (s === 'delete') return { type: 'delete' };
  if (s.startsWith('jsonpath=')) return parseJsonPathGoal(s.slice('jsonpath='.length));
  const m = /^condition=([A-Za-z][A-Za-z0-9]*)(?:=(True|False|Unknown))?$/i.exec(s);
  if (!m) throw new UsageError(`invalid --for "${s}"; use condition=TYPE[=True|False|Unknown], delete or jsonpath='{.FIELD}'=VALUE`);
  const status = m[2] ? m[2][0].toUpperCase() + m[2].slice(1).toLowerCase() : 'True';
  return { type: 'condition', condition: m[1], status };
}

/** 90, 90s, 500ms, 2m, 1h, 1m30s -> milliseconds */
export function parseDuration(s: string | undefined, dflt = 60_000): number {
  if (s === undefined) return dflt;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  let total = 0, used = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) { total += Number(m[1]) * unit[m[2] as keyof typeof unit]; used += m[0].length; }
  if (used !== s.length || used === 0) throw new UsageError(`invalid duration "${s}"; use e.g. 30s, 2m, 1m30s`);
  return total;
}

/** The longest delay a Node timer takes (2^31-1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * --timeout in milliseconds. One longer than a timer can wait is refused rather than cut to
 * the limit: Node would fire it at once, and a shortened wait would time out earlier than asked.
 */
export function parseTimeout(s: string | undefined): number {
  const ms = parseDuration(s);
  if (ms > MAX_TIMEOUT_MS) throw new UsageError(`--timeout ${s} is too long: at most ${MAX_TIMEOUT_MS}ms (about 24.8 days)`);
  return ms;
}

/** A duration as given, with the unit a bare number is read in: `5` waits 5s, and says so. */
export function durationText(s: string): string {
  return /^\d+(\.\d+)?$/.test(s) ? `${s}s` : s;
}

/**
 * The goal's condition on the object. Its type matches in any case, as kubectl's wait does
 * (`--for condition=ready`): a wait for a spelling no one writes could never end.
 */
function conditionOf(goal: Goal, o: AnyObject | undefined): Condition | undefined {
  if (goal.type !== 'condition' || !o) return undefined;
  const want = goal.condition.toLowerCase();
  return (o.status as { conditions?: Condition[] } | undefined)?.conditions?.find((c) => c.type.toLowerCase() === want);
}

/** "deletion" or "condition Ready=True", with the type as the object spells it once it has it. */
function goalText(goal: Goal, o: AnyObject | undefined): string {
  if (goal.type === 'delete') return 'deletion';
  if (goal.type === 'jsonpath') return `jsonpath ${goal.text}`;
  return `condition ${conditionOf(goal, o)?.type ?? goal.condition}=${goal.status}`;
}

/**
 * kubectl's rule: a condition computed from an older generation of the spec (its
 * `observedGeneration` below `metadata.generation`) says nothing about the spec as it is now,
 * e.g. a ContainerNic's Ready from before an edit its agent has not acted on yet.
 */
function staleGeneration(c: Condition, o: AnyObject): boolean {
  const g = o.metadata.generation;
  return typeof c.observedGeneration === 'number' && typeof g === 'number' && c.observedGeneration < g;
}

function describeState(goal: Goal, o: AnyObject | undefined, unreadable?: boolean): string {
  if (!o && unreadable) return 'its key does not decode (xctl get names it); apply a good one over it or delete it';
  if (!o) return 'it does not exist';
  if (goal.type === 'delete') return stillThere(o);
  if (goal.type === 'jsonpath') return jsonPathState(goal, o).text;
  const c = conditionOf(goal, o);
  if (!c) return `it has no ${goal.condition} condition yet`;
  const stale = staleGeneration(c, o) ? ` (of generation ${c.observedGeneration}; the object is at generation ${o.metadata.generation}, not acted on yet)` : '';
  return `${c.type}=${c.status}${c.reason ? `, reason ${c.reason}` : ''}${stale}${c.message ? `: ${printable(c.message)}` : ''}`;
}

/** Why an object waited for to go is still there: not deleted, or the finalizers it waits for. */
function stillThere(o: AnyObject): string {
  const { deletionTimestamp, finalizers } = o.metadata;
  if (!deletionTimestamp) return 'it still exists (not being deleted)';
  return `it still exists, being deleted since ${deletionTimestamp}${finalizers?.length ? `, waiting for finalizers ${finalizers.join(', ')}` : ''}`;
}

/**
 * Whether the object reached the goal. Deleted, as kubectl's wait judges it, is also an object of
 * that name with another uid than the one waited for: one made again under the name (a HostSubnet
 * the controller makes again for its node) is not the one that was deleted.
 */
function satisfied(goal: Goal, o: AnyObject | undefined, uid?: string, unreadable?: boolean): boolean {
  if (goal.type === 'delete') return (!o && !unreadable) || (!!o && uid !== undefined && o.metadata.uid !== uid);
  if (goal.type === 'jsonpath') return !!o && jsonPathState(goal, o).met;
  const c = conditionOf(goal, o);
  return !!c && c.status === goal.status && !staleGeneration(c, o!);
}

/** What wait prints when the goal is reached: "deleted" or "condition met (Ready=True)". */
function reachedText(label: string, goal: Goal, o: AnyObject | undefined): string {
  if (goal.type === 'delete') return `${label} deleted\n`;
  if (goal.type === 'jsonpath') return `${label} condition met (${goal.text})\n`;
  return `${label} condition met (${conditionOf(goal, o)?.type ?? goal.condition}=${goal.status})\n`;
}

/** One object waited for: what was last seen of it, and whether it reached the goal. */
/** uid: the incarnation a delete is waited for (the one there at the start, or the one delete --wait deleted) */
/** unreadable: its object key is there but does not decode (not deleted, no state to show) */
interface Waited { kind: Kind; name: string; label: string; last?: AnyObject; unreadable?: boolean; met: boolean; uid?: string }

/** An object waited for: its kind and name, and for a delete the incarnation meant when the caller knows it. */
export interface WaitTarget { kind: Kind; name: string; uid?: string }

/**
 * Waits until every target reaches the goal, also objects that do not exist yet (HostSubnets
 * appear once the controller has made them), within one timeout for all. Each is printed when it
 * reaches it, as kubectl wait prints them; exit 1 naming, one line each, those that did not, with
 * their last observed state.
 */
export async function waitCommand(session: Session, io: CliIO, targets: WaitTarget[], opts: WaitOptions, how: { quiet?: boolean } = {}): Promise<number> {
  const goal = parseFor(opts.for);
  const timeoutMs = parseTimeout(opts.timeout);
  const store = session.store();
  const revision = await store.revision();
  const read = await readTargets(store, goal, targets);
  const all: Waited[] = targets.map(({ kind, name, uid }, i) => ({
    kind, name, label: `${kind.toLowerCase()}/${name}`, last: read[i].object, unreadable: !read[i].object && read[i].skipped.length > 0,
    met: false, uid: uid ?? read[i].object?.metadata.uid,
  }));
  const pending = new Set<Waited>();
  let done!: (ok: boolean) => void;
  const finished = new Promise<boolean>((r) => { done = r; });
  const consider = (t: Waited, o: AnyObject | undefined, unreadable = false) => {
    t.last = o;
    t.unreadable = unreadable;
    if (t.met || !satisfied(goal, o, t.uid, unreadable)) return;
    t.met = true;
    pending.delete(t);
    if (!how.quiet) io.out(reachedText(t.label, goal, o));
    if (!pending.size) done(true);
  };
  // all pending first: one met at once must not end the wait while the others are unseen
  for (const t of all) pending.add(t);
  for (const t of all) consider(t, t.last, t.unreadable);
  if (!pending.size) return EXIT.OK;
  const watches = await watchTargets(session, io, [...pending], revision, consider);
  const timer = setTimeout(() => done(false), timeoutMs);
  const onAbort = () => done(false);
  io.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (await finished) return EXIT.OK;
    const why = io.signal?.aborted ? 'interrupted' : `timed out after ${durationText(opts.timeout ?? '60s')}`;
    throw new CliError(EXIT.FAILED, [...pending].map((t) =>
      `${why} waiting for ${t.last ? ref(t.last) : t.label} to reach ${goalText(goal, t.last)}; ${describeState(goal, t.last, t.unreadable)}`).join('\nerror: '));
  } finally {
    clearTimeout(timer);
    io.signal?.removeEventListener('abort', onAbort);
    await Promise.all(watches.map((w) => w.close()));
  }
}

/**
 * What each target is now. A delete is judged on the object key alone (there or not, its uid, its
 * finalizers): all of them in one read (a few for a batch larger than one transaction takes), not
 * a round trip each. A condition or a JSONPath needs the merged status: all of them read whole
 * together too (store/read-named.ts), a fixed number of requests however many are named.
 */
async function readTargets(store: Store, goal: Goal, targets: WaitTarget[]): Promise<ReadResult[]> {
  if (goal.type === 'delete') return store.readMany(targets);
  return (await store.readNamed(targets)).results;
}

/** Whether a relist left `name` out because its object key does not decode (a key xctl's store names). */
const relistedUnreadable = (kind: Kind, name: string, skipped: SkippedKey[] | undefined): boolean =>
  !!skipped?.some((s) => { const k = KEYS.parseObjectKey(s.key); return k?.kind === kind && k.name === name; });
const KEYS = new Keys();

/** One watch per kind of the targets, from `revision`, each event given to its target. */
async function watchTargets(session: Session, io: CliIO, targets: Waited[], revision: number, consider: (t: Waited, o: AnyObject | undefined, unreadable?: boolean) => void) {
  const byKind = new Map<Kind, Map<string, Waited>>();
  for (const t of targets) byKind.set(t.kind, (byKind.get(t.kind) ?? new Map()).set(t.name, t));
  return Promise.all([...byKind].map(([kind, named]) => session.store().watch(kind, revision, {
    onEvent: (e) => { const t = named.get(e.object.metadata.name); if (t) consider(t, e.type === 'DELETED' ? undefined : e.object); },
    onRelist: (l) => { for (const t of named.values()) consider(t, l.items.find((o) => o.metadata.name === t.name), relistedUnreadable(kind, t.name, l.skipped)); },
    // a key that never decoded here, deleted: now it does not exist
    onUnreadableGone: (name) => { const t = named.get(name); if (t) consider(t, undefined); },
    onError: (err) => io.err(`warning: watch: ${err.message}\n`),
  })));
}

const WAIT_USAGE = 'usage: xctl wait KIND NAME... | KIND/NAME... | -f FILE|DIR|- | KIND[,KIND...] -l SELECTOR | KIND[,KIND...] --all [--for condition=Ready|delete|jsonpath=...] [--timeout 60s]';

/** wait's objects; a selection that matches nothing is an error, as in kubectl: there is nothing to wait for. */
async function waitTargets(session: Session, io: CliIO, args: string[], opts: SelectionOptions) {
  const { targets, selected } = await selectTargets(session, io, 'wait', args, opts, WAIT_USAGE);
  if (selected && !targets.length) throw new CliError(EXIT.FAILED, 'no matching resources found');
  return targets;
}

export const registerWait: RegisterCommand = (program, { io, run }) => {
  program.command('wait')
    .description('wait until objects reach a condition')
    .argument('[kind-and-names...]', `${KIND_HELP} NAME..., or KIND/NAME...`)
    .addOption(fileOption())
    .addOption(selectorOption())
    .option('--all', 'every object of the KINDs given')
    .option('--for <condition>', "condition=Ready, condition=TYPE=False, delete, or jsonpath='{.FIELD}'=VALUE", 'condition=Ready')
    .option('--timeout <duration>', 'give up after this long, for all of them (e.g. 30s, 2m)', '60s')
    .action((args: string[], opts: WaitOptions & SelectionOptions, cmd: Command) =>
      run(async (s) => { parseFor(opts.for); parseTimeout(opts.timeout); return waitCommand(s, io, await waitTargets(s, io, args, opts), opts); }, cmd));
};
