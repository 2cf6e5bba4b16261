// Every external command goes through here: argument arrays only, never a shell, a deadline
// on every call (a stuck `ip`, `nsenter` or `iptables-restore` is killed, not waited for),
// and failures become CommandError values that carry what the user needs to see (command,
// stderr, exit code).
import { DataplaneError } from '../errors.js';
import { spawnProgram } from '../spawn/spawn.js';
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
    const r = await spawnProgram({ file: cmd, args, input, timeoutMs: timeout, killSignal: 'SIGKILL' });
    if (r.errorCode === 'ENOENT') throw new CommandError('CommandNotFound', [cmd, ...args], undefined, `${cmd} not found on PATH`);
    if (r.exitCode === 0 && !r.errorCode) return r.stdout;
    commandErrors.inc(labels);
    if (r.timedOut) throw new CommandError('CommandTimedOut', [cmd, ...args], undefined, `killed after ${timeout} ms without finishing`);
    throw new CommandError('CommandFailed', [cmd, ...args], r.exitCode ?? undefined, r.stderr || r.errorMessage || (r.signal ? `ended by ${r.signal}` : ''));
  } finally {
    end();
  }
}
