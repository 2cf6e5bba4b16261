import type { DeleteResult } from '../../store/types.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { CliError, EXIT, UsageError, exitCodeFor } from '../exit.js';
import type { Command } from 'commander';
import { fileOption, type RegisterCommand } from '../command.js';
import { WriteReporter, countsText, partialWriteFailure, unknownOutcomeFailure } from './progress.js';
import type { Target } from './targets.js';
import { checkNetworksInUse, InUseError, nothingDeleted } from './delete-in-use.js';
import { dependentsFirst } from '../../api/network-users.js';
import { PartialWriteError, TooLargeError } from '../../store/txn-writer.js';
import { selectTargets, type SelectionOptions } from './selection.js';
import { parseBoolFlag, selectorOption } from '../flag-values.js';
import { parseTimeout, waitCommand } from './wait.js';
import { dryRunOption, isDryRun, type DryRunStrategy } from './apply.js';

export interface DeleteOptions extends SelectionOptions { ignoreNotFound?: boolean; force?: boolean; wait?: boolean; timeout?: string; dryRun?: boolean }

const DELETE_USAGE = 'usage: xctl delete KIND NAME... | KIND/NAME... | -f FILE|DIR|- | KIND[,KIND...] -l SELECTOR | KIND[,KIND...] --all';

/**
 * delete KIND NAME... | -f | -l | --all: deletes what exists, in as few transactions as etcd's
 * limits allow (one when they fit); names that do not exist are reported and give exit 4 (unless
 * --ignore-not-found). A selection that matches nothing says so and exits 0, as kubectl's does.
 * With --wait, returns once every object marked for deletion is gone (its finalizers done).
 */
export async function deleteCommand(session: Session, io: CliIO, args: string[], opts: DeleteOptions): Promise<number> {
  if (opts.timeout !== undefined && !opts.wait) throw new UsageError('--timeout is for --wait: xctl delete ... --wait --timeout 2m');
  if (opts.dryRun && opts.wait) throw new UsageError('--wait is not for --dry-run: a dry run deletes nothing to wait for');
  // a usage error never follows a delete: the duration is checked before anything is deleted
  if (opts.wait) parseTimeout(opts.timeout);
  const { targets, selected } = await selectTargets(session, io, 'delete', args, opts, DELETE_USAGE);
  if (selected && !targets.length) { io.err('No resources found\n'); return EXIT.OK; }
  const { results, uids } = await deleteTargets(session, io, targets, opts);
  // as kubectl's: what a selection listed and another deleted since is no error
  const code = reportDeleted(io, targets, results, { ...opts, ignoreNotFound: opts.ignoreNotFound || selected });
  // the incarnations the delete marked, as kubectl takes them from its delete's answers: one made
  // again under its name (a HostSubnet the controller makes again for its node) must not hold the
  // wait, nor may one read before the delete and made again since end it early
  const marked = targets.map((t, i) => ({ ...t, uid: uids[i] })).filter((_, i) => results[i] === 'marked');
  if (!opts.wait || !marked.length) return code;
  const waited = await waitCommand(session, io, marked, { for: 'delete', timeout: opts.timeout }, { quiet: true });
  return code || waited;
}

const targetRef = (t: Target) => `${t.kind.toLowerCase()}/${t.name}`;

/**
 * What makes a re-run of a delete that stopped converge: the same delete, unless it stopped on
 * ContainerNics applied meanwhile that use what it deletes, which refuse the re-run too.
 */
function rerunHint(e: unknown, opts: DeleteOptions): string {
  const gone = opts.ignoreNotFound ? '' : ' (add --ignore-not-found so that what is already gone is not an error)';
  if (e instanceof PartialWriteError && e.cause instanceof InUseError) {
    return `Re-running the same delete converges once those ContainerNics are deleted first or in the same command, or with --force${gone}.`;
  }
  return `Re-running the same delete converges${gone}.`;
}

/**
 * A delete too large for one transaction is a mark (an object with finalizers written again):
 * one stored before apply kept room for it (or by another writer). Every delete, --force too,
 * is refused the same way, so say the way out: make the object smaller first.
 */
function markTooLarge(e: TooLargeError): CliError {
  return new CliError(exitCodeFor(e), `${e.kind} "${e.objectName}" does not fit one etcd transaction (${e.excess}): its deletion mark ` +
    '(the object written again with a deletionTimestamp) does not fit; apply it smaller first (e.g. without its largest annotations), then delete it\nnothing was deleted');
}

/** `xs`, one per object in the order deleted (`order[i]`: the index given of the i-th deleted), put back in the order given. */
function inGivenOrder<T>(order: number[], xs: T[]): T[] {
  const out = new Array<T>(xs.length);
  order.forEach((given, deleted) => { out[given] = xs[deleted]; });
  return out;
}

/** How the objects a stopped delete names are ordered: as given, unless dependents were moved first (dependentsFirst). */
function orderText(opts: DeleteOptions, moved: boolean): string {
  const given = opts.filename?.length ? 'manifest order' : 'the order listed';
  return moved ? `${given}, ContainerNics first and HostSubnets next,` : given;
}

/**
 * The results of the delete, and the uid of each object it deleted or marked, in the order of
 * `targets`. The objects are deleted dependents first (api/network-users.ts): a delete that
 * stops between transactions leaves no NIC on a network it deleted.
 */
async function deleteTargets(session: Session, io: CliIO, targets: Target[], opts: DeleteOptions) {
  const reporter = new WriteReporter(io, 'deleting');
  const order = dependentsFirst(targets);
  const ordered = order.map((i) => targets[i]);
  const asGiven = <T>(xs: T[]) => inGivenOrder(order, xs);
  let results;
  let uids: Array<string | undefined> = [];
  try {
    const guard = await checkNetworksInUse(session.store(), io, targets, !!opts.force);
    results = asGiven(await session.store().deleteAll(ordered, { onProgress: reporter.onProgress, signal: io.signal, guard, dryRun: opts.dryRun, onUids: (u) => { uids = asGiven(u); } }));
  } catch (e) {
    if (e instanceof TooLargeError) throw markTooLarge(e);
    const rerun = rerunHint(e, opts);
    const listed = orderText(opts, ordered.some((t, i) => t !== targets[i]));
    throw nothingDeleted(unknownOutcomeFailure(partialWriteFailure(e, { command: 'delete', refs: ordered.map(targetRef), order: listed, rerun, done: 'deleted', as: session.conn }), { command: 'delete', rerun }));
  } finally {
    reporter.clear();
  }
  if (reporter.split) {
    const gone = results.map((r) => (r === 'notfound' ? 'not found' : 'deleted'));
    io.err(`${results.length} objects in ${reporter.last!.planned} transactions: ${countsText(['deleted', 'not found'], gone)}${opts.dryRun ? ' (dry run)' : ''}\n`);
  }
  return { results, uids };
}

/** A line per object deleted, one on stderr per one not found (exit 4 unless --ignore-not-found). */
function reportDeleted(io: CliIO, targets: Target[], results: DeleteResult[], opts: DeleteOptions): number {
  let missing = 0;
  results.forEach((r, i) => {
    if (r !== 'notfound') io.out(`${targetRef(targets[i])} deleted${opts.dryRun ? ' (dry run)' : ''}\n`);
    else if (!opts.ignoreNotFound) { missing++; io.err(`error: ${targets[i].kind} "${targets[i].name}" not found\n`); }
  });
  return missing ? EXIT.NOT_FOUND : EXIT.OK;
}

export const registerDelete: RegisterCommand = (program, { io, run }) => {
  program.command('delete')
    .description('delete objects by kind and name, or those in manifests')
    .argument('[kind-and-names...]', 'KIND NAME..., or KIND/NAME...')
    .addOption(fileOption())
    .option('--ignore-not-found', 'an object that does not exist is not an error')
    .addOption(selectorOption())
    .option('--all', 'every object of the KINDs given')
    .option('--force', 'delete a ClusterNetwork, MacvlanNet, HostSubnet or Node even while ContainerNics use it (they lose their addresses)')
    .option('--wait [bool]', 'return once the objects are gone, their finalizers done (default false)', parseBoolFlag('--wait'))
    .option('--timeout <duration>', 'with --wait: give up after this long (default 60s)')
    .addOption(dryRunOption('check and show what would be deleted, delete nothing (client and server both mean it; none: delete)'))
    .action((args: string[], opts: Omit<DeleteOptions, 'dryRun'> & { dryRun?: DryRunStrategy }, cmd: Command) =>
      run((s) => deleteCommand(s, io, args, { ...opts, dryRun: isDryRun(opts.dryRun) }), cmd));
};

