// dockerIPAM xnet pre-claims a few addresses for each selected node so that `docker run` there
// gets one at once. A Node whose agent never reported (AgentNotStarted: Nodes applied ahead of
// their hosts) had its pre-claims refilled all the same: on a small segment those addresses were
// what the other nodes needed, and many sat with nobody. Real etcd, the real controller; the
// nodes' agents are written as they write (their first beat, then their report on the network).
import { describe, expect, it } from 'vitest';
import { beat, eventually, statusOf } from './controller-helpers.js';
import { useMacvlanParts } from './macvlan-parts.js';

const fx = useMacvlanParts();
const { partOf, claimed } = fx;

/** The node-pool claims the MacvlanNet holds for `node`, by address. */
const preClaimsOf = async (mvn: string, node: string) => [...(await claimed(mvn)).values()].filter((c) => c.role === 'node-pool' && c.node === node).map((c) => c.ip).sort();

describe('a MacvlanNet (dockerIPAM: xnet) selecting a Node whose agent never reported', () => {
  it('pre-claims nothing for it until its agent beats, then refills it within seconds', async () => {
    await fx.segment('ahead', { subnet: '198.19.73.0/24', ipRange: '198.19.73.16/28', dockerIPAM: 'xnet', hostShim: false }, 'ahead', ['ns-1', 'ns-2']);
    // ns-1's agent beats and reports; ns-2's host is not there yet
    await fx.report('ahead', 'ns-1', {});
    const first = await eventually(async () => { const p = await partOf('ahead', 'ns-1'); return (p?.addresses?.length ?? 0) > 0 && p; }, 'ns-1 has pre-claims');
    // written in the same transaction as ns-1's addresses: ns-2's part of that round
    const waiting = (await partOf('ahead', 'ns-2'))!;
    expect(waiting).toMatchObject({ ready: false, message: 'waiting for the node\'s agent' });
    expect(waiting.addresses ?? []).toEqual([]);
    expect(await preClaimsOf('ahead', 'ns-2')).toEqual([]);
    expect(statusOf(await fx.store.get('Node', 'ns-2')).conditions?.find((c) => c.type === 'Ready')).toMatchObject({ reason: 'AgentNotStarted' });
    // ns-2's agent starts: its first beat, before any report on the network, is enough
    await beat(fx.store, 'ns-2');
    const second = await eventually(async () => { const p = await partOf('ahead', 'ns-2'); return (p?.addresses?.length ?? 0) > 0 && p; }, 'ns-2 has pre-claims after its first beat');
    expect(await preClaimsOf('ahead', 'ns-2')).toEqual([...second.addresses!].sort());
    // ns-1 keeps what it held
    expect((await partOf('ahead', 'ns-1'))!.addresses).toEqual(first.addresses);
    await fx.expectClean();
  }, 60_000);
});
