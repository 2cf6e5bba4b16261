// The xctl command tree (docs/api.md). Each run builds a fresh commander program so
// that tests can run many commands in one process.
import { Command, CommanderError, Option } from 'commander';
import { labCommand } from '../lab/command.js';
import { connection, Session, type GlobalOptions } from './connect.js';
import { exitCodeFor, EXIT } from './exit.js';
import type { CliIO } from './io.js';
import { ManifestError } from '../manifest/errors.js';
import { applyCommand } from './commands/apply.js';
import { diffCommand } from './commands/diff.js';
import { getCommand } from './commands/get.js';
import { describeCommand } from './commands/describe.js';
import { deleteCommand } from './commands/delete.js';
import { waitCommand } from './commands/wait.js';
import { ipamCheckCommand } from './commands/ipam.js';
import { COMPLETE_COMMAND, completeNamesCommand, completionCommand } from './completion.js';

const KIND_HELP = 'clusternetwork|clusternetworks|cn, node|nodes|no, hostsubnet|hostsubnets|hs, containernic|containernics|nic, macvlannet|macvlannets|mvn';

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

export function buildProgram(io: CliIO, run: (fn: (s: Session) => Promise<number>, cmd: Command) => Promise<void>): Command {
  const program = new Command('xctl')
    .description('declarative networks for Docker hosts, stored in etcd')
    .option('--endpoints <urls>', 'etcd endpoints, comma separated (default: $XCTL_ENDPOINTS, else the running lab, else http://127.0.0.1:2379)')
    .option('--cacert <file>', 'CA certificate for TLS to etcd')
    .option('--cert <file>', 'client certificate for TLS to etcd')
    .option('--key <file>', 'client key for TLS to etcd')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  program.addHelpText('after', `\nKINDS: ${KIND_HELP}\nExit codes: 0 ok, 1 differs/problem/timeout, 2 usage or invalid manifest, 3 conflict, 4 not found, 5 etcd unreachable`);

  const fileOption = () => new Option('-f, --filename <path>', 'manifest file, directory (*.yaml, *.yml, *.json) or - for stdin; repeatable').argParser(collect);

  program.command('apply')
    .description('create or update the objects of the manifests, all in one transaction')
    .addOption(fileOption())
    .option('--dry-run', 'validate and show what would change, write nothing')
    .action((opts, cmd: Command) => run((s) => applyCommand(s, io, opts), cmd));

  program.command('diff')
    .description('show what apply would change; exit 1 when something differs')
    .addOption(fileOption())
    .action((opts, cmd: Command) => run((s) => diffCommand(s, io, opts), cmd));

  program.command('get')
    .description('list objects of a kind, or show one')
    .argument('<kind>', KIND_HELP)
    .argument('[name]')
    .option('-o, --output <format>', 'wide, yaml or json')
    .option('-l, --selector <k=v>', 'label selector, k=v[,k=v]; repeatable', collect)
    .option('-w, --watch', 'after listing, print objects as they change')
    .action((kind: string, name: string | undefined, opts, cmd: Command) => run((s) => getCommand(s, io, kind, name, opts), cmd));

  program.command('describe')
    .description('show an object: spec, status and conditions')
    .argument('<kind>', KIND_HELP)
    .argument('<name>')
    .action((kind: string, name: string, _opts, cmd: Command) => run((s) => describeCommand(s, io, kind, name), cmd));

  program.command('delete')
    .description('delete objects by kind and name, or those in manifests')
    .argument('[kind-and-names...]', 'KIND NAME...')
    .addOption(fileOption())
    .action((args: string[], opts, cmd: Command) => run((s) => deleteCommand(s, io, args, opts), cmd));

  program.command('wait')
    .description('wait until an object reaches a condition')
    .argument('<kind>', KIND_HELP)
    .argument('<name>')
    .option('--for <condition>', 'condition=Ready, condition=TYPE=False, or delete', 'condition=Ready')
    .option('--timeout <duration>', 'give up after this long (e.g. 30s, 2m)', '60s')
    .action((kind: string, name: string, opts, cmd: Command) => run((s) => waitCommand(s, io, kind, name, opts), cmd));

  const ipam = program.command('ipam').description('address management');
  ipam.command('check')
    .description('leaks, duplicates and use per pool; exit 1 on a problem')
    .action((_opts, cmd: Command) => run((s) => ipamCheckCommand(s, io), cmd));

  program.addCommand(labCommand());

  program.command('completion')
    .description('print a shell completion script: source <(xctl completion bash)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => { completionCommand(program, io, shell); });
  program.command(COMPLETE_COMMAND, { hidden: true })
    .description('object names of a kind, for shell completion')
    .argument('<kind>')
    .action((kind: string, _opts, cmd: Command) => run((s) => completeNamesCommand(s, io, kind), cmd));
  return program;
}

/** Runs one xctl invocation; returns the exit code. Errors are printed to io.err. */
export async function runXctl(argv: string[], io: CliIO): Promise<number> {
  let code: number = EXIT.OK;
  const run = async (fn: (s: Session) => Promise<number>, cmd: Command) => {
    const session = new Session(connection(cmd.optsWithGlobals() as GlobalOptions, io.env));
    try {
      code = await fn(session);
    } finally {
      await session.close();
    }
  };
  const program = buildProgram(io, run);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    const exit = exitCodeFor(e);
    // commander has already printed its own usage errors and help
    if (!(e instanceof CommanderError)) io.err(errorText(e, exit));
    return exit;
  }
}

function errorText(e: unknown, exit: number): string {
  if (e instanceof ManifestError) return `error: ${e.message}\nnothing was written\n`;
  const msg = (e as Error)?.message ?? String(e);
  if (exit === EXIT.UNREACHABLE) {
    const why = msg.replace(/\.?\s*Resolution note:.*$/s, '').trim();
    const hint = /SSL|TLS|certificate/i.test(why)
      ? 'the TLS handshake failed: check --cacert, --cert and --key'
      : 'set --endpoints or XCTL_ENDPOINTS, or start the lab with "xctl lab up"';
    return `error: cannot reach etcd: ${why}\n(${hint})\n`;
  }
  return `error: ${msg}\n`;
}
