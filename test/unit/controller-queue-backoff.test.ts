// ControllerOptions.queueBackoff: the controller's work-queue retry, as client-go's per-item
// exponential rate limiter takes a base and a max delay. Left out, the default (50 ms doubling
// to 30 s); a first wait longer than the default cap is not cut to it (a test that puts the
// retry out of reach sets only initialMs); a value a timer cannot wait is refused when the
// Controller is made, not when it starts leading.
import type { Etcd3 } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { backoffDelay, CONTROLLER_QUEUE_BACKOFF } from '../../pkg/runtime/backoff.js';
import { queueBackoffOf } from '../../pkg/controller/options.js';
import { Controller } from '../../pkg/controller/controller.js';

const delays = (o: Parameters<typeof queueBackoffOf>[0], n = 12) => Array.from({ length: n }, (_, i) => backoffDelay(i + 1, queueBackoffOf(o)));

describe('the controller work queue\'s backoff', () => {
  it('is the default without the option, or with an empty one', () => {
    expect(queueBackoffOf()).toEqual(CONTROLLER_QUEUE_BACKOFF);
    expect(queueBackoffOf({})).toEqual(CONTROLLER_QUEUE_BACKOFF);
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
      expect(() => queueBackoffOf(o), JSON.stringify(o)).toThrow(RangeError);
    }
    expect(() => queueBackoffOf({ initialMs: 1000, maxMs: 999 })).toThrow('queueBackoff.maxMs (999) is below its initialMs (1000)');
  });

  it('names the value that is wrong, not one derived from it', () => {
    // a cap alone also lowers the first wait to it (above): a bad cap is still told as the cap
    for (const [maxMs, shown] of [[0, '0'], [-5, '-5'], [Number.NaN, 'NaN']] as const) {
      expect(() => queueBackoffOf({ maxMs })).toThrow(`queueBackoff.maxMs must be a number of ms in (0, 2147483647], not ${shown}`);
    }
    expect(() => queueBackoffOf({ initialMs: -1 })).toThrow('queueBackoff.initialMs must be a number of ms in (0, 2147483647], not -1');
  });

  it('a bad one is refused when the Controller is made', () => {
    expect(() => new Controller({ client: {} as Etcd3, queueBackoff: { initialMs: 0 } })).toThrow(RangeError);
  });
});
