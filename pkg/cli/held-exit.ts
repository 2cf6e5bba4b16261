// xctl ends by itself once its command has: every watch cancelled, the etcd client closed, no
// timer left. Something left open holds the process instead (a watch made after its cache was
// closed held `xctl wait` 2 s past "condition met"), so it is ended anyway, HELD_EXIT_MS after
// the command. With XNET_LOG_LEVEL=debug that says so on stderr, with Node's list of the handles
// still open (stdout's and stderr's pipes are always in it and hold nothing): a process that
// ended by itself prints nothing, which is how tests tell the two apart.

/** How long after its command xctl ends even if something still holds the process. */
export const HELD_EXIT_MS = 2000;

/** The start of what xctl says (XNET_LOG_LEVEL=debug) when it had to end a process still held. */
export const HELD_EXIT_LINE = 'xctl: still held';

export interface HeldExitIO {
  env: Record<string, string | undefined>;
  err(text: string): void;
  exit(code: number): void;
  afterMs?: number;
}

const processHeldExitIO = (): HeldExitIO => ({ env: process.env, err: (t) => { process.stderr.write(t); }, exit: (c) => process.exit(c) });

/** Ends the process with `code` HELD_EXIT_MS from now unless it ends by itself first (the timer holds nothing). */
export function exitEvenIfHeld(code: number, io: HeldExitIO = processHeldExitIO()): void {
  const afterMs = io.afterMs ?? HELD_EXIT_MS;
  setTimeout(() => {
    if (io.env.XNET_LOG_LEVEL === 'debug') {
      io.err(`${HELD_EXIT_LINE} ${afterMs} ms after the command ended, by ${process.getActiveResourcesInfo().join(', ')}; exiting\n`);
    }
    io.exit(code);
  }, afterMs).unref();
}
