// A ContainerNic whose pool's only free addresses cool down after their release waits, and its
// outcome says for how long (coolingMs, nics.ts): it is looked at again then, since nothing else
// happens to wake it when an address has cooled (nic-work.ts nicDone). A wait of 0 (the first
// address cooled while the round that refused the NIC was still scanning the pool) was taken for
// "no wait to look again after" and the NIC was left to its work-queue retry, up to 30 s away,
// while its address was free. The queue runs here as the controller's term runs it, with its
// retry out of reach, so only the look-again can hand the NIC to its pool a second time.
import { describe, it, expect } from 'vitest';
import { WorkQueue } from '../../pkg/runtime/workqueue.js';
import { runWorkers } from '../../pkg/runtime/workers.js';
import { reconcileNics, type NicWorkHost, type AddrItem, type AddrOutcome } from '../../pkg/controller/nic-work.js';
import type { Kind } from '../../pkg/api/index.js';
import { until } from './until.js';

const NIC = 'ContainerNic/';
/** no retry of the work queue within the test */
const HOUR = { initialMs: 3_600_000, maxMs: 3_600_000, factor: 2, jitter: 0 };

/**
 * One NIC on ClusterNetwork `cn1` whose pool answers each hand-over with the next of `answers`;
 * the term's side as the term does it (term.ts: enqueue, a 0 or no delay at once).
 */
function nicPool(q: WorkQueue<string>, answers: AddrOutcome[]) {
  const handed: AddrItem[] = [];
  const h = {
    model: { nic: (name: string) => ({ obj: { metadata: { name }, spec: { node: 'n1', network: { clusterNetwork: 'cn1' } } }, kv: { key: name, value: '{}' } }) },
    late: { refusal: () => ({ type: 'Warning' }), nodeNotFound: () => undefined },
    events: { record: async () => undefined },
    addrExecutor: () => ({
      submitEach: (items: AddrItem[], answer: (i: number, how: { out: AddrOutcome }) => void) => {
        // answered after its round, as a pool does
        for (const [i, item] of items.entries()) {
          const out = answers[Math.min(handed.push(item), answers.length) - 1];
          setImmediate(() => answer(i, { out }));
        }
      },
    }),
    enqueue: (kind: Kind, name: string, afterMs?: number) => q.addAfter(`${kind}/${name}`, afterMs ?? 0),
    wait: () => undefined,
    allocated: () => undefined,
  } as unknown as NicWorkHost;
  return { h, handed };
}

describe('a ContainerNic waiting only for released addresses to cool down', () => {
  it.each([5, 0])('is looked at again when the first has cooled (in %i ms), not at its retry', async (coolingMs) => {
    const q = new WorkQueue<string>(HOUR);
    const cooling: AddrOutcome = { result: 'waiting', reason: 'PoolExhausted', message: 'every free address ... was released less than 30 s ago', coolingMs };
    const { h, handed } = nicPool(q, [cooling, { result: 'allocated', ip: '10.0.0.5' }]);
    const errors: string[] = [];
    q.add(NIC + 'a');
    const done = runWorkers(q, async () => undefined, {
      workers: 4,
      onError: (key) => errors.push(key),
      bulk: { accepts: (k) => k.startsWith(NIC), start: (keys, settle) => reconcileNics(h, keys.map((k) => k.slice(NIC.length)), (i, error) => settle(keys[i], error)) },
    });
    try {
      await until(() => handed.length >= 2, 'the NIC handed to its pool again');
      // it waited once (a retry an hour away), then got its address: its backoff forgotten
      expect(errors).toEqual([NIC + 'a']);
      await until(() => !q.isProcessing(NIC + 'a'), 'the second look settled');
      expect(q.numRequeues(NIC + 'a')).toBe(0);
      expect(handed.length).toBe(2);
    } finally {
      q.shutDown();
      await done;
    }
  });
});
