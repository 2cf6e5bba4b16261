// Keys reconciled many at once (runWorkers' bulk option, WorkQueue.takeMore): the controller
// hands a run of queued ContainerNics to their pool in one go. Each key keeps what a key of
// its own has: one worker at a time, its backoff on failure, its dirty re-queue, and
// `--workers` bounds how many are reconciled at once, counted key by key.
import { describe, it, expect } from 'vitest';
import { WorkQueue } from '../../pkg/runtime/workqueue.js';
import { runWorkers, type Settled } from '../../pkg/runtime/workers.js';
import { until } from './until.js';

const doubling = (initialMs: number, maxMs: number) => ({ initialMs, maxMs, factor: 2, jitter: 0 });
const isNic = (k: string) => k.startsWith('nic/');

/** Polls until `f` holds (bounded). */
describe('WorkQueue.takeMore', () => {
  it('takes the accepted keys at the head, in order, none past the first it does not accept', async () => {
    const q = new WorkQueue<string>();
    for (const k of ['nic/a', 'nic/b', 'nic/c', 'node/x', 'nic/d']) q.add(k);
    expect(await q.get()).toBe('nic/a');
    expect(q.takeMore(isNic, 10)).toEqual(['nic/b', 'nic/c']);
    expect(q.takeMore(isNic, 10)).toEqual([]);
    expect(await q.get()).toBe('node/x');
    expect(q.takeMore(isNic, 0)).toEqual([]);
    expect(q.takeMore(isNic, 1)).toEqual(['nic/d']);
    expect(q.len()).toBe(0);
  });

  it('a key taken is processing: added meanwhile it is queued again on done, not handed out twice', () => {
    const q = new WorkQueue<string>();
    q.add('nic/a'); q.add('nic/b');
    expect(q.takeMore(isNic, 2)).toEqual(['nic/a', 'nic/b']);
    q.add('nic/a');
    expect(q.len()).toBe(0);
    expect(q.isProcessing('nic/a')).toBe(true);
    q.done('nic/a'); q.done('nic/b');
    expect(q.len()).toBe(1);
    expect(q.takeMore(isNic, 5)).toEqual(['nic/a']);
  });
});

/** A bulk reconcile that records its runs and settles each key when told. */
function recorder() {
  const runs: string[][] = [];
  const open = new Map<string, (how: Settled) => void>();
  return {
    runs, open,
    bulk: { accepts: isNic, start: (keys: string[], settle: (k: string, how: Settled) => void) => { runs.push(keys); for (const k of keys) open.set(k, (how) => settle(k, how)); } },
    settle(k: string, how?: Settled) { const f = open.get(k)!; open.delete(k); f(how); },
  };
}

describe('runWorkers with a bulk reconcile', () => {
  it('hands the queued run of keys over in one call, and never more keys at once than workers', async () => {
    const q = new WorkQueue<string>();
    const r = recorder();
    for (let i = 0; i < 10; i++) q.add(`nic/${i}`);
    const done = runWorkers(q, async () => undefined, { workers: 4, bulk: r.bulk });
    await until(() => r.open.size === 4, 'four keys started');
    expect(r.runs).toEqual([['nic/0', 'nic/1', 'nic/2', 'nic/3']]);
    await new Promise((res) => setTimeout(res, 10));
    expect(r.open.size).toBe(4);
    // the four slots freed together go to one worker, which takes the next four as one run
    for (const k of ['nic/0', 'nic/1', 'nic/2', 'nic/3']) r.settle(k);
    await until(() => r.open.size === 4, 'the next run started');
    expect(r.runs[1]).toEqual(['nic/4', 'nic/5', 'nic/6', 'nic/7']);
    for (const k of [...r.open.keys()]) r.settle(k);
    await until(() => r.open.size === 2, 'the last run started');
    for (const k of [...r.open.keys()]) r.settle(k);
    q.shutDown();
    await done;
    expect(r.runs.flat()).toEqual(Array.from({ length: 10 }, (_, i) => `nic/${i}`));
  });

  it('a key settled with an error is retried with its own backoff; one that succeeds forgets it', async () => {
    const q = new WorkQueue<string>(doubling(1, 5));
    const r = recorder();
    const errors: string[] = [];
    q.add('nic/a'); q.add('nic/b');
    const done = runWorkers(q, async () => undefined, { workers: 8, bulk: r.bulk, onError: (k) => errors.push(k) });
    await until(() => r.open.size === 2, 'both started');
    r.settle('nic/a', { error: new Error('waiting') });
    r.settle('nic/b');
    expect(q.numRequeues('nic/a')).toBe(1);
    expect(q.numRequeues('nic/b')).toBe(0);
    await until(() => r.open.has('nic/a'), 'nic/a retried');
    r.settle('nic/a', { requeueAfterMs: 1 });
    expect(q.numRequeues('nic/a')).toBe(0);
    await until(() => r.open.has('nic/a'), 'nic/a looked at again as asked');
    r.settle('nic/a');
    q.shutDown();
    await done;
    expect(errors).toEqual(['nic/a']);
  });

  it('a key added while its run is in flight is reconciled again after it settles, never twice at once', async () => {
    const q = new WorkQueue<string>();
    const r = recorder();
    q.add('nic/a');
    const done = runWorkers(q, async () => undefined, { workers: 4, bulk: r.bulk });
    await until(() => r.open.has('nic/a'), 'started');
    q.add('nic/a');
    await new Promise((res) => setTimeout(res, 10));
    expect(r.runs).toEqual([['nic/a']]);
    r.settle('nic/a');
    await until(() => r.runs.length === 2, 'reconciled again');
    r.settle('nic/a');
    q.shutDown();
    await done;
  });

  it('a key settled twice frees one slot, not two', async () => {
    const q = new WorkQueue<string>();
    const r = recorder();
    let settleTwice!: () => void;
    const bulk = {
      accepts: isNic,
      start: (keys: string[], settle: (k: string, how: Settled) => void) => {
        r.runs.push(keys);
        for (const k of keys) r.open.set(k, (how) => settle(k, how));
        settleTwice = () => { settle(keys[0]); settle(keys[0]); };
      },
    };
    for (const k of ['nic/a', 'nic/b', 'nic/c', 'nic/d']) q.add(k);
    const done = runWorkers(q, async () => undefined, { workers: 2, bulk });
    await until(() => r.runs.length === 1, 'started');
    expect(r.runs[0]).toEqual(['nic/a', 'nic/b']);
    r.open.delete('nic/a');
    settleTwice();
    await until(() => r.runs.length === 2, 'the freed slot used');
    await new Promise((res) => setTimeout(res, 10));
    expect(r.runs[1]).toEqual(['nic/c']);
    expect(r.runs.length).toBe(2);
    for (const k of [...r.open.keys()]) r.settle(k);
    await until(() => r.runs.length === 3, 'the last key started');
    for (const k of [...r.open.keys()]) r.settle(k);
    q.shutDown();
    await done;
  });

  it('the workers end, once shut down, only when every key handed over has settled', async () => {
    const q = new WorkQueue<string>();
    const r = recorder();
    q.add('nic/a'); q.add('nic/b');
    const done = runWorkers(q, async () => undefined, { workers: 4, bulk: r.bulk });
    await until(() => r.open.size === 2, 'started');
    let ended = false;
    void done.then(() => { ended = true; });
    q.shutDown();
    await new Promise((res) => setTimeout(res, 10));
    expect(ended).toBe(false);
    for (const k of [...r.open.keys()]) r.settle(k);
    await done;
  });

  it('keys it does not take are reconciled one by one as before', async () => {
    const q = new WorkQueue<string>();
    const r = recorder();
    const single: string[] = [];
    for (const k of ['node/x', 'nic/a', 'node/y']) q.add(k);
    const done = runWorkers(q, async (k) => { single.push(k); }, { workers: 4, bulk: r.bulk });
    await until(() => single.length === 2 && r.open.size === 1, 'all started');
    expect(single).toEqual(['node/x', 'node/y']);
    r.settle('nic/a');
    q.shutDown();
    await done;
  });
});
