/**
 * Per-key exponential backoff: base * 2^(failures-1), capped. Kept pure so that the policy
 * can be tested without timers.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 10, capMs: 30_000 };

export function backoffDelay(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (failures <= 0) return 0;
  // 2^n overflows to Infinity for large n; Math.min keeps the cap in charge either way.
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(failures - 1, 60));
}

/** Waits between attempts to reach a service that is not up yet: 200 ms doubling to 5 s. */
export const RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 200, capMs: 5000 };

/**
 * Runs f until it succeeds, waiting longer after each failure, so that a daemon started before
 * etcd simply waits for it. Once stopped() is true a failure is thrown instead of retried.
 */
export async function retryUntilStopped(
  f: () => Promise<void>,
  opts: { stopped: () => boolean; onRetry?: (err: unknown, delayMs: number) => void; policy?: BackoffPolicy },
): Promise<void> {
  for (let failures = 1; ; failures++) {
    try { await f(); return; } catch (err) {
      if (opts.stopped()) throw err;
      const delay = backoffDelay(failures, opts.policy ?? RECONNECT_BACKOFF);
      opts.onRetry?.(err, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
