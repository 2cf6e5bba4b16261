// A MacvlanNet's status counts as free only the addresses that can be handed out now: one a
// ContainerNic released a moment ago cools down (--address-cooldown) before any taker gets it,
// so it is counted apart (status.cooling) until then. It was counted in status.free, which on a
// small range said "1 free" while every request for an address waited (docs/api.md). Once it has
// cooled the status says so without anything else happening (the round is looked at again
// then). Real etcd and the real controller; the status as `xctl get macvlannet -o yaml` reads it.
import { describe, expect, it } from 'vitest';
import { eventually, expectOneTerm, obj, statusOf, WAKE_TEST_BACKOFF } from './controller-helpers.js';
import { useMacvlanParts } from './macvlan-parts.js';

const COOLDOWN_MS = 6_000;
const fx = useMacvlanParts({ addressCooldownMs: COOLDOWN_MS, waitBackoff: WAKE_TEST_BACKOFF });
const { claimed } = fx;

const nic = (name: string, node: string, mvn: string) =>
  obj('ContainerNic', name, { node, container: name, ifName: 'mv0', network: { macvlanNet: mvn } });
const ipOf = async (name: string) => statusOf(await fx.store.get('ContainerNic', name)).ip as string | undefined;
const counts = async (mvn: string) => {
  const s = statusOf(await fx.store.get('MacvlanNet', mvn)) as { allocated?: number; free?: number; cooling?: number };
  return { allocated: s.allocated, free: s.free, cooling: s.cooling };
};

describe('a MacvlanNet\'s status while a released address cools down', () => {
  it('counts it as cooling, not free, until the cooldown ends, then as free', async () => {
    // a /29: cf-1's shim and seven NICs fill it; then one NIC goes
    await fx.segment('cf', { subnet: '198.19.63.0/24', ipRange: '198.19.63.8/29', dockerIPAM: 'xnet', hostShim: true }, 'cf', ['cf-1']);
    const nics = Array.from({ length: 7 }, (_, i) => nic(`cf-nic-${i}`, 'cf-1', 'cf'));
    await fx.store.applyAll(nics);
    for (const n of nics) await eventually(() => ipOf(n.metadata.name), `${n.metadata.name} allocated`);
    await eventually(async () => (await counts('cf')).free === 0, 'the range full');
    const freed = (await ipOf('cf-nic-3'))!;
    await fx.store.delete('ContainerNic', 'cf-nic-3');
    await eventually(async () => !(await claimed('cf')).has(freed) && (await counts('cf')).allocated === 7, 'cf-nic-3\'s claim gone, the status counting it');
    expect(await counts('cf')).toEqual({ allocated: 7, free: 0, cooling: 1 });
    // cooled: free, without anything else happening to rewrite the status
    await eventually(async () => (await counts('cf')).free === 1, 'the address counted free once cooled', COOLDOWN_MS + 6_000);
    expect(await counts('cf')).toEqual({ allocated: 7, free: 1, cooling: undefined });
    expect((await claimed('cf')).get(freed)).toBeUndefined();
    expectOneTerm({ termsLed: fx.termsLed() });
    await fx.expectClean();
  }, 60_000);
});
