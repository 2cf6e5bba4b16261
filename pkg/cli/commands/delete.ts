import { resolveKind } from '../../api/kinds.js';
import type { Kind } from '../../api/kinds.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { EXIT, UsageError } from '../exit.js';
import { loadBatch } from './batch.js';
import type { Command } from 'commander';
import { fileOption, type RegisterCommand } from '../command.js';

export interface DeleteOptions { filename?: string[] }

/** delete KIND NAME... | -f: deletes what exists; names that do not exist are reported and give exit 4. */
export async function deleteCommand(session: Session, io: CliIO, args: string[], opts: DeleteOptions): Promise<number> {
  let targets: { kind: Kind; name: string }[];
  if (opts.filename?.length) {
    if (args.length) throw new UsageError('give either KIND NAME or -f, not both');
    targets = (await loadBatch(io, opts.filename)).map((l) => ({ kind: l.object.kind, name: l.object.metadata.name }));
  } else {
    const [kindArg, ...names] = args;
    if (!kindArg || names.length === 0) throw new UsageError('usage: xctl delete KIND NAME... | -f FILE|DIR|-');
    const { kind } = resolveKind(kindArg);
    targets = names.map((name) => ({ kind, name }));
  }
  const store = session.store();
  let missing = 0;
  for (const t of targets) {
    const label = `${t.kind.toLowerCase()}/${t.name}`;
    if (await store.delete(t.kind, t.name)) io.out(`${label} deleted\n`);
    else { missing++; io.err(`error: ${t.kind} "${t.name}" not found\n`); }
  }
  return missing ? EXIT.NOT_FOUND : EXIT.OK;
}

export const registerDelete: RegisterCommand = (program, { io, run }) => {
  program.command('delete')
    .description('delete objects by kind and name, or those in manifests')
    .argument('[kind-and-names...]', 'KIND NAME...')
    .addOption(fileOption())
    .action((args: string[], opts: DeleteOptions, cmd: Command) => run((s) => deleteCommand(s, io, args, opts), cmd));
};
