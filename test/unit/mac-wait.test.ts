import { describe, expect, it } from 'vitest';
import { MacWaits } from '../../pkg/agent/mac-wait.js';
import { MAC_WAIT_BACKOFF } from '../../pkg/runtime/backoff.js';

describe('MacWaits: a macvlan NIC waiting for its declared MAC', () => {
  it('tries again 500 ms doubling to 2 s apart, per NIC, and starts over once the MAC is set', () => {
    const w = new MacWaits();
    expect([1, 2, 3, 4].map(() => w.refusedAgain('a'))).toEqual([500, 1000, 2000, 2000]);
    expect(w.refusedAgain('b')).toBe(500);
    w.clear('a');
    expect(w.refusedAgain('a')).toBe(500);
  });

  it('searches for the NIC\'s own stale link at the first refusal, then every 8th', () => {
    const w = new MacWaits();
    const due: boolean[] = [];
    for (let i = 0; i < 17; i++) { due.push(w.searchDue('a')); w.refusedAgain('a'); }
    expect(due.map((x, i) => x ? i : -1).filter((i) => i >= 0)).toEqual([0, 8, 16]);
  });

  it('is bounded: after the policy\'s attempts it says undefined (the work queue\'s backoff takes over)', () => {
    const w = new MacWaits({ ...MAC_WAIT_BACKOFF, maxAttempts: 3 });
    expect([1, 2, 3].map(() => w.refusedAgain('a'))).toEqual([500, 1000, undefined]);
    expect(MAC_WAIT_BACKOFF.maxAttempts).toBeGreaterThan(0);
  });
});
