// A small MacvlanNet pool (dockerIPAM: xnet) shared by several nodes, with a real etcd and the
// real controller; the nodes' reports are written as their agents would. Found in the lab:
// `tiny` (ipRange a /29, three nodes with shims) gave host-1 all five addresses left after the
// shims; host-2's `docker run` waited 20 s and failed while Ready stayed True.
import { describe, expect, it } from 'vitest';
import { surplusOf } from '../../pkg/dockeripam/report.js';
import { eventually } from './controller-helpers.js';
import { listEvents } from '../../pkg/events/read.js';
import { useMacvlanParts } from './macvlan-parts.js';

const fx = useMacvlanParts();
const { parts, partOf, ready, report } = fx;
/** The MacvlanNet's PoolExhausted event, if the controller recorded one. */
const exhausted = async (mvn: string) => (await listEvents(fx.etcd.client(), fx.prefix, { kind: 'MacvlanNet', name: mvn })).items.find((e) => e.reason === 'PoolExhausted');

describe('a small MacvlanNet pool shared by several nodes', () => {

  it('gives each node a share of the addresses left after the shims, and says which node has none and why', async () => {
    const nodes = ['ti-1', 'ti-2', 'ti-3'];
    await fx.segment('tiny', { subnet: '198.19.201.0/24', ipRange: '198.19.201.8/29', dockerIPAM: 'xnet', hostShim: true }, 'tiny', nodes);
    for (const n of nodes) await report('tiny', n, {});
    // 8 addresses: three shims, then one at hand for each node (their share of the five left), two free
    const all = await eventually(async () => { const p = await parts('tiny'); return p.length === 3 && p.every((n) => n.shimAddress && n.addresses?.length) && p; }, 'a shim and an address for each node');
    await new Promise((r) => setTimeout(r, 500));
    expect((await parts('tiny')).map((n) => n.addresses?.length)).toEqual([1, 1, 1]);
    expect(new Set(all.flatMap((n) => [n.shimAddress, ...n.addresses!])).size).toBe(6);
    expect((await ready('tiny'))?.status).toBe('True');
    // ti-1 runs containers, asking for one more each time it has none: it gets the two left free
    let held = (await partOf('tiny', 'ti-1'))!.addresses!;
    for (const size of [2, 3]) {
      await report('tiny', 'ti-1', { assigned: held.map((ip) => ({ ip })), want: 1 });
      held = (await eventually(async () => { const a = (await partOf('tiny', 'ti-1'))?.addresses; return a?.length === size && a; }, `ti-1 holds ${size}`));
    }
    // the pool is used up: its next container waits, and the status says why
    await report('tiny', 'ti-1', { assigned: held.map((ip) => ({ ip })), want: 1 });
    const starved = await eventually(async () => { const p = await partOf('tiny', 'ti-1'); return p?.ready === false && p; }, 'ti-1 not ready');
    expect(starved.message).toBe('no free address for its containers: all 8 of the pool\'s addresses are taken; idle ones are held by ti-2 (1), ti-3 (1)');
    // idle ones elsewhere: not used up everywhere, the plugin is not told to refuse at once
    expect(starved.usedUp).toBeUndefined();
    const cond = await ready('tiny');
    expect(cond?.status).toBe('False');
    expect(cond?.message).toContain('ti-1: no free address for its containers');
    // every node keeps its one at hand: nothing is asked back below the share, and a Warning says so
    expect((await parts('tiny')).some((n) => n.maxFree !== undefined)).toBe(false);
    expect(await eventually(() => exhausted('tiny'), 'a PoolExhausted event')).toMatchObject({ type: 'Warning', message: expect.stringContaining('ti-1: no free address') });
    // a container goes: ti-1 has one at hand again and is ready
    await report('tiny', 'ti-1', { assigned: held.slice(1).map((ip) => ({ ip })), want: 0 });
    await eventually(async () => (await ready('tiny'))?.status === 'True', 'tiny Ready again');
    await fx.expectClean();
  }, 60_000);

  it('asks a node holding the whole pool idle to give back above its share while others have none, and they get it', async () => {
    await fx.segment('late', { subnet: '198.19.202.0/24', ipRange: '198.19.202.8/29', dockerIPAM: 'xnet', hostShim: false }, 'late', ['la-1']);
    await report('late', 'la-1', {});
    // alone, la-1 has the whole range at hand
    const all = await eventually(async () => { const a = (await partOf('late', 'la-1'))?.addresses; return a?.length === 8 && a; }, 'la-1 holds 8');
    // two nodes join; their agents ask for an address for their first container
    await fx.join('late', ['la-2', 'la-3']);
    for (const n of ['la-2', 'la-3']) await report('late', n, { want: 1 });
    const la2 = await eventually(async () => { const p = await partOf('late', 'la-2'); return p?.ready === false && p.message?.startsWith('no free') && p; }, 'la-2 says why it has none');
    expect(la2.message).toBe('no free address for its containers: all 8 of the pool\'s addresses are taken; idle ones are held by la-1 (8), asked to keep at most 2');
    expect(la2.usedUp).toBeUndefined(); // being rebalanced: its request waits for it
    expect((await ready('late'))?.status).toBe('False');
    const la1 = await eventually(async () => { const p = await partOf('late', 'la-1'); return p?.maxFree !== undefined && p; }, 'la-1 gets a limit');
    expect(la1.maxFree).toBe(2);
    // what la-2 and la-3 wait for comes back within seconds: said, not warned of
    expect(await eventually(() => exhausted('late'), 'a PoolExhausted event')).toMatchObject({ type: 'Normal', message: expect.stringContaining('asked to keep at most 2') });
    // la-1's agent gives back what it holds free above the limit (pkg/dockeripam/book.ts)
    await report('late', 'la-1', { returned: surplusOf(all, la1.maxFree) });
    const after = await eventually(async () => {
      const p = await parts('late');
      return p.length === 3 && p.every((n) => n.addresses?.length === 2) && p;
    }, 'two at hand for each node', 15_000);
    expect(after.find((n) => n.name === 'la-1')!.addresses).toEqual(all.slice(0, 2));
    // they got their addresses; their agents stop asking: no limit, Ready
    for (const n of ['la-2', 'la-3']) await report('late', n, {});
    await report('late', 'la-1', {});
    await eventually(async () => (await ready('late'))?.status === 'True', 'late Ready');
    expect((await parts('late')).some((n) => n.maxFree !== undefined)).toBe(false);
    await fx.expectClean();
  }, 60_000);
});
