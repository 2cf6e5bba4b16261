// Starts programs, from this process while it is small and through one small helper process
// (helper.cjs) once it is large. Node's spawn is fork() then exec(), and fork() copies this
// process's page tables: measured on a 2-core machine, 4.4 ms of the parent's CPU per spawn from
// a 57 MB process, 8.1 ms from a 250 MB one and 14 ms from an 800 MB one. A deployed agent is
// about 100 MB (docs/scale.md, bench/peers): it spawns itself, and does not pay the helper's
// ~45 MB. A process past HELPER_ABOVE_RSS (an agent with a very large view, a test worker that
// hosts agents, dockerds and labs) starts its programs through the helper from then on. Every
// program of pkg/netlink/exec.ts and pkg/lab/run.ts goes through here; either way the same
// function of helper.cjs runs it, so the two ways give the same results.
//
// The helper starts on first use and again after it died; each call has a deadline of its own
// (the program's timeout plus a grace) after which the helper is ended, so a stuck helper costs
// one call's deadline, never a hang. It never keeps this process alive while idle. A program's
// call is answered at most a second after the program exited, also when a child of it still
// holds its output (helper.cjs, OUTPUT_AFTER_EXIT_MS).
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface SpawnRequest {
  file: string;
  args: string[];
  input?: string;
  /** added to this process's environment (as execa's `env`) */
  env?: Record<string, string>;
  timeoutMs: number;
  /** sent at the timeout; SIGKILL follows 5 s later if the program is still there */
  killSignal?: NodeJS.Signals;
  maxBuffer?: number;
}

export interface SpawnResult {
  stdout: string;
  stderr: string;
  /** null when a signal ended it or it never started */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** ENOENT when the program is not on PATH; EMAXBUFFER, EHELPER (the helper died) or a spawn error */
  errorCode?: string;
  errorMessage?: string;
}

/** What the helper is given beyond a program's own timeout before it is given up on. */
export const HELPER_GRACE_MS = 10_000;
const DEFAULT_MAX_BUFFER = 100 * 1024 * 1024;
const HELPER = fileURLToPath(new URL('./helper.cjs', import.meta.url));
/** Resident size above which programs are started by the helper: where a fork costs about 1.5x one from the helper. */
export const HELPER_ABOVE_RSS = 160 * 1024 * 1024;

type ProgramRequest = Omit<SpawnRequest, 'env' | 'killSignal' | 'maxBuffer'> & { env: NodeJS.ProcessEnv; cwd: string; killSignal: NodeJS.Signals; maxBuffer: number };
const { runProgram } = createRequire(import.meta.url)('./helper.cjs') as { runProgram: (req: ProgramRequest, done: (r: SpawnResult) => void) => void };

/** The request as a program is run with it: this process's environment now, plus the request's. */
function programRequest(req: SpawnRequest): ProgramRequest {
  return {
    file: req.file, args: req.args, input: req.input, cwd: process.cwd(), env: { ...process.env, ...req.env },
    timeoutMs: req.timeoutMs, killSignal: req.killSignal ?? 'SIGTERM', maxBuffer: req.maxBuffer ?? DEFAULT_MAX_BUFFER,
  };
}

interface Pending { resolve: (r: SpawnResult) => void; timer: NodeJS.Timeout; child: ChildProcess }

class SpawnHelper {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /** The helper's PID while it runs (tests check that it ends with its parent). */
  get pid(): number | undefined { return this.child?.pid; }

  /** whether it was ever started: a process once large keeps using it */
  used = false;

  run(req: SpawnRequest): Promise<SpawnResult> {
    const child = this.child ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      // the deadline's timer also keeps this process alive while a program runs
      const timer = setTimeout(() => this.giveUp(child, id), req.timeoutMs + HELPER_GRACE_MS);
      this.pending.set(id, { resolve, timer, child });
      child.send({ id, ...programRequest(req) }, (err) => { if (err) this.settle(id, failed('EHELPER', `spawn helper: ${err.message}`)); });
    });
  }

  private start(): ChildProcess {
    this.used = true;
    // a bare Node: not the flags or NODE_OPTIONS (a test runner's loaders) this process runs with
    const { NODE_OPTIONS: _, ...env } = process.env;
    const child = fork(HELPER, [], { execArgv: [], env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
    this.child = child;
    child.on('message', (m: SpawnResult & { id: number }) => this.settle(m.id, m));
    child.on('error', () => {});
    child.on('exit', (code, signal) => this.lost(child, `spawn helper ${child.pid} exited (${signal ?? `code ${code}`})`));
    // idle, the helper must not keep this process running (a CLI ends when its work does)
    child.unref();
    (child.channel as unknown as { unref?: () => void } | undefined)?.unref?.();
    return child;
  }

  private settle(id: number, r: SpawnResult): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    const { stdout, stderr, exitCode, signal, timedOut, errorCode, errorMessage } = r;
    p.resolve({ stdout, stderr, exitCode, signal, timedOut, errorCode, errorMessage });
  }

  /**
   * A call past its deadline: the helper is stuck. SIGTERM has it kill its programs and exit; one
   * that cannot even do that is killed a second later (its programs then outlive it).
   */
  private giveUp(child: ChildProcess, id: number): void {
    this.settle(id, { ...failed('EHELPER', 'spawn helper did not answer within the deadline'), timedOut: true });
    if (this.child === child) this.child = undefined;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 1000).unref();
  }

  private lost(child: ChildProcess, why: string): void {
    if (this.child === child) this.child = undefined;
    // only its own calls: one given up on may exit after the next helper took new ones
    for (const [id, p] of [...this.pending]) if (p.child === child) this.settle(id, failed('EHELPER', why));
  }
}

function failed(errorCode: string, errorMessage: string): SpawnResult {
  return { stdout: '', stderr: '', exitCode: null, signal: null, timedOut: false, errorCode, errorMessage };
}

const helper = new SpawnHelper();

/** How a program is started: `helper` once this process is large (or was), else `direct`. */
export function spawnRoute(rssBytes: number, helperUsed: boolean): 'helper' | 'direct' {
  return helperUsed || rssBytes > HELPER_ABOVE_RSS ? 'helper' : 'direct';
}

/** Runs one program to its end; never throws, the result says what happened. `route` forces the way (tests). */
export function spawnProgram(req: SpawnRequest, route = spawnRoute(process.memoryUsage.rss(), helper.used)): Promise<SpawnResult> {
  if (route === 'helper') return helper.run(req);
  return new Promise((resolve) => runProgram(programRequest(req), resolve));
}

/** The helper's PID, undefined before first use or after it ended. */
export function spawnHelperPid(): number | undefined {
  return helper.pid;
}
