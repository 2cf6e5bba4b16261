// A MacvlanNet with room for two nodes' Docker blocks (or shim addresses) and three selected
// nodes: the third node's part waits (Ready PoolExhausted, `1 node(s) could not get a Docker
// block or shim address`), retried on the MacvlanNet's own key with a backoff that doubles to
// 30 s. When one of the first two Nodes leaves, what it held is freed, and the waiting node must
// get it within seconds, not at that retry. A shim freed by the round of a deselected Node waited
// for that retry: the round cannot hand out in its transaction what it deletes there, and its
// commit queued nothing (events.ts countedByMacvlanNet). The controller runs with that retry out
// of reach (WAKE_TEST_BACKOFF): only what the freeing queues can give the waiting node its part
// (shown red by removing both paths: events.ts's countedByMacvlanNet line and macvlan.ts's
// `r.again` for a round that frees a block).
// Real etcd, in-process controller; a node's agent is its report key, written by the test.
import { describe, expect, it } from 'vitest';
import { expectOneTerm, obj, WAKE_TEST_BACKOFF } from './controller-helpers.js';
import { eventually } from './helpers.js';
import { useMacvlanParts } from './macvlan-parts.js';

// a freed shim address cools down first (--address-cooldown, address-cooldown.ts: short here), and
// the waiting node gets it once it has (the round is looked at again then)
const fx = useMacvlanParts({ addressCooldownMs: 2_000, waitBackoff: WAKE_TEST_BACKOFF });
/** Moments for the rounds that hand over what was freed (and the shim's cooldown). */
const FREED_WAIT_MS = 8_000;
type Held = 'dockerRange' | 'shimAddress';

/**
 * MacvlanNet `mvn` (`spec`) selecting nodes labelled `<mvn>: yes`; `a` and `b` get what `held`
 * names, `c` waits for it. Returns what `a` holds.
 */
async function fullSegment(mvn: string, spec: Record<string, unknown>, held: Held, [a, b, c]: string[]): Promise<string> {
  await fx.segment(mvn, spec, mvn, [a, b]);
  await fx.beat([a, b]);
  for (const n of [a, b]) await eventually(async () => (await fx.partOf(mvn, n))?.[held], `${n} given its ${held}`);
  await fx.join(mvn, [c]);
  await fx.beat([c]);
  const ready = await eventually(async () => { const r = await fx.ready(mvn); return r?.reason === 'PoolExhausted' && r; }, `${mvn} waiting PoolExhausted`);
  expect(ready.message).toContain('1 node(s) could not get a Docker block or shim address');
  expect((await fx.partOf(mvn, c))?.[held]).toBeUndefined();
  return (await fx.partOf(mvn, a))![held]!;
}

/** The node's part holds `freed` within FREED_WAIT_MS. */
async function givenWithinMoments(mvn: string, node: string, held: Held, freed: string): Promise<void> {
  const got = await eventually(async () => (await fx.partOf(mvn, node))?.[held], `${node} given the freed ${held}`, FREED_WAIT_MS);
  expect(got).toBe(freed);
  expectOneTerm({ termsLed: fx.termsLed() });
  await fx.expectClean();
}

describe('a MacvlanNet node part waiting for a Docker block or shim address', () => {
  it('gets the Docker block of a deleted Node at once, not at the next retry', async () => {
    // a /27 to hand out: two /28 blocks
    const spec = { subnet: '198.19.81.0/24', ipRange: '198.19.81.64/27', dockerIPAM: 'blocks', blockPrefix: 28, hostShim: false };
    const freed = await fullSegment('blk', spec, 'dockerRange', ['bw-1', 'bw-2', 'bw-3']);
    await fx.store.delete('Node', 'bw-1');
    await givenWithinMoments('blk', 'bw-3', 'dockerRange', freed);
  }, 60_000);

  it('gets the shim address of a deselected Node at once, not at the next retry', async () => {
    // two addresses to hand out: the first two nodes' shims
    const spec = { subnet: '198.19.83.0/24', ipRange: '198.19.83.64/30', exclude: ['198.19.83.66/31'], dockerIPAM: 'xnet', hostShim: true };
    const freed = await fullSegment('shim', spec, 'shimAddress', ['sw-1', 'sw-2', 'sw-3']);
    await fx.store.applyAll([obj('Node', 'sw-1', { interface: 'eth0' }, { shim: 'no' })]);
    await givenWithinMoments('shim', 'sw-3', 'shimAddress', freed);
  }, 60_000);
});
