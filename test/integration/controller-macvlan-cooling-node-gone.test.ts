// Found in review: a MacvlanNet's status.cooling after a deleted Node's pre-claims are freed by the
// round. Those releases cool for every taker (nodeGone), but the round that frees them writes
// the status in the same transaction (counting them free) and nothing queues the MacvlanNet
// again (countedByMacvlanNet: only a NIC's, a shim's or a Docker block's release does), so the
// status says free: 8 for the whole cooldown while no refill may take them.
import { describe, expect, it } from 'vitest';
import { eventually, expectOneTerm, statusOf, WAKE_TEST_BACKOFF } from './controller-helpers.js';
import { useMacvlanParts } from './macvlan-parts.js';

const COOLDOWN_MS = 10_000;
const fx = useMacvlanParts({ addressCooldownMs: COOLDOWN_MS, waitBackoff: WAKE_TEST_BACKOFF });
const { partOf, claimed, report } = fx;
const counts = async (mvn: string) => {
  const s = statusOf(await fx.store.get('MacvlanNet', mvn)) as { allocated?: number; free?: number; cooling?: number };
  return { allocated: s.allocated, free: s.free, cooling: s.cooling };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a deleted Node\'s pre-claims freed by the round', () => {
  it('are counted cooling, not free, while they cool', async () => {
    await fx.segment('hcd', { subnet: '198.19.66.0/24', ipRange: '198.19.66.8/29', dockerIPAM: 'xnet', hostShim: false }, 'hcd', ['hd-1', 'hd-2']);
    await report('hcd', 'hd-1', {});
    await report('hcd', 'hd-2', {});
    await eventually(async () => ((await partOf('hcd', 'hd-1'))?.addresses?.length ?? 0) >= 4, 'hd-1 holds its share');
    // hd-1's agent report goes first (its host gone), then its Node
    await fx.store.deleteStatus('MacvlanNet', 'hcd', { node: 'hd-1' });
    await sleep(1_000);
    const before = (await partOf('hcd', 'hd-1'))?.addresses ?? [];
    expect(before.length).toBeGreaterThan(0);
    await fx.store.delete('Node', 'hd-1');
    await eventually(async () => ![...(await claimed('hcd')).values()].some((c) => c.node === 'hd-1'), 'hd-1\'s pre-claims freed');
    const seen = [JSON.stringify(await counts('hcd'))];
    for (let i = 0; i < 16; i++) { await sleep(500); seen.push(JSON.stringify(await counts('hcd'))); }
    const c = JSON.parse(seen[4]) as { cooling?: number }; // 2 s after the release, well inside the 10 s cooldown
    // hd-1's freed pre-claims cool for every taker (hd-2's refill waits them out): not free
    expect(c.cooling, `status counts ${JSON.stringify(c)} while ${before.length} freed addresses cool`).toBe(before.length);
    expectOneTerm({ termsLed: fx.termsLed() });
  }, 60_000);
});
