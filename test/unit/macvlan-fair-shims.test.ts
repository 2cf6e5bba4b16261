// The round's fair shares of a small MacvlanNet pool (pkg/controller/macvlan-fair.ts fairRound)
// while some nodes have no host shim yet: a missing shim is counted as a waiting ContainerNic
// is, so the refills leave it what is free (a returned pre-claim cools down for a shim, not for
// a refill: the late nodes' refills took what the first node gave back for their shims, and one
// node waited for its shim for good), and when nothing is free the nodes holding idle
// pre-claims are asked for it. Pure: the integration tests are controller-macvlan-late-shim and
// agent-macvlan-late-shim.
import { describe, expect, it } from 'vitest';
import { fairRound, starvedWhy, type FairInput } from '../../pkg/controller/macvlan-fair.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';

const BASE = parseIPv4('198.19.203.8');
/** a /29 ipRange: 8 addresses */
const RANGE = [{ first: BASE, last: BASE + 7 }];

/** `held`: each node's pre-claims (all idle), `shims`: the nodes that have one; every other address is free. */
function input(held: Record<string, number>, shims: string[], opts: { hostShim?: boolean; nics?: number } = {}): FairInput {
  const nodes = Object.keys(held);
  const pools = new Map<string, Set<number>>();
  const taken = new Set<number>();
  let next = BASE;
  for (let i = 0; i < shims.length; i++) taken.add(next++);
  for (const n of nodes) {
    const s = new Set<number>();
    for (let i = 0; i < held[n]; i++) { s.add(next); taken.add(next++); }
    pools.set(n, s);
  }
  return {
    range: RANGE, taken, nodes,
    held: (n) => pools.get(n)!,
    report: () => ({ assigned: [], returned: [], external: [], requested: [], want: 8 }),
    reporting: () => true,
    lacksShim: (n) => (opts.hostShim ?? true) && !shims.includes(n),
    nicsWaiting: () => opts.nics ?? 0,
  };
}

describe('a small pool\'s round while nodes lack their host shim', () => {
  it('leaves the refills what is free less one address per missing shim', () => {
    // a gave back 5 (cooling down for a shim): b and c have no shim yet
    const r = fairRound(input({ a: 2, b: 0, c: 0 }, ['a']))!;
    expect(r.spare).toBe(3);
    expect(r.short).toBe(0);
    // and the NICs waiting come on top
    expect(fairRound(input({ a: 2, b: 0, c: 0 }, ['a'], { nics: 1 }))!.spare).toBe(2);
  });

  it('asks the nodes holding idle pre-claims for a missing shim when nothing is free, also within their share', () => {
    // 8 addresses: a, b, c and d each a shim and 1 idle; e, which joined last, has no shim
    const r = fairRound(input({ a: 1, b: 1, c: 1, d: 1, e: 0 }, ['a', 'b', 'c', 'd']))!;
    expect(r.spare).toBe(0);
    expect(r.short).toBe(1);
    // nobody holds more than its share (1), yet they are asked to give back: e's shim comes first
    expect(r.limit).toBe(0);
  });

  it('counts no shim on a MacvlanNet without host shims', () => {
    const r = fairRound(input({ a: 1, b: 1, c: 1, d: 1, e: 0 }, [], { hostShim: false }))!;
    expect(r.short).toBe(0);
    expect(r.spare).toBe(4);
    expect(r.limit).toBeUndefined();
  });

  it('says what is free is kept for the missing shims when a node has none at hand', () => {
    // a: its shim and 6 addresses its containers use, asking for more; b (made again) has no
    // shim yet: the one free address (b's old shim, cooling down) is kept for it
    const used = Array.from({ length: 6 }, (_, i) => BASE + 1 + i);
    const report = { assigned: used.map((ip) => ({ ip: formatIPv4(ip) })), returned: [], external: [], requested: [], want: 1 };
    const r = fairRound({
      range: RANGE, taken: new Set([BASE, ...used]), nodes: ['a', 'b'],
      held: (n) => new Set(n === 'a' ? used : []), report: (n) => (n === 'a' ? report : undefined), reporting: () => true,
      lacksShim: (n) => n === 'b', nicsWaiting: () => 0,
    })!;
    expect(r.spare).toBe(0);
    expect(starvedWhy(r, 'a', 0, report)).toBe('no free address for its containers: all 8 of the pool\'s addresses are taken or kept for 1 host shim(s), none idle on another node');
  });
});
