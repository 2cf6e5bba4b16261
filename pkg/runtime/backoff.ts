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
