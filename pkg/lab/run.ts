// The lab's only way to run programs: argument arrays, never a shell.
import { spawnProgram } from '../spawn/spawn.js';
import { LabError } from './errors.js';

export interface RunOptions {
  input?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** when false, a non-zero exit is returned instead of thrown */
  reject?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export async function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const r = await spawnProgram({ file, args, input: opts.input, env: opts.env, timeoutMs });
  const exitCode = typeof r.exitCode === 'number' ? r.exitCode : -1;
  const res = { stdout: stripFinalNewline(r.stdout), stderr: stripFinalNewline(r.stderr), exitCode };
  if (exitCode !== 0 && opts.reject !== false) {
    const why = r.timedOut ? `timed out after ${timeoutMs} ms` : (res.stderr || res.stdout || r.errorMessage || (r.signal ? `ended by ${r.signal}` : `exit ${exitCode}`));
    throw new LabError('CommandFailed', `${argv.join(' ')}: ${why.trim()}`);
  }
  return res;
}

/** As execa gives output by default: without its last line end. */
function stripFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/** `ip -batch -` inside a namespace: one process for many changes. */
// The namespace is mandatory: the lab never changes the root network namespace.
export async function ipBatch(netns: string, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  await run(['ip', '-n', netns, '-batch', '-'], { input: lines.join('\n') + '\n' });
}
