// The waits a KvCache's restarts announce (cache-restarts.ts, the `inMs` of their warnings), as
// docs/faults.md states them: a relist that a compaction makes right after a long cut waits the
// backoff's second wait, not what the cut grew it to; once the watches stayed up, a relist waits
// a quarter of the first. Pure logic: the cache is a stand-in whose resume fails while "cut".
import { describe, expect, it } from 'vitest';
import { CacheRestarts, type Restartable } from '../../pkg/runtime/cache-restarts.js';
import { backoffDelay, sleep, type BackoffPolicy } from '../../pkg/runtime/backoff.js';

/** RECONNECT_BACKOFF's shape, 25 times shorter, so that a cut of several attempts takes little time. */
const POLICY: BackoffPolicy = { initialMs: 8, maxMs: 200, factor: 2, jitter: 0 };
const STABLE_MS = 300;

/** A cache whose resume fails `cutFor` times (etcd unreachable); the waits its restarts announce; `made`: watches made again. */
function restartsOf(cutFor: number) {
  let failing = cutFor;
  let madeAgain = () => undefined as void;
  const made = new Promise<void>((r) => { madeAgain = r; });
  const waits: Array<{ message: string; inMs: number }> = [];
  const cache: Restartable = {
    prefix: '/w/',
    isClosed: () => false,
    stopWatchers: async () => undefined,
    relist: async () => { madeAgain(); },
    resume: async () => {
      if (failing-- > 0) throw Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 });
      madeAgain();
    },
  };
  const log = { warn: (message: string, f: { inMs: number }) => waits.push({ message, inMs: f.inMs }) } as never;
  const restarts = new CacheRestarts(cache, { log, backoff: POLICY, stableMs: STABLE_MS });
  return { restarts, waits, made };
}

describe('the waits of a KvCache restart', () => {
  it('a compaction\'s relist right after a long cut waits the second wait, not the one the cut grew', async () => {
    const { restarts, waits, made } = restartsOf(4);
    restarts.restart('resume', new Error('cut'));
    await made; // the resume that ends the restart (bounded by the test's timeout)
    await new Promise(setImmediate); // the restart has ended (its promise chain settled)
    expect(waits.at(-1)?.inMs, 'the cut grew the backoff').toBe(backoffDelay(5, POLICY));
    restarts.restart('relist', new Error('compacted'));
    expect(waits.at(-1)).toEqual({ message: 'cache watch cancelled; relisting', inMs: backoffDelay(2, POLICY) });
  });

  it('a relist after watches that stayed up waits a quarter of the first wait', async () => {
    const { restarts, waits, made } = restartsOf(0);
    restarts.restart('resume', new Error('cut'));
    await made; // the resume that ends the restart (bounded by the test's timeout)
    await new Promise(setImmediate); // the restart has ended (its promise chain settled)
    await sleep(STABLE_MS + 50);
    restarts.restart('relist', new Error('compacted'));
    expect(waits.at(-1)).toEqual({ message: 'cache watch cancelled; relisting', inMs: backoffDelay(1, POLICY) / 4 });
  });
});
