import { describe, it, expect, vi, afterEach } from 'vitest';
import { WorkQueue } from '../../pkg/runtime/workqueue.js';
import { backoffDelay, retryUntilStopped } from '../../pkg/runtime/backoff.js';
import { runWorkers } from '../../pkg/runtime/workers.js';

/** Doubling from initialMs to maxMs, no jitter, no attempt limit. */
const doubling = (initialMs: number, maxMs: number) => ({ initialMs, maxMs, factor: 2, jitter: 0 });

afterEach(() => { vi.useRealTimers(); });

describe('backoffDelay', () => {
  it('doubles from the base and stops at the cap', () => {
    const p = doubling(10, 1000);
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, p))).toEqual([0, 10, 20, 40, 80]);
    expect(backoffDelay(8, p)).toBe(1000);
    expect(backoffDelay(5000, p)).toBe(1000);
  });
});

describe('WorkQueue', () => {
  it('queues a key once however often it is added', async () => {
    const q = new WorkQueue<string>();
    q.add('a'); q.add('b'); q.add('a'); q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('never hands a processing key to a second worker, and re-queues it when dirtied', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    const k = await q.get();
    expect(k).toBe('a');
    q.add('a');               // changed while being reconciled
    expect(q.len()).toBe(0);  // not handed out again yet
    q.done('a');
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('wakes a waiting get() when a key arrives', async () => {
    const q = new WorkQueue<string>();
    const p = q.get();
    q.add('x');
    expect(await p).toBe('x');
    expect(q.isProcessing('x')).toBe(true);
  });

  it('re-adds with growing backoff and forgets it on success', () => {
    vi.useFakeTimers();
    const q = new WorkQueue<string>(doubling(100, 250));
    expect(q.addRateLimited('a')).toBe(100);
    expect(q.len()).toBe(0);
    vi.advanceTimersByTime(100);
    expect(q.len()).toBe(1);
    expect(q.addRateLimited('b')).toBe(100);
    expect(q.addRateLimited('c')).toBe(100);
    expect(q.addRateLimited('c')).toBe(200);
    expect(q.addRateLimited('c')).toBe(250);
    expect(q.numRequeues('c')).toBe(3);
    q.forget('c');
    expect(q.numRequeues('c')).toBe(0);
    expect(q.addRateLimited('c')).toBe(100);
    q.shutDown();
  });

  it('of two pending delays for one key, the one that ends first wins', () => {
    vi.useFakeTimers();
    const q = new WorkQueue<string>();
    q.addAfter('a', 10_000);  // a failed reconcile's backoff
    q.addAfter('a', 500);     // a reconcile that asks to look again soon
    vi.advanceTimersByTime(500);
    expect(q.len()).toBe(1);
    q.addAfter('b', 500);
    q.addAfter('b', 10_000);  // a later one does not push it back
    vi.advanceTimersByTime(499);
    expect(q.len()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(q.len()).toBe(2);
    vi.advanceTimersByTime(10_000);
    expect(q.len()).toBe(2);  // nothing left pending: each key was added once
    q.shutDown();
  });

  it('a short delay still wins over a pending long one after the wall clock is put an hour forward', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const q = new WorkQueue<string>();
    q.addAfter('a', 10_000);  // a failed reconcile's backoff
    vi.setSystemTime(Date.now() + 3_600_000);
    q.addAfter('a', 50);      // a reconcile that asks to look again soon
    await new Promise((r) => setTimeout(r, 300));
    expect(q.len()).toBe(1);
    q.shutDown();
  });

  it('shutDown releases waiting workers with undefined', async () => {
    const q = new WorkQueue<string>();
    const p = q.get();
    q.shutDown();
    expect(await p).toBeUndefined();
    q.add('late');
    expect(q.len()).toBe(0);
  });
});

describe('runWorkers', () => {
  it('reconciles every key, retries failures with backoff, never runs one key twice at once', async () => {
    const q = new WorkQueue<string>(doubling(1, 5));
    const running = new Set<string>();
    let overlap = false;
    const attempts = new Map<string, number>();
    const finished = new Set<string>();
    const all = ['k1', 'k2', 'k3', 'k4'];
    let resolveAll!: () => void;
    const allDone = new Promise<void>((r) => { resolveAll = r; });
    const reconcile = async (k: string) => {
      if (running.has(k)) overlap = true;
      running.add(k);
      await new Promise((r) => setTimeout(r, 1));
      running.delete(k);
      const n = (attempts.get(k) ?? 0) + 1;
      attempts.set(k, n);
      if (k === 'k2' && n < 3) throw new Error('transient');
      finished.add(k);
      if (finished.size === all.length) resolveAll();
    };
    const errors: string[] = [];
    const done = runWorkers(q, reconcile, { workers: 3, onError: (k) => errors.push(k) });
    for (const k of all) { q.add(k); q.add(k); }
    q.add('k1');
    await allDone;
    q.shutDown();
    await done;
    expect(overlap).toBe(false);
    expect(errors).toEqual(['k2', 'k2']);
    expect(attempts.get('k2')).toBe(3);
    expect(q.numRequeues('k2')).toBe(0);
  });
});

describe('retryUntilStopped', () => {
  it('retries with growing delays until f succeeds', async () => {
    let calls = 0;
    const delays: number[] = [];
    await retryUntilStopped(async () => { if (++calls < 4) throw new Error('etcd not up'); }, {
      signal: new AbortController().signal, policy: doubling(1, 4), onRetry: (_e, d) => delays.push(d),
    });
    expect(calls).toBe(4);
    expect(delays).toEqual([1, 2, 4]);
  });

  it('throws the failure instead of retrying once stopped', async () => {
    const stop = new AbortController();
    let calls = 0;
    const p = retryUntilStopped(async () => { calls++; stop.abort(); throw new Error('refused'); }, { signal: stop.signal });
    await expect(p).rejects.toThrow('refused');
    expect(calls).toBe(1);
  });

  it('ends a wait between attempts at once when stopped, throwing the last failure', async () => {
    // an hour between attempts: without the abort ending the wait, this test would time out
    const stop = new AbortController();
    const hour = { initialMs: 3_600_000, maxMs: 3_600_000, factor: 1, jitter: 0 };
    let calls = 0;
    const retried = new Promise<void>((resolve) => {
      void retryUntilStopped(async () => { calls++; throw new Error(`etcd not up ${calls}`); }, { signal: stop.signal, policy: hour, onRetry: () => resolve() })
        .catch((e: Error) => { ended = e.message; });
    });
    let ended: string | undefined;
    await retried;
    expect(ended).toBeUndefined();
    stop.abort();
    await vi.waitFor(() => expect(ended).toBe('etcd not up 1'), { timeout: 2000 });
    expect(calls).toBe(1);
  });
});
