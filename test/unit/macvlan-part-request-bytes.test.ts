// A node's pre-claims in one MacvlanNet are bounded (MAX_NODE_PRECLAIMS, macvlan-requests.ts):
// without the bound a lying node got 256 more per report by `requested` (docs/security.md) and,
// on a pool larger than a /16, came to hold so many that its part of the status (always put
// with its claims) made the round's transaction larger than a stock etcd's 1.5 MiB request:
// refused on every retry, and every other node's refills and shims in that MacvlanNet with it.
// A node holding more from before keeps it, but its part is never planned past the limit.
// Both bounds lowered (macvlan-big-node.ts): the positions are what is tested, not 1.5 MiB.
import { describe, expect, it } from 'vitest';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';
import { LOW_BYTES, LOW_CAP, TOO_MANY, addr, bigNet } from './macvlan-big-node.js';

describe('a touched node part larger than the request limit', () => {
  it('is not planned into a transaction over the limit', () => {
    const { ctx, hold, report, plan } = bigNet(['liar', 'other']);
    hold('liar', TOO_MANY);
    // the liar asks for one more free address by name
    report('liar', { requested: [addr(TOO_MANY + 100)] });
    const p = plan();
    planMacvlanNodes(ctx, 'big', p, new Map());
    expect(p.size.bytes, `planned ${p.size.ops} ops, ${p.size.bytes} bytes`).toBeLessThanOrEqual(LOW_BYTES);
  });
});

describe('a node at the bound of pre-claims', () => {
  /** `liar` holds `count`, every one in use, and asks for `requested` by name and `want` more at hand */
  function atBound(count: number, requested: string[], want: number) {
    const net = bigNet(['liar']);
    net.hold('liar', count);
    net.report('liar', { assigned: Array.from({ length: count }, (_, j) => ({ ip: addr(j), container: `c${j}` })), requested, want });
    return net;
  }

  it('is granted a requested address up to the bound and refused past it, naming the bound', async () => {
    const { ctx, cache, client, held, part, plan } = atBound(LOW_CAP - 1, [addr(1000), addr(1001)], 0);
    const p = plan();
    planMacvlanNodes(ctx, 'big', p, new Map());
    expect(await p.commit(client, cache)).toBe(true);
    expect(held('liar')).toBe(LOW_CAP);
    expect(part('liar').refusedRequests).toEqual([{ ip: addr(1001), reason: expect.stringContaining(`already holds ${LOW_CAP} pre-claimed addresses`) }]);
  });

  it('gets no refill past the bound', async () => {
    const { ctx, cache, client, held, plan } = atBound(LOW_CAP - 2, [], 8);
    const p = plan();
    planMacvlanNodes(ctx, 'big', p, new Map());
    expect(await p.commit(client, cache)).toBe(true);
    expect(held('liar')).toBe(LOW_CAP);
  });
});
