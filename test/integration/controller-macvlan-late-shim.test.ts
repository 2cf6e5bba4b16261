// Issue 10, late joiners: nodes that join a small MacvlanNet (dockerIPAM xnet, hostShim) after
// a first node took what was free at hand. Found in a bug hunt: the late nodes lack shims, the
// first node is asked to give back above its share and does, but its returned addresses cool
// down for a shim (--address-cooldown) and not for another node's refill, so the late nodes'
// refills took them in the next round: one late node never got a shim (its part said "no free
// address left for the host shim" for good, the MacvlanNet Ready=False), while every node held
// idle pre-claims at its share and nobody was asked for more. Real etcd, the real controller;
// the nodes' reports are written as their agents write them (macvlan-parts.ts).
import { describe, expect, it } from 'vitest';
import { surplusOf } from '../../pkg/dockeripam/report.js';
import { eventually } from './controller-helpers.js';
import { useMacvlanParts } from './macvlan-parts.js';

// a cooldown the test outwaits (the default 30 s would only make it slower)
const COOLDOWN_MS = 2000;
const fx = useMacvlanParts({ addressCooldownMs: COOLDOWN_MS });
const { parts, partOf, ready, report } = fx;

describe('nodes that join a small MacvlanNet with host shims after a first node', () => {
  it('each gets a shim once the first node gives back, and the MacvlanNet is Ready', async () => {
    await fx.segment('lateshim', { subnet: '198.19.203.0/24', ipRange: '198.19.203.8/29', dockerIPAM: 'xnet', hostShim: true }, 'lateshim', ['ls-1']);
    await report('lateshim', 'ls-1', {});
    // alone, ls-1 has its shim and the seven others at hand
    const first = await eventually(async () => { const p = await partOf('lateshim', 'ls-1'); return p?.shimAddress && p.addresses?.length === 7 ? p : undefined; }, 'ls-1 holds 7');
    await fx.join('lateshim', ['ls-2', 'ls-3']);
    for (const n of ['ls-2', 'ls-3']) await report('lateshim', n, {});
    // no address for their shims: ls-1 is asked to keep fewer, and its agent gives back the rest
    const asked = await eventually(async () => { const p = await partOf('lateshim', 'ls-1'); return p?.maxFree !== undefined && p; }, 'ls-1 asked to give back');
    await report('lateshim', 'ls-1', { returned: surplusOf(first.addresses!, asked.maxFree) });
    // what it gave back cools down for a shim; within seconds of that, every node has one
    const all = await eventually(async () => {
      const p = await parts('lateshim');
      return p.length === 3 && p.every((n) => n.shimAddress) && p;
    }, 'a shim for every node', 5 * COOLDOWN_MS + 5000);
    expect(new Set(all.flatMap((n) => [n.shimAddress, ...n.addresses ?? []])).size).toBe(all.flatMap((n) => [n.shimAddress, ...n.addresses ?? []]).length);
    await report('lateshim', 'ls-1', {});
    await eventually(async () => (await ready('lateshim'))?.status === 'True', 'lateshim Ready', 10_000);
    await fx.expectClean();
  }, 60_000);
});
