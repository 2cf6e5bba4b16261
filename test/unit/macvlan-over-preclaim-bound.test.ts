// A node over the bound of pre-claims (MAX_NODE_PRECLAIMS, lowered to LOW_CAP here:
// macvlan-big-node.ts; it got there before the bound, or its containers hold them all) keeps
// what it holds: none is taken from it. It gets nothing more (no refill, no `docker run --ip`,
// refused naming the bound in its part, no address its report lists in use claimed again), but what it gives back is released as any node's,
// also an address another node asks back by name, and once below the bound it is refilled up to
// it. A node at the bound asking by name for another node's idle pre-claim is refused at once:
// that node is not asked to give back an address the asker could not take (docs/controller.md).
import { describe, expect, it } from 'vitest';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';
import { LOW_CAP, addr, bigNet } from './macvlan-big-node.js';

const inUse = (from: number, to: number) => Array.from({ length: to - from }, (_, j) => ({ ip: addr(from + j), container: `c${from + j}` }));

/** Plans and commits rounds until one is not `more` (at most 5). */
async function settle(net: ReturnType<typeof bigNet>) {
  for (let i = 0; i < 5; i++) {
    const p = net.plan();
    const o = planMacvlanNodes(net.ctx, 'big', p, new Map());
    expect(await p.commit(net.client, net.cache)).toBe(true);
    if (!o.more) return;
  }
}

describe('a node over the bound of pre-claims', () => {
  it('keeps what it holds, is refused more naming the bound, and once its releases bring it below is refilled up to the bound', async () => {
    const net = bigNet(['over']);
    net.hold('over', LOW_CAP + 10);
    net.report('over', { assigned: inUse(0, LOW_CAP + 10), requested: [addr(2000)], want: 8 });
    await settle(net);
    expect(net.held('over')).toBe(LOW_CAP + 10);
    expect(net.part('over').addresses).toHaveLength(LOW_CAP + 10);
    expect(net.part('over').refusedRequests).toEqual([{ ip: addr(2000), reason: expect.stringContaining(`already holds ${LOW_CAP} pre-claimed addresses`) }]);
    // 20 containers gone: their addresses given back
    net.report('over', { assigned: inUse(20, LOW_CAP + 10), returned: Array.from({ length: 20 }, (_, j) => addr(j)), want: 8 });
    await settle(net);
    const after = new Set<string>(net.part('over').addresses);
    expect(Array.from({ length: 20 }, (_, j) => addr(j)).filter((ip) => after.has(ip)), 'given back, still held').toEqual([]);
    expect(net.held('over')).toBe(LOW_CAP);
    expect(after.size).toBe(LOW_CAP);
  });

  it('gives back an address another node asks for by name, which that node gets', async () => {
    const net = bigNet(['asker', 'over']);
    net.hold('over', LOW_CAP + 10);
    net.report('over', { assigned: inUse(1, LOW_CAP + 10) });
    net.report('asker', { requested: [addr(0)] });
    await settle(net);
    expect(net.part('over').giveBack).toEqual([addr(0)]);
    net.report('over', { assigned: inUse(1, LOW_CAP + 10), returned: [addr(0)] });
    await settle(net);
    expect(net.part('over').addresses).not.toContain(addr(0));
    expect(net.part('asker').addresses).toContain(addr(0));
  });
});

describe('a node at the bound asking by name for another node\'s idle pre-claim', () => {
  it('is refused at once naming the bound, and the holder is not asked to give it back', async () => {
    const net = bigNet(['full', 'holder']);
    net.hold('full', LOW_CAP);
    net.hold('holder', 4, 1000);
    net.report('full', { assigned: inUse(0, LOW_CAP), requested: [addr(1000)] });
    await settle(net);
    expect(net.part('holder').giveBack, 'giveBack of holder').toBeUndefined();
    expect(net.part('full').refusedRequests).toEqual([{ ip: addr(1000), reason: expect.stringContaining(`already holds ${LOW_CAP} pre-claimed addresses`) }]);
    expect(net.held('holder')).toBe(4);
  });
});

describe('a node near the bound listing free addresses as in use', () => {
  // what its containers use is claimed again for it (macvlan-reclaim.ts, for a Node deleted and
  // made again while they ran), 256 a report: listing 256 other free addresses in each report, a
  // lying node took them past the bound as by `requested`
  it('gets none of them claimed past the bound', async () => {
    const net = bigNet(['liar']);
    net.hold('liar', LOW_CAP - 2);
    net.report('liar', { assigned: inUse(0, LOW_CAP + 10) });
    await settle(net);
    expect(net.held('liar')).toBe(LOW_CAP);
  });
});
