// The one retry policy: named bounds for every loop, and the delays they produce.
import { describe, expect, it } from 'vitest';
import {
  AGENT_QUEUE_BACKOFF, CONTROLLER_QUEUE_BACKOFF, LEADER_RETRY, POOL_CONFLICT_BACKOFF, RECONNECT_BACKOFF,
  STORE_TXN_RETRY, WORKQUEUE_BACKOFF, backoffDelay, mayRetry, retryUntilStopped, type BackoffPolicy,
} from '../../pkg/runtime/backoff.js';

/** The delays after failures 1..n, and whether each further attempt is allowed. */
function schedule(p: BackoffPolicy, n: number) {
  return Array.from({ length: n }, (_, i) => ({ delay: backoffDelay(i + 1, p), retry: mayRetry(i + 1, p) }));
}

describe('named backoff policies', () => {
  it('pool conflicts wait 4 ms doubling to 256 ms and give up on the 8th conflict', () => {
    const s = schedule(POOL_CONFLICT_BACKOFF, 8);
    expect(s.map((x) => x.delay)).toEqual([4, 8, 16, 32, 64, 128, 256, 256]);
    expect(s.map((x) => x.retry)).toEqual([true, true, true, true, true, true, true, false]);
  });

  it('store transactions retry after 10 ms doubling to 80 ms, jittered down to half, 5 attempts in all', () => {
    const s = schedule(STORE_TXN_RETRY, 5);
    expect(s.filter((x) => x.retry)).toHaveLength(4);
    // the waits before the 2nd to 5th attempts: never back to back, bounded
    const longest = [10, 20, 40, 80];
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, STORE_TXN_RETRY, () => 0))).toEqual(longest);
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, STORE_TXN_RETRY, () => 0.999999))).toEqual(longest.map((d) => expect.closeTo(d / 2, 3)));
    for (const [i, x] of s.slice(0, 4).entries()) expect(x.delay).toBeGreaterThan(longest[i] / 2 - 0.001);
  });

  it('the leader campaign retries every second, forever', () => {
    const s = schedule(LEADER_RETRY, 50);
    expect(new Set(s.map((x) => x.delay))).toEqual(new Set([1000]));
    expect(s.every((x) => x.retry)).toBe(true);
  });

  it('queues and reconnects double up to their caps and never give up', () => {
    expect(schedule(RECONNECT_BACKOFF, 7).map((x) => x.delay)).toEqual([200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(backoffDelay(1, WORKQUEUE_BACKOFF)).toBe(10);
    expect(backoffDelay(100, WORKQUEUE_BACKOFF)).toBe(30_000);
    expect(backoffDelay(1, AGENT_QUEUE_BACKOFF)).toBe(50);
    expect(backoffDelay(100, AGENT_QUEUE_BACKOFF)).toBe(10_000);
    expect(backoffDelay(100, CONTROLLER_QUEUE_BACKOFF)).toBe(30_000);
    for (const p of [WORKQUEUE_BACKOFF, AGENT_QUEUE_BACKOFF, CONTROLLER_QUEUE_BACKOFF, RECONNECT_BACKOFF]) expect(mayRetry(1e6, p)).toBe(true);
  });
});

describe('backoffDelay', () => {
  it('waits nothing before the first failure and stays finite for huge failure counts', () => {
    expect(backoffDelay(0, RECONNECT_BACKOFF)).toBe(0);
    expect(backoffDelay(1e9, { initialMs: 1, maxMs: 7, factor: 3, jitter: 0 })).toBe(7);
  });

  it('takes jitter off the delay, never adds to it', () => {
    const p: BackoffPolicy = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };
    expect(backoffDelay(2, p, () => 0)).toBe(200);
    expect(backoffDelay(2, p, () => 0.5)).toBe(150);
    expect(backoffDelay(2, p, () => 0.999)).toBeGreaterThan(100);
    expect(backoffDelay(20, p, () => 0.999)).toBeLessThanOrEqual(1000);
  });
});

describe('retryUntilStopped with an attempt bound', () => {
  it('throws the last failure once the attempts are used up', async () => {
    let calls = 0;
    const p = retryUntilStopped(async () => { calls++; throw new Error(`refused ${calls}`); }, {
      signal: new AbortController().signal, policy: { initialMs: 1, maxMs: 1, factor: 1, jitter: 0, maxAttempts: 3 },
    });
    await expect(p).rejects.toThrow('refused 3');
    expect(calls).toBe(3);
  });
});
