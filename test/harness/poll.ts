// How long a waiting test pauses before it looks again. A look often spawns processes from the
// test's worker (ip, iptables, docker exec), each a fork of a large Node process: looked at every
// 50-100 ms, the waits of three workers were a share of a suite that is CPU-bound on two cores.
// The first looks come as soon as before (most waits end within a second); the pause then grows
// by a quarter per look up to capMs.

/** The pause before look number `attempt + 1` (attempt counts from 0). */
export function pollPauseMs(attempt: number, firstMs: number, capMs: number): number {
  return Math.min(capMs, Math.round(firstMs * 1.25 ** attempt));
}

export function pollPause(attempt: number, firstMs: number, capMs: number): Promise<void> {
  return new Promise((r) => setTimeout(r, pollPauseMs(attempt, firstMs, capMs)));
}
