// dockerIPAM xnet: a pre-claim a node's ARP probe found answering is marked `external` (someone
// outside xnet uses it: handed to no container while that Node exists). The status said so and
// nothing else: the controller now records a Warning on the MacvlanNet, once, naming the address
// and the node, where `xctl get events` and `describe` show it. Real etcd, the real controller;
// the agent is its status key, written as book.ts writes it.
import { describe, expect, it } from 'vitest';
import { listEvents } from '../../pkg/events/read.js';
import { eventually } from './controller-helpers.js';
import { useMacvlanParts } from './macvlan-parts.js';

const fx = useMacvlanParts();

describe('a pre-claim that answered a node\'s ARP probe', () => {
  it('is marked external and told once in a Warning naming the address and the node', async () => {
    await fx.segment('probed', { subnet: '198.19.80.0/24', ipRange: '198.19.80.8/29', dockerIPAM: 'xnet', hostShim: true }, 'probed', ['ex-1']);
    await fx.report('probed', 'ex-1', {});
    const part = await eventually(async () => { const p = await fx.partOf('probed', 'ex-1'); return p?.addresses?.length ? p : undefined; }, 'ex-1 holds addresses at hand');
    const answered = part.addresses![0];
    await fx.report('probed', 'ex-1', { external: [answered] });
    await eventually(async () => (await fx.claimed('probed')).get(answered)?.role === 'external', `${answered} marked external`);
    const events = async () => (await listEvents(fx.etcd.client(), fx.prefix, { kind: 'MacvlanNet', name: 'probed' })).items.filter((e) => e.reason === 'AddressInUseOutside');
    const [ev] = await eventually(async () => { const e = await events(); return e.length ? e : undefined; }, 'the Warning');
    expect(ev.type).toBe('Warning');
    expect(ev.message).toBe(`${answered} answered an ARP probe of node ex-1: something outside xnet uses it; handed to no container while that Node exists (status.external)`);
    // the agent reports the same again: no second mark, no second event
    await fx.report('probed', 'ex-1', { external: [answered] });
    await new Promise((r) => setTimeout(r, 500));
    expect((await events()).map((e) => e.count)).toEqual([1]);
    await fx.expectClean();
  }, 60_000);
});
