// The agent's own verify (pkg/verify/self-check.ts) runs at every resync interval "as a safety
// net", and 2 s after the last reconcile. On a host where something is reconciled more often
// than every 2 s (a flapping container, a busy cluster's routes), each reconcile's poke()
// clears the pending timer, the periodic one included: the check never runs and `xctl verify`
// keeps showing the last report, however old.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const checks = vi.hoisted(() => ({ n: 0, failures: 0 }));
vi.mock('../../pkg/verify/verify.js', () => ({
  differences: async () => { checks.n++; return []; },
}));

const { SelfCheck } = await import('../../pkg/verify/self-check.js');

beforeEach(() => { vi.useFakeTimers(); checks.n = 0; checks.failures = 0; });
afterEach(() => { vi.useRealTimers(); });

function selfCheck() {
  // publish fails while checks.failures > 0 (etcd not reachable)
  const reporter = { publish: async () => { if (checks.failures > 0) { checks.failures--; throw new Error('etcd unavailable'); } }, close: () => undefined };
  const log = { warn: () => undefined };
  return new SelfCheck({ node: 'host-1', store: {}, caches: {}, dp: {}, reporter, everyMs: 30_000, settleMs: 2000, log } as never);
}

describe('SelfCheck', () => {
  it('still checks at every interval while reconciles keep coming (one a second)', async () => {
    const sc = selfCheck();
    sc.start();
    await vi.advanceTimersByTimeAsync(3000);
    const afterStart = checks.n;
    expect(afterStart).toBe(1);
    // five minutes of one reconcile a second: ten periodic intervals
    for (let s = 0; s < 300; s++) {
      sc.poke();
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(checks.n - afterStart).toBeGreaterThanOrEqual(9);
    await sc.stop();
  });

  it('a starting agent reports within 5 s even while reconciles keep coming, not at its first interval', async () => {
    // The report of the agent before it expires with its lease (seconds after that one died):
    // until the new one writes its own, `xctl verify` says the agent is not running.
    const sc = selfCheck();
    sc.start();
    for (let s = 0; s < 20; s++) { // a container restarting every second on the host
      sc.poke();
      await vi.advanceTimersByTimeAsync(1000);
      if (s === 5) expect(checks.n).toBe(1);
    }
    expect(checks.n).toBe(1); // then settled checks only again (and the interval's)
    await sc.stop();
  });

  it('a starting agent whose first report failed (etcd not reachable yet) tries again within 5 s, not at its first interval', async () => {
    checks.failures = 2;
    const sc = selfCheck();
    sc.start();
    await vi.advanceTimersByTimeAsync(2500);
    expect(checks.n).toBe(1); // the first, failed
    await vi.advanceTimersByTimeAsync(5000);
    expect(checks.n).toBe(2); // failed again
    await vi.advanceTimersByTimeAsync(5000);
    expect(checks.n).toBe(3); // reported
    await vi.advanceTimersByTimeAsync(15_000);
    expect(checks.n).toBe(3); // and not again before the interval's (30 s from the start)
    await sc.stop();
  });
});
