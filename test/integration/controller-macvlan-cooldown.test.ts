// An address a ContainerNic released cools down (--address-cooldown: neighbours' ARP caches on
// the segment may still map it to the container that left) before anyone takes it again, not
// only another ContainerNic: on a MacvlanNet the round's own takers (a node's host shim, its
// refill of pre-claimed addresses for its IPAM plugin, a node's Docker block) handed it out at
// once, the moment the NIC's claim went. Nor is a deleted Node's pre-claim another node's refill
// at once: nobody gave it back (only a pre-claim given back skips the cooldown for another
// node's). Once cooled, the address is taken without anything else happening: the round is looked
// at again when the first cools (term.ts, o.coolingMs). The controller runs with its work-queue
// retry out of reach (WAKE_TEST_BACKOFF): the retry of a round whose node waits for a shim or a
// Docker block (50 ms doubling) came by soon after the cooldown ended, and those two cases passed
// without that look. Real etcd and the real controller; the nodes' agents are their status keys,
// written as pkg/dockeripam/book.ts writes them.
import { describe, expect, it } from 'vitest';
import { eventually, expectOneTerm, obj, statusOf, WAKE_TEST_BACKOFF } from './controller-helpers.js';
import { useMacvlanParts } from './macvlan-parts.js';

/** Long enough to look at the round after the release while it lasts; short for the test. */
const COOLDOWN_MS = 6_000;
const fx = useMacvlanParts({ addressCooldownMs: COOLDOWN_MS, waitBackoff: WAKE_TEST_BACKOFF });
const { partOf, claimed, report } = fx;

const nic = (name: string, node: string, mvn: string) =>
  obj('ContainerNic', name, { node, container: name, ifName: 'mv0', network: { macvlanNet: mvn } });
const ipOf = async (name: string) => statusOf(await fx.store.get('ContainerNic', name)).ip as string | undefined;
const gone = async (name: string) => !(await fx.store.get('ContainerNic', name));
/** Waits out the cooldown, then long enough for the round looked at again at its end. */
const COOLED_WAIT_MS = COOLDOWN_MS + 6_000;

describe('an address a ContainerNic released on a MacvlanNet', () => {
  it('is not a node\'s refilled pre-claim before the cooldown, and the asking node is told so, not that the pool is used up', async () => {
    // a /29: the node's shim, one NIC, and the node's containers use the six others
    await fx.segment('cool', { subnet: '198.19.61.0/24', ipRange: '198.19.61.8/29', dockerIPAM: 'xnet', hostShim: true }, 'cool', ['co-1']);
    await fx.store.applyAll([nic('cn-1', 'co-1', 'cool')]);
    const freed = await eventually(() => ipOf('cn-1'), 'cn-1 allocated');
    await report('cool', 'co-1', {});
    const held = await eventually(async () => { const a = (await partOf('cool', 'co-1'))?.addresses; return a?.length === 6 && a; }, 'co-1 holds the six others');
    await report('cool', 'co-1', { assigned: held.map((ip) => ({ ip })), want: 1 });
    await eventually(async () => (await partOf('cool', 'co-1'))?.usedUp === true, 'the pool used up for co-1');
    // the NIC goes (its agent never put it anywhere: released at once); co-1 still asks
    await fx.store.delete('ContainerNic', 'cn-1');
    await eventually(() => gone('cn-1'), 'cn-1 gone');
    const waiting = await eventually(async () => { const p = await partOf('cool', 'co-1'); return p && !p.usedUp && p; }, 'co-1\'s part after the release');
    expect(waiting.addresses).toEqual(held);
    expect((await claimed('cool')).get(freed)).toBeUndefined();
    expect(waiting.ready).toBe(false);
    expect(waiting.message).toMatch(/^no address at hand for its containers yet: every free address in the range was released less than 6 s ago; the first is reused in [1-6] s$/);
    expect(statusOf(await fx.store.get('MacvlanNet', 'cool')).poolUsedUp).toBeUndefined();
    // once cooled, it is co-1's, without anything else happening to wake the round
    const given = await eventually(async () => { const c = (await claimed('cool')).get(freed); return c && c; }, `${freed} claimed again`, COOLED_WAIT_MS);
    expect(given).toMatchObject({ role: 'node-pool', node: 'co-1' });
    expect((await partOf('cool', 'co-1'))?.addresses).toContain(freed);
    expectOneTerm({ termsLed: fx.termsLed() });
    await fx.expectClean();
  }, 60_000);

  it('is not a joining node\'s shim address before the cooldown; the node waits, says why, and gets it after', async () => {
    // a /29: cs-1's shim and seven NICs, then one NIC goes and cs-2 joins, wanting a shim
    await fx.segment('cools', { subnet: '198.19.62.0/24', ipRange: '198.19.62.8/29', dockerIPAM: 'xnet', hostShim: true }, 'cools', ['cs-1']);
    const nics = Array.from({ length: 7 }, (_, i) => nic(`cs-nic-${i}`, 'cs-1', 'cools'));
    await fx.store.applyAll(nics);
    for (const n of nics) await eventually(() => ipOf(n.metadata.name), `${n.metadata.name} allocated`);
    const freed = (await ipOf('cs-nic-3'))!;
    await fx.store.delete('ContainerNic', 'cs-nic-3');
    await eventually(async () => await gone('cs-nic-3') && !(await claimed('cools')).has(freed), 'cs-nic-3 gone, its claim too');
    await fx.join('cools', ['cs-2']);
    const waiting = await eventually(() => partOf('cools', 'cs-2'), 'cs-2\'s part');
    expect(waiting.shimAddress).toBeUndefined();
    expect((await claimed('cools')).get(freed)).toBeUndefined();
    expect(waiting.message).toMatch(/^no address for the host shim yet: every free address in the range was released less than 6 s ago; the first is reused in [1-6] s$/);
    // the MacvlanNet's Ready says it waits, as the node's part does, not that the pool has none
    expect(await fx.ready('cools')).toMatchObject({ status: 'False', reason: 'PoolExhausted', message: '1 node(s) wait for a Docker block or shim address: every free one was released less than 6 s ago (--address-cooldown)' });
    const shim = await eventually(async () => (await partOf('cools', 'cs-2'))?.shimAddress, 'cs-2\'s shim address', COOLED_WAIT_MS);
    expect(shim).toBe(freed);
    expect((await claimed('cools')).get(freed)).toMatchObject({ role: 'shim', node: 'cs-2' });
    expectOneTerm({ termsLed: fx.termsLed() });
    await fx.expectClean();
  }, 60_000);

  it('dockerIPAM blocks: is in no joining node\'s Docker block before the cooldown; the node waits, says why, and gets that block after', async () => {
    // two /29 blocks in the range: bl-1's at the top, one NIC in the other, which then goes
    await fx.segment('coolb', { subnet: '198.19.63.0/24', ipRange: '198.19.63.16/28', dockerIPAM: 'blocks', blockPrefix: 29, hostShim: false }, 'coolb', ['bl-1']);
    expect(await eventually(async () => (await partOf('coolb', 'bl-1'))?.dockerRange, 'bl-1\'s block')).toBe('198.19.63.24/29');
    await fx.store.applyAll([nic('bl-nic', 'bl-1', 'coolb')]);
    const freed = await eventually(() => ipOf('bl-nic'), 'bl-nic allocated');
    expect(freed).toBe('198.19.63.16');
    await fx.store.delete('ContainerNic', 'bl-nic');
    await eventually(async () => await gone('bl-nic') && !(await claimed('coolb')).has(freed), 'bl-nic gone, its claim too');
    await fx.join('coolb', ['bl-2']);
    // Docker hands out its block's lowest address first: the block holding the cooling one waits
    const waiting = await eventually(() => partOf('coolb', 'bl-2'), 'bl-2\'s part');
    expect(waiting.dockerRange).toBeUndefined();
    expect(waiting.message).toMatch(/^no \/29 block for Docker yet: every free one holds an address released less than 6 s ago; the first is reused in [1-6] s$/);
    expect((await fx.ready('coolb'))?.message).toBe('1 node(s) wait for a Docker block or shim address: every free one was released less than 6 s ago (--address-cooldown)');
    const block = await eventually(async () => (await partOf('coolb', 'bl-2'))?.dockerRange, 'bl-2\'s block', COOLED_WAIT_MS);
    expect(block).toBe('198.19.63.16/29');
    expectOneTerm({ termsLed: fx.termsLed() });
    await fx.expectClean();
  }, 60_000);
});

describe('a deleted Node\'s pre-claimed addresses', () => {
  it('are not another node\'s refilled pre-claims before the cooldown: nobody gave them back', async () => {
    // a /29, all of it pre-claimed by gn-1, whose containers use every one; gn-2 then asks
    await fx.segment('coolg', { subnet: '198.19.64.0/24', ipRange: '198.19.64.8/29', dockerIPAM: 'xnet', hostShim: false }, 'coolg', ['gn-1']);
    await report('coolg', 'gn-1', {});
    const held = await eventually(async () => { const a = (await partOf('coolg', 'gn-1'))?.addresses; return a?.length === 8 && a; }, 'gn-1 holds all eight');
    await report('coolg', 'gn-1', { assigned: held.map((ip) => ({ ip })) });
    await fx.join('coolg', ['gn-2']);
    await report('coolg', 'gn-2', { want: 1 });
    await eventually(async () => (await partOf('coolg', 'gn-2'))?.usedUp === true, 'the pool used up for gn-2');
    // gn-1 goes, its host with its containers and its agent's report: a deleted Node keeps
    // nothing, and neighbours' ARP caches still map its addresses to its containers' MACs
    await fx.store.delete('Node', 'gn-1');
    await fx.store.deleteStatus('MacvlanNet', 'coolg', { node: 'gn-1' });
    const waiting = await eventually(async () => {
      const p = await partOf('coolg', 'gn-2');
      return p && ((p.addresses?.length ?? 0) > 0 || /released less than/.test(p.message ?? '')) && p;
    }, 'gn-2 refilled, or told it waits for the cooldown');
    expect(waiting.addresses ?? []).toEqual([]);
    expect(waiting.message).toMatch(/^no address at hand for its containers yet: every free address in the range was released less than 6 s ago; the first is reused in [1-6] s$/);
    expect(statusOf(await fx.store.get('MacvlanNet', 'coolg')).poolUsedUp).toBeUndefined();
    // once cooled, gn-2's refill takes them
    const given = await eventually(async () => [...(await claimed('coolg')).values()].find((c) => c.node === 'gn-2'), 'gn-2 refilled', COOLED_WAIT_MS);
    expect(held).toContain(given.ip);
    expectOneTerm({ termsLed: fx.termsLed() });
    await fx.expectClean();
  }, 60_000);

  it('are that Node\'s own again at once once it is made again: its refill takes them back, not higher ones', async () => {
    // a /28: gn-3 pre-claims its lowest eight, none in use, and is deleted; its part freed
    await fx.segment('coolm', { subnet: '198.19.65.0/24', ipRange: '198.19.65.0/28', dockerIPAM: 'xnet', hostShim: false }, 'coolm', ['gn-3']);
    await report('coolm', 'gn-3', {});
    const held = await eventually(async () => { const a = (await partOf('coolm', 'gn-3'))?.addresses; return a?.length === 8 && a; }, 'gn-3 holds eight');
    await fx.store.delete('Node', 'gn-3');
    await eventually(async () => (await claimed('coolm')).size === 0, 'gn-3\'s pre-claims freed');
    // made again (its agent re-registering) well inside the cooldown
    await fx.join('coolm', ['gn-3']);
    await report('coolm', 'gn-3', {});
    const again = await eventually(async () => { const a = (await partOf('coolm', 'gn-3'))?.addresses; return a?.length && a; }, 'gn-3 refilled');
    expect(again).toEqual(held);
    await fx.expectClean();
  }, 60_000);
});
