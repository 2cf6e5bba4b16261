// `xctl verify [--node NAME] [--local]` and `xctl lab verify`: declared state against what
// each host's kernel and Docker hold, one line per difference, exit 1 on any. The work is in
// verify-run.ts, imported when the command runs: it reads hosts through the agent's dataplane
// code (Docker, netlink), which every other xctl command would otherwise load at start.
import type { Command } from 'commander';
import type { RegisterCommand } from '../command.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import type { VerifyOptions } from './verify-run.js';

async function verifyCommand(session: Session, io: CliIO, opts: VerifyOptions): Promise<number> {
  return (await import('./verify-run.js')).verifyCommand(session, io, opts);
}

export const registerVerify: RegisterCommand = (program, { io, run }) => {
  program.command('verify')
    .description('declared state against what each host\'s kernel and Docker hold, as its agent reports it; one line per difference; exit 1 on any')
    .option('--node <name>', 'only this host')
    .option('--local', 'read this host (its kernel and Docker) instead of the agents\' reports; --node names it (default: the short host name, as the agent\'s)')
    .option('--ipam-plugin <name>', 'with --local: the name this host\'s agent serves Docker\'s IPAM plugin under', 'xnet')
    .option('--state-dir <dir>', 'with --local: this host\'s agent\'s --state-dir, where it records the Docker networks it made (default /var/lib/xnet/<node>)')
    .action((opts: VerifyOptions, cmd: Command) => run((s) => verifyCommand(s, io, opts), cmd));
  // `xctl lab verify` is `xctl verify` over every lab host (the lab command is registered before)
  program.commands.find((c) => c.name() === 'lab')?.command('verify')
    .description('xctl verify reading every lab host\'s kernel and Docker directly')
    .option('--node <name>', 'only this host')
    .exitOverride()
    .action((opts: VerifyOptions, cmd: Command) => run((s) => verifyCommand(s, io, { node: opts.node, lab: true }), cmd));
};
