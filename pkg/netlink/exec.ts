// Every external command goes through here: argument arrays only, never a shell, a deadline
// on every call (a stuck `ip`, `nsenter` or `iptables-restore` is killed, not waited for),
// and failures become CommandError values that carry what the user needs to see (command,
// stderr, exit code).
import { execa } from 'execa';
import { DataplaneError } from '../errors.js';
import { commandDuration, commandErrors } from '../metrics/metrics.js';

/** The default budget of one command: far above a healthy `ip -batch` of thousands of lines. */
export const COMMAND_TIMEOUT_MS = 30_000;

export class CommandError extends DataplaneError {
  declare readonly reason: 'CommandFailed' | 'CommandNotFound' | 'CommandTimedOut';
  constructor(
    reason: 'CommandFailed' | 'CommandNotFound' | 'CommandTimedOut',
    readonly argv: string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
  ) {
    super(reason, `${argv.join(' ')}: ${stderr.trim() || `exit code ${exitCode}`}`, { retryable: reason === 'CommandTimedOut' });
  }
}

export interface RunOptions {
  /** kill the child (SIGKILL) when it runs longer than this; default COMMAND_TIMEOUT_MS */
  timeoutMs?: number;
}

/** The program doing the work: `nsenter ... ip addr` is an `ip` call (metrics label). */
export function programOf(cmd: string, args: string[]): string {
  if (cmd !== 'nsenter') return cmd;
  const i = args.findIndex((a) => !a.startsWith('-') && !/^\d+$/.test(a));
  return i >= 0 ? args[i] : cmd;
}

export async function run(cmd: string, args: string[], input?: string, opts: RunOptions = {}): Promise<string> {
  const timeout = opts.timeoutMs ?? COMMAND_TIMEOUT_MS;
  const labels = { command: programOf(cmd, args) };
  const end = commandDuration.startTimer(labels);
  try {
    const r = await execa(cmd, args, { input, stripFinalNewline: false, reject: true, timeout, killSignal: 'SIGKILL' });
    return r.stdout;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; stderr?: string; message?: string; timedOut?: boolean };
    if (err.code === 'ENOENT') throw new CommandError('CommandNotFound', [cmd, ...args], undefined, `${cmd} not found on PATH`);
    commandErrors.inc(labels);
    if (err.timedOut) throw new CommandError('CommandTimedOut', [cmd, ...args], undefined, `killed after ${timeout} ms without finishing`);
    throw new CommandError('CommandFailed', [cmd, ...args], err.exitCode, String(err.stderr ?? err.message ?? ''));
  } finally {
    end();
  }
}
