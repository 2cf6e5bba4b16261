// A run of queued ContainerNics handed to their pools in one go (nic-work.ts reconcileNics, as
// the controller's term wires it into runWorkers): what goes wrong for one NIC while the run is
// handed over is that NIC's failure alone, as it was when each NIC had a reconcile of its own.
// The others are handed to their pool and stay processing until it answers: a NIC settled
// before that would be taken again and reconciled twice at once.
import { describe, it, expect } from 'vitest';
import { WorkQueue } from '../../pkg/runtime/workqueue.js';
import { runWorkers } from '../../pkg/runtime/workers.js';
import { reconcileNics, type NicWorkHost, type AddrItem } from '../../pkg/controller/nic-work.js';
import { until } from './until.js';

const NIC = 'ContainerNic/';
const doubling = { initialMs: 10_000, maxMs: 10_000, factor: 2, jitter: 0 };

type Answer = (i: number, how: { error: unknown }) => void;

/**
 * A term's side of the NICs' work: NICs on ClusterNetwork `pools[name]`; `lookupFails` names a
 * NIC whose lookup throws, `brokenPool` a pool whose hand-over throws. The pools record what
 * they were handed and answer when the test says.
 */
function host(pools: Record<string, string>, o: { lookupFails?: string; brokenPool?: string }) {
  const handed: Array<{ pool: string; items: AddrItem[]; answer: Answer }> = [];
  const model = {
    nic(name: string) {
      if (name === o.lookupFails) throw new Error(`lookup of ${name} failed`);
      const spec = { node: 'n1', network: { clusterNetwork: pools[name] } };
      return { obj: { metadata: { name }, spec }, kv: { key: name, value: '{}' } };
    },
  };
  const h = {
    model,
    addrExecutor(pool: string) {
      if (pool === o.brokenPool) throw new Error(`pool ${pool} failed`);
      return { submitEach: (items: AddrItem[], answer: Answer) => { handed.push({ pool, items, answer }); } };
    },
  } as unknown as NicWorkHost;
  return { h, handed };
}

/** Runs the queue's workers with the controller's bulk reconcile of NIC keys. */
function workers(q: WorkQueue<string>, h: NicWorkHost, errors: string[]) {
  return runWorkers(q, async () => undefined, {
    workers: 8,
    onError: (key) => errors.push(key),
    bulk: {
      accepts: (k) => k.startsWith(NIC),
      start: (keys, settle) => reconcileNics(h, keys.map((k) => k.slice(NIC.length)), (i, error) => settle(keys[i], error)),
    },
  });
}

/**
 * The NICs `pools` names queued in that order and the workers running; `stop` shuts the queue
 * down and answers what the pools still hold, so that the workers end.
 */
function queued(pools: Record<string, string>, o: { lookupFails?: string; brokenPool?: string }) {
  const { h, handed } = host(pools, o);
  const q = new WorkQueue<string>(doubling);
  const errors: string[] = [];
  for (const n of Object.keys(pools)) q.add(NIC + n);
  const done = workers(q, h, errors);
  const stop = async () => {
    q.shutDown();
    for (const x of handed) x.items.forEach((_, i) => x.answer(i, { error: new Error('shut down') }));
    await done;
  };
  return { q, handed, errors, stop };
}

describe('a run of NICs handed to their pools in one go', () => {
  it('a NIC whose lookup throws fails alone; the others of its run are handed to their pool', async () => {
    const { q, handed, errors, stop } = queued({ a: 'cn1', bad: 'cn1', c: 'cn1' }, { lookupFails: 'bad' });
    await until(() => errors.length > 0 || handed.length > 0, 'the run handed over');
    expect(errors).toEqual([NIC + 'bad']);
    expect(q.numRequeues(NIC + 'bad')).toBe(1);
    expect(handed.map((x) => x.items.map((i) => i.name))).toEqual([['a', 'c']]);
    // handed over, not answered yet: still processing, no retry
    expect([NIC + 'a', NIC + 'c'].map((k) => [q.isProcessing(k), q.numRequeues(k)])).toEqual([[true, 0], [true, 0]]);
    await stop();
  });

  it('a pool whose hand-over throws fails its own NICs alone; a NIC handed to another pool stays processing', async () => {
    const { q, handed, errors, stop } = queued({ a: 'cn1', x: 'broken', b: 'cn1' }, { brokenPool: 'clusternetworks/broken' });
    await until(() => errors.length > 0, 'the broken pool failed');
    expect(errors).toEqual([NIC + 'x']);
    expect(handed.map((x) => [x.pool, x.items.map((i) => i.name)])).toEqual([['clusternetworks/cn1', ['a', 'b']]]);
    expect([NIC + 'a', NIC + 'b'].map((k) => [q.isProcessing(k), q.numRequeues(k)])).toEqual([[true, 0], [true, 0]]);
    await stop();
  });
});
