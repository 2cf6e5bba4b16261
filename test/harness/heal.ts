// The one way a heal test breaks something (docs/contributing.md, "Tests"): the state is whole
// first, the break is proven in the same shell that made it (before an agent could undo it),
// and the heal is awaited for seconds only, while the agents under test run with their
// periodic resync far beyond that wait. A test built on this helper fails when events are broken.
import { pollPause } from './poll.js';

/** The resync the agents of heal tests run with: an hour, so only events can heal in time. */
export const HEAL_TEST_RESYNC_S = 3600;
/**
 * How long a heal test waits for the heal: heals take well under 1 s on a quiet machine
 * (docs/agent.md), seconds at load average 35 with two labs running; 360 times shorter than
 * the resync of the agents under test.
 */
export const HEAL_WAIT_MS = 10_000;

export { breakVerified, type Exec } from '../../pkg/lab/breaks.js';
export type { ExecResult } from '../../pkg/lab/exec.js';

/** An exec result that must have exit code 0 (a break whose own success proves it, e.g. a restart). */
export function mustSucceed<R extends { exitCode: number; stdout: string; stderr: string }>(what: string, r: R): R {
  if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode}): ${(r.stderr + r.stdout).trim()}`);
  return r;
}

export interface Heal {
  /** the state the agent made, whole: true before the break and again once healed */
  whole: () => Promise<boolean>;
  /** breaks it and throws unless the break took effect (see breakVerified) */
  breakIt: () => Promise<void>;
  /** default HEAL_WAIT_MS */
  timeoutMs?: number;
}

/**
 * Checks the state is whole, breaks it (checked), and waits for it to be whole again.
 * Returns the time from the end of the break to the first poll that saw it whole (polls 50 ms
 * apart at first, 250 ms later: poll.ts).
 */
export async function breakAndCheck(what: string, h: Heal): Promise<number> {
  const timeoutMs = h.timeoutMs ?? HEAL_WAIT_MS;
  if (timeoutMs >= HEAL_TEST_RESYNC_S * 1000) throw new Error(`${what}: a wait of ${timeoutMs} ms would let the periodic resync heal it`);
  if (!(await h.whole())) throw new Error(`${what}: the state is not whole before the break, so a heal would prove nothing`);
  await h.breakIt();
  const t0 = Date.now();
  let last: unknown;
  for (let attempt = 0; ; attempt++) {
    try {
      if (await h.whole()) return Date.now() - t0;
    } catch (e) { last = e; }
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`${what}: not healed within ${timeoutMs} ms${last instanceof Error ? ` (last check: ${last.message})` : ''}`);
    }
    await pollPause(attempt, 50, 250);
  }
}
