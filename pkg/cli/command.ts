// What every xctl command module needs to add itself to the program: one register function
// per module (see program.ts COMMANDS), the shared option builders and help texts.
import { Option, type Command } from 'commander';
import type { Session } from './connect.js';
import type { CliIO } from './io.js';
import { UsageError } from '../errors.js';

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
 * A word that names a manifest where a KIND or NAME was expected (`xctl delete x.yaml`, -f
 * forgotten): a KIND or NAME holds no "." and does not start with "/", so nothing valid is taken for one.
 */
export const isManifestPath = (arg: string): boolean =>
  arg === '-' || /\.(ya?ml|json)$/i.test(arg) || /^(~|\.{1,2})?\//.test(arg);

/** The usage error for manifests typed as arguments: the command as it was meant, each with its -f. */
export function manifestsWithoutFlag(command: string, paths: string[]): UsageError {
  const quoted = paths.map((p) => `"${p}"`).join(', ');
  return new UsageError(`${quoted}: ${command} takes manifests by -f, not as arguments; give a manifest with -f: ` +
    `xctl ${command} ${paths.map((p) => `-f ${p}`).join(' ')}`);
}

/**
 * apply's and diff's action: they take no arguments but manifests by -f. commander's own
 * "too many arguments for 'apply'" left the forgotten -f to be guessed.
 */
export function refuseArguments(command: string, cmd: Command): void {
  if (cmd.args.length) throw manifestsWithoutFlag(command, cmd.args);
}

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
