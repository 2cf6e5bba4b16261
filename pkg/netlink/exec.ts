// Every external command goes through here: argument arrays only, never a shell, and failures
// become CommandError values that carry what the user needs to see (command, stderr, exit code).
import { execa } from 'execa';
import { DataplaneError } from '../errors.js';

export class CommandError extends DataplaneError {
  declare readonly reason: 'CommandFailed' | 'CommandNotFound';
  constructor(
    reason: 'CommandFailed' | 'CommandNotFound',
    readonly argv: string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
  ) {
    super(reason, `${argv.join(' ')}: ${stderr.trim() || `exit code ${exitCode}`}`);
  }
}

export async function run(cmd: string, args: string[], input?: string): Promise<string> {
  try {
    const r = await execa(cmd, args, { input, stripFinalNewline: false, reject: true });
    return r.stdout;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; stderr?: string; message?: string };
    if (err.code === 'ENOENT') throw new CommandError('CommandNotFound', [cmd, ...args], undefined, `${cmd} not found on PATH`);
    throw new CommandError('CommandFailed', [cmd, ...args], err.exitCode, String(err.stderr ?? err.message ?? ''));
  }
}
