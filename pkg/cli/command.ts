// What every xctl command module needs to add itself to the program: one register function
// per module (see program.ts COMMANDS), the shared option builders and help texts.
import { Option, type Command } from 'commander';
import type { Session } from './connect.js';
import type { CliIO } from './io.js';

/** Opens a session from the command's global flags, runs fn, records its exit code, closes. */
export type RunInSession = (fn: (s: Session) => Promise<number>, cmd: Command) => Promise<void>;

export interface CliContext {
  io: CliIO;
  run: RunInSession;
}

/** Adds one top-level command (with its subcommands) to the program. */
export type RegisterCommand = (program: Command, ctx: CliContext) => void;

export const KIND_HELP = 'clusternetwork|clusternetworks|cn, node|nodes|no, hostsubnet|hostsubnets|hs, containernic|containernics|nic, macvlannet|macvlannets|mvn';

/** argParser for repeatable options: -l a -l b gives ['a', 'b']. */
export const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

export const fileOption = (): Option =>
  new Option('-f, --filename <path>', 'manifest file, directory (*.yaml, *.yml, *.json) or - for stdin; repeatable').argParser(collect);

/**
 * Adds a command tree built on its own (new Command) under `parent` with the settings that
 * `parent.command()` would have given it: output through the CLI's io, the usage hint after
 * errors, errors thrown to xctl instead of exiting the process.
 */
export function addInheriting(parent: Command, child: Command): void {
  parent.addCommand(child);
  const inherit = (from: Command, to: Command) => {
    to.copyInheritedSettings(from);
    for (const sub of to.commands) inherit(to, sub);
  };
  inherit(parent, child);
}
