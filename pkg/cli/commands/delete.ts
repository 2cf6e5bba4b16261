import type { Kind } from '../../api/kinds.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { EXIT } from '../exit.js';
import type { Command } from 'commander';
import { fileOption, type RegisterCommand } from '../command.js';
import { WriteReporter, countsText, partialWriteFailure } from './progress.js';
import { namedOrInManifests } from './targets.js';
import { checkNetworksInUse, nothingDeleted } from './delete-in-use.js';

export interface DeleteOptions { filename?: string[]; ignoreNotFound?: boolean; force?: boolean }

/**
 * delete KIND NAME... | -f: deletes what exists, in as few transactions as etcd's limits
 * allow (one when they fit); names that do not exist are reported and give exit 4 (unless
 * --ignore-not-found).
 */
export async function deleteCommand(session: Session, io: CliIO, args: string[], opts: DeleteOptions): Promise<number> {
  const targets = await namedOrInManifests(io, 'delete', args, opts.filename, 'usage: xctl delete KIND NAME... | KIND/NAME... | -f FILE|DIR|-');
  const label = (t: { kind: Kind; name: string }) => `${t.kind.toLowerCase()}/${t.name}`;
  const reporter = new WriteReporter(io, 'deleting');
  let results;
  try {
    const guard = await checkNetworksInUse(session.store(), io, targets, !!opts.force);
    results = await session.store().deleteAll(targets, { onProgress: reporter.onProgress, guard });
  } catch (e) {
    throw nothingDeleted(partialWriteFailure(e, {
      command: 'delete', refs: targets.map(label),
      rerun: `Re-running the same delete converges${opts.ignoreNotFound ? '' : ' (add --ignore-not-found so that what is already gone is not an error)'}.`,
    }));
  } finally {
    reporter.clear();
  }
  let missing = 0;
  results.forEach((r, i) => {
    if (r !== 'notfound') io.out(`${label(targets[i])} deleted\n`);
    else if (!opts.ignoreNotFound) { missing++; io.err(`error: ${targets[i].kind} "${targets[i].name}" not found\n`); }
  });
  if (reporter.split) {
    const gone = results.map((r) => (r === 'notfound' ? 'not found' : 'deleted'));
    io.err(`${results.length} objects in ${reporter.last!.planned} transactions: ${countsText(['deleted', 'not found'], gone)}\n`);
  }
  return missing ? EXIT.NOT_FOUND : EXIT.OK;
}

export const registerDelete: RegisterCommand = (program, { io, run }) => {
  program.command('delete')
    .description('delete objects by kind and name, or those in manifests')
    .argument('[kind-and-names...]', 'KIND NAME..., or KIND/NAME...')
    .addOption(fileOption())
    .option('--ignore-not-found', 'an object that does not exist is not an error')
    .option('--force', 'delete a ClusterNetwork, MacvlanNet, HostSubnet or Node even while ContainerNics use it (they lose their addresses)')
    .action((args: string[], opts: DeleteOptions, cmd: Command) => run((s) => deleteCommand(s, io, args, opts), cmd));
};

