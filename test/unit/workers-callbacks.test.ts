// runWorkers holds its contract whatever a callback does (Kubernetes' HandleCrash: a panic in a
// handler is reported and the loop goes on): an onError or a bulk start that throws (or, async, rejects),
// a settle called twice or never, a reconcile that throws something not an Error, an accepts,
// a backoffOf or a metrics label that throws. No slot leaks, no key is lost from the queue, and the promise
// resolves once the queue is shut down and every key taken has been settled.
import { describe, it, expect } from 'vitest';
import { WorkQueue } from '../../pkg/runtime/workqueue.js';
import { runWorkers, type Settled } from '../../pkg/runtime/workers.js';
import { until } from './until.js';
import { fast, logger, watch } from './workers-fixture.js';

const isNic = (k: string) => k.startsWith('nic/');
type Settle = (k: string, how: Settled) => void;

/** A bulk reconcile that keeps each key's settle until the test calls it; `throwOnStart` throws from start after settling those it names. */
function recorder(o: { throwOnStart?: { settleFirst: string[]; error: unknown } } = {}) {
  const runs: string[][] = [];
  const open = new Map<string, Settle>();
  const bulk = {
    accepts: isNic,
    start(keys: string[], settle: Settle) {
      runs.push(keys);
      const t = o.throwOnStart;
      if (t && runs.length === 1) {
        for (const k of keys) if (t.settleFirst.includes(k)) settle(k, undefined);
        throw t.error;
      }
      for (const k of keys) open.set(k, settle);
    },
  };
  const settle = (k: string, how?: Settled) => { const f = open.get(k)!; open.delete(k); f(k, how); };
  const settleAll = () => { for (const k of [...open.keys()]) settle(k); };
  return { runs, open, bulk, settle, settleAll };
}

describe('runWorkers: a callback that throws', () => {
  it('an onError that throws is reported; the key is retried and the worker goes on', async () => {
    const q = new WorkQueue<string>(fast);
    const { lines, log } = logger();
    const seen: string[] = [];
    q.add('a'); q.add('b');
    const done = watch(runWorkers(q, async (k) => {
      seen.push(k);
      if (k === 'a' && seen.filter((s) => s === 'a').length === 1) throw new Error('first try fails');
    }, { workers: 1, log, onError: () => { throw new Error('onError broke'); } }));
    await until(() => seen.includes('b') && seen.filter((s) => s === 'a').length === 2, 'b reconciled and a retried');
    expect(lines.some((l) => l.includes('onError broke'))).toBe(true);
    q.shutDown();
    expect(await done.after()).toBe('resolved');
  });

  it('a reconcile that throws something not an Error: the key is retried, onError gets what was thrown', async () => {
    const q = new WorkQueue<string>(fast);
    const thrown: Record<string, unknown> = { u: undefined, n: null, s: 'text', z: 0 };
    const runs = new Map<string, number>();
    const errors: Array<[string, unknown]> = [];
    for (const k of Object.keys(thrown)) q.add(k);
    const done = watch(runWorkers(q, async (k) => {
      runs.set(k, (runs.get(k) ?? 0) + 1);
      if (runs.get(k) === 1) throw thrown[k];
    }, {
      workers: 1, log: logger().log,
      // as the term's and the agent's did: `.message` of undefined or null throws
      onError: (k, err) => { errors.push([k, err]); void (err as Error).message; },
    }));
    await until(() => Object.keys(thrown).every((k) => runs.get(k) === 2), 'every key retried');
    expect(errors).toEqual(Object.entries(thrown));
    q.shutDown();
    expect(await done.after()).toBe('resolved');
  });

  it('a backoffOf that throws is reported; the key is retried at the queue\'s backoff, another at the one it chose', async () => {
    const q = new WorkQueue<string>(fast);
    const { lines, log } = logger();
    const runs = new Map<string, number>();
    const retryInMs = new Map<string, number>();
    const hour = { initialMs: 3_600_000, maxMs: 3_600_000, factor: 2, jitter: 0 };
    q.add('bad'); q.add('slow');
    const done = watch(runWorkers(q, async (k) => {
      runs.set(k, (runs.get(k) ?? 0) + 1);
      if (runs.get(k) === 1) throw new Error('first try fails');
    }, { workers: 1, log, backoffOf: (k) => { if (k === 'bad') throw new Error('backoffOf broke'); return hour; }, onError: (k, _e, ms) => retryInMs.set(k, ms) }));
    await until(() => runs.get('bad') === 2 && runs.has('slow'), 'bad retried, slow tried');
    expect(Object.fromEntries(retryInMs)).toEqual({ bad: 1, slow: 3_600_000 });
    expect(runs.get('slow')).toBe(1);
    expect(lines.some((l) => l.includes('backoffOf broke'))).toBe(true);
    q.shutDown();
    expect(await done.after()).toBe('resolved');
  });

  it('an accepts or a metrics kindOf that throws is reported; the key is reconciled alone, not lost', async () => {
    const q = new WorkQueue<string>(fast);
    const { lines, log } = logger();
    const r = recorder();
    const single: string[] = [];
    const bulk = { ...r.bulk, accepts: (k: string) => { if (k === 'nic/bad') throw new Error('accepts broke'); return isNic(k); } };
    const kindOf = (k: string) => { if (k === 'node/bad') throw new Error('kindOf broke'); return k.split('/')[0]; };
    for (const k of ['nic/bad', 'node/bad', 'node/ok']) q.add(k);
    const done = watch(runWorkers(q, async (k) => { single.push(k); }, { workers: 2, bulk, log, metrics: { queue: 'test-callbacks', kindOf } }));
    await until(() => single.length === 3, 'all three reconciled');
    expect(single.sort()).toEqual(['nic/bad', 'node/bad', 'node/ok']);
    expect(['nic/bad', 'node/bad'].map((k) => q.isProcessing(k))).toEqual([false, false]);
    expect(lines.some((l) => l.includes('accepts broke')) && lines.some((l) => l.includes('kindOf broke'))).toBe(true);
    q.shutDown();
    expect(await done.after()).toBe('resolved');
  });
});

describe('runWorkers: a bulk reconcile that breaks its contract', () => {
  it('an onError that throws while a bulk key settles: the settle returns, the run goes on, the key is retried', async () => {
    const q = new WorkQueue<string>(fast);
    const r = recorder();
    q.add('nic/a'); q.add('nic/b');
    const done = watch(runWorkers(q, async () => undefined, { workers: 4, bulk: r.bulk, log: logger().log, onError: () => { throw new Error('onError broke'); } }));
    await until(() => r.open.size === 2, 'both started');
    expect(() => r.settle('nic/a', { error: new Error('failed') })).not.toThrow();
    r.settle('nic/b');
    await until(() => r.open.has('nic/a'), 'nic/a retried');
    expect(q.numRequeues('nic/a')).toBe(1);
    r.settleAll();
    q.shutDown();
    expect(await done.after()).toBe('resolved');
  });

  it('a bulk start that throws fails every key it did not settle: each retried with backoff, none settled twice', async () => {
    const q = new WorkQueue<string>(fast);
    const r = recorder({ throwOnStart: { settleFirst: ['nic/a'], error: 'start broke' } });
    const errors: Array<[string, unknown]> = [];
    for (const k of ['nic/a', 'nic/b', 'nic/c']) q.add(k);
    const done = watch(runWorkers(q, async () => undefined, { workers: 4, bulk: r.bulk, onError: (k, err) => errors.push([k, err]) }));
    await until(() => r.open.size === 2, 'the failed keys started again');
    expect(errors).toEqual([['nic/b', 'start broke'], ['nic/c', 'start broke']]);
    expect(['nic/a', 'nic/b', 'nic/c'].map((k) => q.numRequeues(k))).toEqual([0, 1, 1]);
    expect(r.runs.slice(1).flat().sort()).toEqual(['nic/b', 'nic/c']);
    r.settleAll();
    q.shutDown();
    expect(await done.after()).toBe('resolved');
  });

  it('a bulk start that throws with an onError that throws too: no slot leaks, no worker stalls, no key is lost', async () => {
    const q = new WorkQueue<string>(fast);
    const r = recorder({ throwOnStart: { settleFirst: [], error: new Error('start broke') } });
    const single: string[] = [];
    for (const k of ['nic/a', 'nic/b', 'node/x']) q.add(k);
    const done = watch(runWorkers(q, async (k) => { single.push(k); }, { workers: 2, bulk: r.bulk, log: logger().log, onError: () => { throw new Error('onError broke'); } }));
    await until(() => single.includes('node/x'), 'the other worker not stalled');
    await until(() => r.open.size === 2, 'both NIC keys started again');
    r.settleAll();
    q.shutDown();
    expect(await done.after()).toBe('resolved');
  });

  it('a key settled twice, or one its run does not hold, is ignored and reported; the first settle stands', async () => {
    const q = new WorkQueue<string>(fast);
    const { lines, log } = logger();
    let settle!: Settle;
    const runs: string[][] = [];
    const bulk = { accepts: isNic, start: (keys: string[], s: Settle) => { runs.push(keys); settle = s; } };
    q.add('nic/a'); q.add('nic/b');
    const done = watch(runWorkers(q, async () => undefined, { workers: 4, bulk, log }));
    await until(() => runs.length === 1, 'started');
    settle('nic/a', undefined);
    settle('nic/a', { error: new Error('too late') });
    settle('nic/other', undefined);
    expect(q.numRequeues('nic/a')).toBe(0);
    expect(lines.filter((l) => l.startsWith('warn')).map((l) => JSON.parse(l.slice(l.indexOf('{'))).key)).toEqual(['nic/a', 'nic/other']);
    settle('nic/b', undefined);
    q.shutDown();
    expect(await done.after()).toBe('resolved');
    expect(runs).toEqual([['nic/a', 'nic/b']]);
  });

  it('a settle with something not an object counts as a success and does not throw', async () => {
    const q = new WorkQueue<string>(fast);
    const r = recorder();
    q.add('nic/a');
    const done = watch(runWorkers(q, async () => undefined, { workers: 1, bulk: r.bulk }));
    await until(() => r.open.size === 1, 'started');
    expect(() => r.settle('nic/a', 'done' as unknown as Settled)).not.toThrow();
    expect([q.isProcessing('nic/a'), q.numRequeues('nic/a')]).toEqual([false, 0]);
    q.shutDown();
    expect(await done.after()).toBe('resolved');
  });

  it('a key never settled keeps its slot (as a reconcile that never returns): the others go on; the workers end once it settles', async () => {
    const q = new WorkQueue<string>(fast);
    const r = recorder();
    for (const k of ['nic/stuck', 'nic/1', 'nic/2', 'nic/3']) q.add(k);
    const done = watch(runWorkers(q, async () => undefined, { workers: 2, bulk: r.bulk }));
    for (const k of ['nic/1', 'nic/2', 'nic/3']) {
      await until(() => r.open.has(k), `${k} started`);
      expect(r.open.size).toBe(2);
      r.settle(k);
    }
    q.shutDown();
    expect(await done.after(50)).toBe('pending');
    expect(q.isProcessing('nic/stuck')).toBe(true);
    r.settle('nic/stuck');
    expect(await done.after()).toBe('resolved');
  });
});

/** The process's unhandled rejections while `f` runs: a daemon exits on one (cli/daemon.ts exitOnUncaught). */
async function unhandledDuring(f: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const note = (reason: unknown) => { seen.push(reason); };
  process.on('unhandledRejection', note);
  try {
    await f();
    // Node tells of a rejection left unhandled once the microtasks of its turn have run
    await new Promise((r) => setTimeout(r, 10));
  } finally {
    process.off('unhandledRejection', note);
  }
  return seen;
}

describe('runWorkers: an async callback that rejects (a void callback may be async)', () => {
  it('an async onError that rejects is reported, not left unhandled; the key is retried and the workers end', async () => {
    const q = new WorkQueue<string>(fast);
    const { lines, log } = logger();
    const runs = new Map<string, number>();
    q.add('a'); q.add('b');
    const unhandled = await unhandledDuring(async () => {
      const done = watch(runWorkers(q, async (k) => {
        runs.set(k, (runs.get(k) ?? 0) + 1);
        if (k === 'a' && runs.get(k) === 1) throw new Error('first try fails');
      }, { workers: 1, log, onError: async () => { throw new Error('onError broke'); } }));
      await until(() => runs.get('a') === 2 && runs.get('b') === 1, 'b reconciled and a retried');
      await until(() => lines.some((l) => l.startsWith('error') && l.includes('onError broke')), 'the rejection reported');
      q.shutDown();
      expect(await done.after()).toBe('resolved');
    });
    expect(unhandled).toEqual([]);
  });

  it('an async bulk start that rejects fails every key it did not settle: each retried with backoff, the workers end', async () => {
    const q = new WorkQueue<string>(fast);
    const runs: string[][] = [];
    const open = new Map<string, Settle>();
    const errors: Array<[string, unknown]> = [];
    const bulk = {
      accepts: isNic,
      async start(keys: string[], settle: Settle) {
        runs.push(keys);
        if (runs.length === 1) {
          settle('nic/a', undefined);
          await Promise.resolve();
          throw new Error('start broke');
        }
        for (const k of keys) open.set(k, settle);
      },
    };
    for (const k of ['nic/a', 'nic/b', 'node/x']) q.add(k);
    const single: string[] = [];
    const { lines, log } = logger();
    const unhandled = await unhandledDuring(async () => {
      const done = watch(runWorkers(q, async (k) => { single.push(k); }, {
        workers: 2, bulk, log, onError: (k, err) => errors.push([k, (err as Error).message]),
      }));
      await until(() => open.has('nic/b') && single.includes('node/x'), 'nic/b started again, node/x reconciled');
      expect(errors).toEqual([['nic/b', 'start broke']]);
      expect(['nic/a', 'nic/b'].map((k) => q.numRequeues(k))).toEqual([0, 1]);
      expect(lines.filter((l) => l.startsWith('error') && l.includes('start broke'))).toHaveLength(1);
      open.get('nic/b')!('nic/b', undefined);
      q.shutDown();
      expect(await done.after()).toBe('resolved');
    });
    expect(unhandled).toEqual([]);
  });
});
