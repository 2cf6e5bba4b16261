// Whether a starving node's lack is served by a rebalance (pkg/controller/macvlan-fair.ts
// beingRebalanced): then its MacvlanNet's PoolExhausted event is Normal, else a Warning. What
// the other nodes give back goes to the ContainerNics waiting first.
import { describe, expect, it } from 'vitest';
import { beingRebalanced, type FairRound } from '../../pkg/controller/macvlan-fair.js';

const round = (idle: Record<string, number>, limit: number | undefined, short = 0): FairRound => ({
  limit, short, poolSize: 8, nics: short, shims: 0, spare: 0,
  needs: new Map(Object.entries(idle).map(([name, n]) => [name, { name, idle: n, starving: n === 0 }])),
});

describe('beingRebalanced', () => {
  it('is true when others give back above their limit, false without a limit or with nothing above it', () => {
    expect(beingRebalanced(round({ a: 3, b: 0 }, 1), 'b')).toBe(true);
    expect(beingRebalanced(round({ a: 3, b: 0 }, undefined), 'b')).toBe(false);
    expect(beingRebalanced(round({ a: 1, b: 0 }, 1), 'b')).toBe(false);
    expect(beingRebalanced(undefined, 'b')).toBe(false);
  });

  it('counts only what is left once the ContainerNics waiting have theirs', () => {
    // a gives back 2, both for the 2 NICs: b gets nothing
    expect(beingRebalanced(round({ a: 3, b: 0 }, 1, 2), 'b')).toBe(false);
    // a and c give back 3: one left for b
    expect(beingRebalanced(round({ a: 3, c: 2, b: 0 }, 1, 2), 'b')).toBe(true);
    // its own idle addresses are no help to it
    expect(beingRebalanced(round({ b: 5 }, 1), 'b')).toBe(false);
  });
});
