// A ClusterNetwork with every block taken: the HostSubnet the controller makes for a node that
// joins then waits with Allocated=False PoolExhausted. When another node goes and its block with
// it, the waiting one must get that block at once, as a flannel or Calico node gets a freed
// subnet. Only pinned HostSubnets (refused for a block another held) were looked at again when
// a block claim was freed; this one was left to the retry of its work-queue key, whose backoff
// doubles from 50 ms to 30 s (the ClusterNetwork's recount queues every Node, but a Node's
// reconcile plans only a HostSubnet it lacks).
import { describe, expect, it } from 'vitest';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture, type Status } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix);
const allocated = (s: Status) => s.conditions?.find((c) => c.type === 'Allocated');
/**
 * Longer than the waiting one's retries take to back off past the wait below: consecutive
 * failures 50 ms doubling (pkg/runtime/backoff.ts CONTROLLER_QUEUE_BACKOFF) are 25.6 s apart
 * after 30 s, so a retry that happens to fall inside the wait cannot pass this test.
 */
const WAITING_FOR_MS = 30_000;
/** Far below the retry the work queue has then scheduled. */
const FREED_WAIT_MS = 8_000;

describe('a HostSubnet waiting PoolExhausted', () => {
  it('gets a block freed by a deleted Node at once, not at its next retry', async () => {
    await fx.store.applyAll([
      obj('ClusterNetwork', 'two', { cidr: '10.87.0.0/23', hostPrefix: 24 }),
      obj('Node', 'n1', { address: '198.18.0.31' }), obj('Node', 'n2', { address: '198.18.0.32' }),
    ]);
    for (const n of ['n1', 'n2']) {
      await eventually(async () => statusOf(await fx.store.get('HostSubnet', `two-${n}`)).subnet || undefined, `two-${n} allocated`);
    }
    const n1Subnet = statusOf(await fx.store.get('HostSubnet', 'two-n1')).subnet;
    await fx.store.applyAll([obj('Node', 'n3', { address: '198.18.0.33' })]);
    const waiting = await eventually(async () => { const a = allocated(statusOf(await fx.store.get('HostSubnet', 'two-n3'))); return a?.reason === 'PoolExhausted' ? a : undefined; }, 'two-n3 waiting');
    expect(waiting.status).toBe('False');
    expect(waiting.message).toContain('no free /24 block left');
    await new Promise((r) => setTimeout(r, WAITING_FOR_MS));
    expect(statusOf(await fx.store.get('HostSubnet', 'two-n3')).subnet).toBeUndefined();
    await fx.store.delete('Node', 'n1');
    const s = await eventually(async () => { const st = statusOf(await fx.store.get('HostSubnet', 'two-n3')); return st.subnet ? st : undefined; }, 'two-n3 given the freed block', FREED_WAIT_MS);
    expect(s.subnet).toBe(n1Subnet);
    expect(allocated(s)?.status).toBe('True');
    expect(await fx.store.get('HostSubnet', 'two-n1')).toBeUndefined();
  }, 90_000);
});
