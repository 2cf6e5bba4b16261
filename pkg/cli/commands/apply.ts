import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { EXIT } from '../exit.js';
import { ref } from '../format.js';
import { loadCheckedBatch } from './batch.js';
import { Option, type Command } from 'commander';
import { fileOption, refuseArguments, type RegisterCommand } from '../command.js';
import { WriteReporter, countsText, partialWriteFailure, unknownOutcomeFailure } from './progress.js';
import { locateWriteError } from './locate.js';
import { PartialWriteError } from '../../store/txn-writer.js';
import { BeingDeletedError, StaleResourceVersionError, UidMismatchError } from '../../store/types.js';

export interface ApplyOptions { filename?: string[]; dryRun?: boolean }

/**
 * Every document is checked before anything is written. A batch that fits one etcd
 * transaction is written in one (all or nothing); a larger one in order, in transactions that
 * fit, with a progress line on a terminal and a summary (docs/xctl.md).
 */
export async function applyCommand(session: Session, io: CliIO, opts: ApplyOptions): Promise<number> {
  const { loaded, objects, warnings, leaving } = await loadCheckedBatch(session, io, opts.filename);
  // as kubectl prints an API server's warnings: on stderr, before what was applied, also when the
  // write then fails (the batch is what they are about); the exit code stays what the write says
  for (const w of warnings) io.err(`Warning: ${w}\n`);
  const reporter = new WriteReporter(io, 'applying');
  let changes;
  try {
    changes = await session.store().applyAll(objects, { dryRun: !!opts.dryRun, onProgress: reporter.onProgress, signal: io.signal });
  } catch (e) {
    const located = locateWriteError(e, loaded);
    throw unknownOutcomeFailure(partialWriteFailure(located, { command: 'apply', refs: objects.map(ref), rerun: rerunHint(e), as: session.conn }), {
      command: 'apply', rerun: 'Re-running the same apply converges: it writes the objects if this one did not, and leaves them unchanged if it did.',
    });
  } finally {
    reporter.clear();
  }
  const suffix = opts.dryRun ? ' (dry run)' : '';
  for (const c of changes) io.out(`${ref(c.object)} ${c.action}${suffix}\n`);
  // what the write takes away (a Node leaving a network), said once it is written; not after a
  // failure: one transaction took nothing away, a split write's part is not told (docs/xctl.md)
  for (const w of leaving) io.err(`Warning: ${w.text}\n`);
  if (reporter.split) {
    const n = reporter.last!.planned;
    io.err(`${changes.length} objects ${opts.dryRun ? 'would be applied' : 'applied'} in ${n} transactions: ` +
      `${countsText(['created', 'configured', 'unchanged'], changes.map((c) => c.action))}${suffix}\n`);
  }
  return EXIT.OK;
}

/**
 * What makes a re-run of an apply that stopped midway converge: the same apply, unless it
 * stopped on a resourceVersion or uid the manifest carries, which a re-run would find stale
 * again, or on an object being deleted, which a re-run is refused until it is gone.
 */
function rerunHint(e: unknown): string {
  const cause = e instanceof PartialWriteError ? e.cause : undefined;
  if (cause instanceof StaleResourceVersionError) {
    const fix = cause.stored === undefined ? 'carries no resourceVersion' : 'carries its current resourceVersion (or none)';
    return `Re-running converges once ${cause.kind.toLowerCase()}/${cause.objectName} in the manifest ${fix}; what is already applied is left unchanged.`;
  }
  if (cause instanceof BeingDeletedError) {
    const ref = `${cause.kind.toLowerCase()}/${cause.objectName}`;
    return `Re-running converges once ${ref} is gone (${BeingDeletedError.waitCommand(cause.kind, cause.objectName)}); what is already applied is left unchanged.`;
  }
  if (cause instanceof UidMismatchError) {
    return `Re-running converges once ${cause.kind.toLowerCase()}/${cause.objectName} in the manifest carries no uid (or the stored one); what is already applied is left unchanged.`;
  }
  return 'Re-running the same apply converges: it writes the rest and leaves what is already applied unchanged.';
}

/** What --dry-run takes: kubectl's spellings; plain --dry-run is client. */
export const DRY_RUN_STRATEGIES = ['client', 'server', 'none'] as const;
export type DryRunStrategy = typeof DRY_RUN_STRATEGIES[number];

/** `--dry-run[=client|server|none]`, apply's and label's. */
export const dryRunOption = (help: string): Option => new Option('--dry-run [strategy]', help).choices(DRY_RUN_STRATEGIES).preset('client');

/**
 * Whether a --dry-run value asks for a dry run. xctl's dry run checks the batch against what
 * is stored, as kubectl's server dry run does; there is no lesser, client-only one to offer,
 * so client and server both mean it, and none (kubectl's default) means none.
 */
export function isDryRun(strategy: DryRunStrategy | undefined): boolean {
  return strategy !== undefined && strategy !== 'none';
}

export const registerApply: RegisterCommand = (program, { io, run }) => {
  program.command('apply')
    .description('create or update the objects of the manifests: in one transaction when they fit, else in order in several')
    .addOption(fileOption())
    .addOption(dryRunOption('check against what is stored, show what would change, write nothing (client and server both mean it; none: apply)'))
    .allowExcessArguments(true)
    .action((opts: { filename?: string[]; dryRun?: DryRunStrategy }, cmd: Command) => {
      refuseArguments('apply', cmd);
      return run((s) => applyCommand(s, io, { filename: opts.filename, dryRun: isDryRun(opts.dryRun) }), cmd);
    });
};
