// `xctl verify [--node NAME] [--local]` and `xctl lab verify`: declared state against what
// each host's kernel and Docker hold (pkg/verify), one line per difference, exit 1 on any.
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { defaultLabDir, readRecord } from '../../lab/record.js';
import { formatDifferences, verifyHost, type Difference } from '../../verify/verify.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { EXIT, UsageError } from '../exit.js';
import type { RegisterCommand } from '../command.js';

export interface VerifyOptions { node?: string; local?: boolean }

/** The hosts to read directly: this one (--local), or the lab's. */
function targets(opts: VerifyOptions): { node: string; netns?: string; dockerHost?: string }[] {
  if (opts.local) return [{ node: opts.node ?? hostname() }];
  const rec = readRecord(defaultLabDir());
  if (!rec) {
    throw new UsageError('verify reads every host\'s kernel and Docker directly, which from here works only for the lab (`xctl lab up`); on a host, run `xctl verify --local [--node NAME]`');
  }
  const hosts = rec.hosts.filter((h) => !opts.node || h.name === opts.node);
  if (!hosts.length) throw new UsageError(`no host ${opts.node} in the lab (hosts: ${rec.hosts.map((h) => h.name).join(', ')})`);
  return hosts.map((h) => ({ node: h.name, netns: h.netns, dockerHost: h.dockerHost }));
}

export async function verifyCommand(session: Session, io: CliIO, opts: VerifyOptions): Promise<number> {
  const hosts = targets(opts);
  const diffs: Difference[] = [];
  for (const h of hosts) diffs.push(...await verifyHost({ ...h, store: session.store() }));
  if (!diffs.length) {
    io.out(`no differences: ${hosts.map((h) => h.node).join(', ')} hold${hosts.length === 1 ? 's' : ''} what etcd declares\n`);
    return EXIT.OK;
  }
  io.out(formatDifferences(diffs));
  io.err(`${diffs.length} difference(s)\n`);
  return EXIT.FAILED;
}

export const registerVerify: RegisterCommand = (program, { io, run }) => {
  program.command('verify')
    .description('declared state against what each host\'s kernel and Docker hold; one line per difference; exit 1 on any')
    .option('--node <name>', 'only this host')
    .option('--local', 'read this host (its kernel and Docker) instead of the lab\'s hosts; --node names it (default: hostname)')
    .action((opts: VerifyOptions, cmd: Command) => run((s) => verifyCommand(s, io, opts), cmd));
  // `xctl lab verify` is `xctl verify` over every lab host (the lab command is registered before)
  program.commands.find((c) => c.name() === 'lab')?.command('verify')
    .description('xctl verify against every lab host')
    .option('--node <name>', 'only this host')
    .exitOverride()
    .action((opts: VerifyOptions, cmd: Command) => run((s) => verifyCommand(s, io, { node: opts.node }), cmd));
};
