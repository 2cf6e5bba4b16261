// ControllerOptions.waitBackoff: the controller's work-queue retry of a key that waits, as
// client-go's per-item exponential rate limiter takes a base and a max delay. Left out, the
// default (50 ms doubling to 30 s); a first wait longer than the default cap is not cut to it (a
// test that puts the retry out of reach sets only initialMs); a value a timer cannot wait is
// refused when the Controller is made, not when it starts leading. It is a wait's retry only: a
// reconcile that failed otherwise (etcd unreachable, a lost commit) has no event to look at it
// again, and with an hour for every failure, a wake test's set-up step that met a transient etcd
// error waited that hour (its poll timed out) where the default retried it in 50 ms.
import type { Etcd3 } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { backoffDelay, CONTROLLER_QUEUE_BACKOFF } from '../../pkg/runtime/backoff.js';
import { retryBackoff, waitBackoffOf } from '../../pkg/controller/options.js';
import { Controller } from '../../pkg/controller/controller.js';
import { RetryLater, countsAsWait, isWait } from '../../pkg/controller/retry-later.js';
import { EtcdUnavailableError } from '../../pkg/errors.js';
import { WorkQueue } from '../../pkg/runtime/workqueue.js';
import { runWorkers } from '../../pkg/runtime/workers.js';

const delays = (o: Parameters<typeof waitBackoffOf>[0], n = 12) => Array.from({ length: n }, (_, i) => backoffDelay(i + 1, waitBackoffOf(o)));

describe('the controller work queue\'s backoff', () => {
  it('is the default without the option, or with an empty one', () => {
    expect(waitBackoffOf()).toEqual(CONTROLLER_QUEUE_BACKOFF);
    expect(waitBackoffOf({})).toEqual(CONTROLLER_QUEUE_BACKOFF);
    expect(delays(undefined)).toEqual([50, 100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000]);
  });

  it('starts at initialMs and doubles to maxMs', () => {
    expect(delays({ initialMs: 1000, maxMs: 5000 }, 5)).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(delays({ maxMs: 150 }, 4)).toEqual([50, 100, 150, 150]);
    // a cap below the default first wait: the first wait is the cap
    expect(delays({ maxMs: 20 }, 2)).toEqual([20, 20]);
  });

  it('keeps a first wait longer than the default cap (the cap rises to it)', () => {
    expect(delays({ initialMs: 3_600_000 }, 3)).toEqual([3_600_000, 3_600_000, 3_600_000]);
  });

  it('refuses a wait no timer can make, or a cap below the first wait', () => {
    for (const o of [{ initialMs: 0 }, { initialMs: -1 }, { maxMs: Number.NaN }, { initialMs: Infinity }, { maxMs: 2 ** 31 }, { initialMs: '5' as unknown as number }]) {
      expect(() => waitBackoffOf(o), JSON.stringify(o)).toThrow(RangeError);
    }
    expect(() => waitBackoffOf({ initialMs: 1000, maxMs: 999 })).toThrow('waitBackoff.maxMs (999) is below its initialMs (1000)');
  });

  it('names the value that is wrong, not one derived from it', () => {
    // a cap alone also lowers the first wait to it (above): a bad cap is still told as the cap
    for (const [maxMs, shown] of [[0, '0'], [-5, '-5'], [Number.NaN, 'NaN']] as const) {
      expect(() => waitBackoffOf({ maxMs })).toThrow(`waitBackoff.maxMs must be a number of ms in (0, 2147483647], not ${shown}`);
    }
    expect(() => waitBackoffOf({ initialMs: -1 })).toThrow('waitBackoff.initialMs must be a number of ms in (0, 2147483647], not -1');
  });

  it('a bad one is refused when the Controller is made', () => {
    expect(() => new Controller({ client: {} as Etcd3, waitBackoff: { initialMs: 0 } })).toThrow(RangeError);
  });
});

describe('the controller\'s retries with waitBackoff out of reach (a wake test\'s)', () => {
  it('look again soon at a key that met an etcd error or lost its commit, never at one that waits', async () => {
    // the queue and its retries as the term makes them (term.ts)
    const wait = waitBackoffOf({ initialMs: 3_600_000 });
    const q = new WorkQueue<string>(CONTROLLER_QUEUE_BACKOFF);
    const firstFailure: Record<string, Error> = {
      'HostSubnet/setup': new EtcdUnavailableError('etcd unreachable: 14 UNAVAILABLE'),
      'Node/n1': new RetryLater('Conflict', 'Node n1 changed concurrently'),
    };
    const attempts = new Map<string, number>();
    const retryInMs = new Map<string, number>();
    const done = runWorkers(q, async (key) => {
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      if (key === 'HostSubnet/waiting') throw new RetryLater('PoolExhausted', 'no free /24 block left');
      if (n === 1) throw firstFailure[key];
    }, { workers: 2, backoffOf: (_k, err) => retryBackoff(wait, err), onError: (key, _err, ms) => retryInMs.set(key, ms) });
    try {
      for (const k of ['HostSubnet/waiting', ...Object.keys(firstFailure)]) q.add(k);
      for (let i = 0; i < 200 && !(attempts.get('HostSubnet/setup') === 2 && attempts.get('Node/n1') === 2); i++) await new Promise((r) => setTimeout(r, 10));
      expect(Object.fromEntries(attempts)).toEqual({ 'HostSubnet/waiting': 1, 'HostSubnet/setup': 2, 'Node/n1': 2 });
      expect(Object.fromEntries(retryInMs)).toEqual({ 'HostSubnet/waiting': 3_600_000, 'HostSubnet/setup': 50, 'Node/n1': 50 });
    } finally {
      q.shutDown();
      await done;
    }
  });
});

describe('the controller\'s waits in the metrics (term.ts countsAsWait)', () => {
  it('a NIC waiting for a free address is a wait; one held by a key that does not decode, or a lost commit, is an error (XnetReconcileErrors)', () => {
    // before, every RetryLater but Conflict was a wait: a ContainerNic held by an undecodable
    // key counted in neither xnet_reconcile_errors_total nor xnet_allocations_total{failed}
    expect(countsAsWait(new RetryLater('PoolExhausted', 'no free address'))).toBe(true);
    expect(countsAsWait(new RetryLater('Waiting', 'waiting'))).toBe(true);
    expect(countsAsWait(new RetryLater('Unreadable', 'a key NIC "a" depends on does not decode'))).toBe(false);
    expect(countsAsWait(new RetryLater('Conflict', 'changed concurrently'))).toBe(false);
    expect(countsAsWait(new EtcdUnavailableError('etcd unreachable'))).toBe(false);
    // the backoff is still a wait's: the key's own change queues it again
    expect(isWait(new RetryLater('Unreadable', 'x'))).toBe(true);
  });
});
