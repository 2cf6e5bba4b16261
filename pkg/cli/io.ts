// Everything a command touches outside itself, so commands run the same in-process (tests)
// and as the `xctl` program.
import { readStdin } from '../manifest/load.js';
import { INTERRUPTED_ANSWER_WAIT_MS } from '../store/txn-writer.js';

/** How long xctl goes on after Ctrl-C: a write's wait for its answer in flight, and a second to say so. */
const EXIT_AFTER_INTERRUPT_MS = INTERRUPTED_ANSWER_WAIT_MS + 1000;

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** its bytes, or why they were not read whole (load.ts) */
  stdin(): Promise<Buffer | string | { reason: string }>;
  env: Record<string, string | undefined>;
  /** stderr is a terminal: progress lines are drawn there only */
  errIsTTY?: boolean;
  /** ends long-running commands (get -w, wait) early; the program wires it to SIGINT/SIGTERM */
  signal?: AbortSignal;
}

export function processIO(): CliIO {
  const ac = new AbortController();
  // Long-running commands (get -w, wait) end cleanly on the abort; anything else still busy
  // (e.g. retrying an unreachable etcd) is ended shortly after, as Ctrl-C users expect, but
  // not before a write has waited for its transaction in flight and said how far it got. A
  // second Ctrl-C finds no handler: it ends xctl at once.
  const stop = () => {
    ac.abort();
    setTimeout(() => process.exit(130), EXIT_AFTER_INTERRUPT_MS).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // `xctl get -o json | head` closes the pipe early; like any Unix filter, stop quietly.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      ac.abort();
      process.exit(process.exitCode ?? 0);
    });
  }
  return {
    out: (t) => { process.stdout.write(t); },
    err: (t) => { process.stderr.write(t); },
    stdin: readStdin,
    env: process.env,
    errIsTTY: !!process.stderr.isTTY,
    signal: ac.signal,
  };
}
