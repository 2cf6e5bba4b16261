import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { EXIT } from '../exit.js';
import { ref } from '../format.js';
import { checkedBatch, loadBatch } from './batch.js';
import type { Command } from 'commander';
import { fileOption, type RegisterCommand } from '../command.js';

export interface ApplyOptions { filename?: string[]; dryRun?: boolean }

/** All objects in one etcd transaction: either every change lands or none does. */
export async function applyCommand(session: Session, io: CliIO, opts: ApplyOptions): Promise<number> {
  const loaded = await loadBatch(io, opts.filename);
  const objects = await checkedBatch(session, loaded);
  const changes = await session.store().applyAll(objects, { dryRun: !!opts.dryRun });
  const suffix = opts.dryRun ? ' (dry run)' : '';
  for (const c of changes) io.out(`${ref(c.object)} ${c.action}${suffix}\n`);
  return EXIT.OK;
}

export const registerApply: RegisterCommand = (program, { io, run }) => {
  program.command('apply')
    .description('create or update the objects of the manifests, all in one transaction')
    .addOption(fileOption())
    .option('--dry-run', 'validate and show what would change, write nothing')
    .action((opts: ApplyOptions, cmd: Command) => run((s) => applyCommand(s, io, opts), cmd));
};
