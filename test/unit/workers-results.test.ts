// What runWorkers makes of a key's outcome when reading it throws, and how often a throwing
// metrics label is told. A result whose requeueAfterMs getter threw escaped the workers' guard:
// the worker's loop rejected, the key stayed processing and its slot was never given back. And a
// kindOf that throws was told twice for a failed key (once for its duration, once for its error).
import { describe, it, expect } from 'vitest';
import { WorkQueue } from '../../pkg/runtime/workqueue.js';
import { runWorkers, type ReconcileResult, type Settled } from '../../pkg/runtime/workers.js';
import { until } from './until.js';
import { fast, logger, watch } from './workers-fixture.js';
import { reconcileErrors, reconcileWaits } from '../../pkg/metrics/metrics.js';

/** A result whose requeueAfterMs cannot be read. */
const unreadableResult = (): ReconcileResult => Object.defineProperty({}, 'requeueAfterMs', { get() { throw new Error('requeueAfterMs broke'); }, enumerable: true });

describe('runWorkers: a result that throws when read', () => {
  it('a reconcile whose result\'s requeueAfterMs throws: the key fails with that error and is retried; the workers go on and end', async () => {
    const q = new WorkQueue<string>(fast);
    const runs = new Map<string, number>();
    const errors: string[] = [];
    q.add('bad'); q.add('ok');
    const done = watch(runWorkers(q, async (k) => {
      runs.set(k, (runs.get(k) ?? 0) + 1);
      if (k === 'bad' && runs.get(k) === 1) return unreadableResult();
      return undefined;
    }, { workers: 1, log: logger().log, onError: (k, e) => errors.push(`${k}: ${(e as Error).message}`) }));
    await until(() => runs.get('bad') === 2 && runs.get('ok') === 1, 'bad retried, ok reconciled');
    expect(errors).toEqual(['bad: requeueAfterMs broke']);
    expect(q.isProcessing('bad')).toBe(false);
    q.shutDown();
    expect(await done.after()).toBe('resolved');
  });

  it('a bulk key settled with such a result: the settle returns, the key is retried, the run goes on', async () => {
    const q = new WorkQueue<string>(fast);
    const errors: string[] = [];
    const settles: Array<() => void> = [];
    let starts = 0;
    const bulk = {
      accepts: () => true,
      start(keys: string[], settle: (k: string, how: Settled) => void) {
        starts++;
        for (const k of keys) settles.push(() => settle(k, starts === 1 && k === 'nic/a' ? unreadableResult() : undefined));
      },
    };
    q.add('nic/a');
    const done = watch(runWorkers(q, async () => undefined, { workers: 1, bulk, log: logger().log, onError: (k, e) => errors.push(`${k}: ${(e as Error).message}`) }));
    await until(() => settles.length === 1, 'nic/a started');
    expect(() => settles.shift()!()).not.toThrow();
    await until(() => settles.length === 1, 'nic/a started again');
    settles.shift()!();
    expect(errors).toEqual(['nic/a: requeueAfterMs broke']);
    q.shutDown();
    expect(await done.after()).toBe('resolved');
  });
});

describe('runWorkers: a metrics kindOf that throws', () => {
  const kindOfBroke = (lines: string[]) => lines.filter((l) => l.includes('kindOf broke'));
  const kindOf = () => { throw new Error('kindOf broke'); };

  it('is told once per reconcile of a failed key, not once for its duration and again for its error', async () => {
    const q = new WorkQueue<string>(fast);
    const { lines, log } = logger();
    let runs = 0;
    q.add('node/bad');
    const done = watch(runWorkers(q, async () => { if (++runs === 1) throw new Error('first try fails'); }, { workers: 1, log, metrics: { queue: 'test-results', kindOf } }));
    await until(() => runs === 2 && !q.isProcessing('node/bad'), 'the key retried');
    expect(kindOfBroke(lines)).toHaveLength(2);
    q.shutDown();
    expect(await done.after()).toBe('resolved');
  });

  it('is told once per failed bulk key too', async () => {
    const q = new WorkQueue<string>(fast);
    const { lines, log } = logger();
    let starts = 0;
    const bulk = { accepts: () => true, start(keys: string[], settle: (k: string, how: Settled) => void) { for (const k of keys) settle(k, ++starts === 1 ? { error: new Error('fails') } : undefined); } };
    q.add('nic/a');
    const done = watch(runWorkers(q, async () => undefined, { workers: 1, bulk, log, metrics: { queue: 'test-results-bulk', kindOf } }));
    await until(() => starts === 2 && !q.isProcessing('nic/a'), 'the key retried');
    expect(kindOfBroke(lines)).toHaveLength(2);
    q.shutDown();
    expect(await done.after()).toBe('resolved');
  });
});

describe('runWorkers: waits and errors counted apart', () => {
  const count = async (c: typeof reconcileWaits, kind: string) => (await c.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0;

  it('a failure metrics.isWait calls a wait is counted in xnet_reconcile_waits_total, any other (or one whose isWait throws) in the errors', async () => {
    const q = new WorkQueue<string>(fast);
    const { lines, log } = logger();
    const kinds = ['waitkind', 'errkind', 'brokenkind'];
    const before = await Promise.all(kinds.flatMap((k) => [count(reconcileWaits, k), count(reconcileErrors, k)]));
    const runs = new Map<string, number>();
    for (const k of kinds) q.add(`${k}/a`);
    const isWait = (e: unknown) => { if ((e as Error).message === 'brokenkind') throw new Error('isWait broke'); return (e as Error).message === 'waitkind'; };
    const done = watch(runWorkers(q, async (k) => {
      runs.set(k, (runs.get(k) ?? 0) + 1);
      if (runs.get(k) === 1) throw new Error(k.split('/')[0]);
    }, { workers: 1, log, metrics: { queue: 'test-waits', kindOf: (k) => k.split('/')[0], isWait } }));
    await until(() => kinds.every((k) => runs.get(`${k}/a`) === 2), 'each failed once and retried');
    const after = await Promise.all(kinds.flatMap((k) => [count(reconcileWaits, k), count(reconcileErrors, k)]));
    // [waits, errors] per kind, as increments
    expect(after.map((v, i) => v - before[i])).toEqual([1, 0, 0, 1, 0, 1]);
    expect(lines.some((l) => l.includes('isWait broke'))).toBe(true);
    q.shutDown();
    expect(await done.after()).toBe('resolved');
  });
});
