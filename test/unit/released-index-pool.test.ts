// ReleasedIndex.coolingIn: the addresses of one pool still cooling down, which that pool's
// status counts apart from free (pkg/controller/macvlan-status.ts): only that pool's (not one
// whose name starts alike, nor another kind's of the same name), none claimed again, none cooled.
import { describe, expect, it } from 'vitest';
import { ReleasedIndex } from '../../pkg/controller/released-index.js';
import { monotonicMs } from '../../pkg/runtime/clock.js';

const COOLDOWN_MS = 50;
const ipsOf = (idx: ReleasedIndex, pool: string) => [...idx.coolingIn('macvlannets', pool, COOLDOWN_MS)].map((c) => c.ip).sort();

describe('the addresses of one pool cooling down', () => {
  it('are that pool\'s released ones until claimed again or cooled', async () => {
    const idx = new ReleasedIndex(COOLDOWN_MS);
    const now = monotonicMs();
    idx.fileClaim('macvlannets', 'a', 1, { role: 'nic' }, now);
    idx.fileClaim('macvlannets', 'a', 2, { role: 'shim' }, now);
    idx.fileClaim('macvlannets', 'ab', 3, { role: 'nic' }, now);
    idx.fileClaim('clusternetworks', 'a', 4, { role: 'nic' }, now);
    expect(ipsOf(idx, 'a')).toEqual([1, 2]);
    expect([...idx.coolingIn('macvlannets', 'a', COOLDOWN_MS)].find((c) => c.ip === 2)).toEqual({ ip: 2, until: now + COOLDOWN_MS, role: 'shim' });
    idx.fileClaim('macvlannets', 'a', 2, undefined, now); // claimed again
    expect(ipsOf(idx, 'a')).toEqual([1]);
    await new Promise((r) => setTimeout(r, COOLDOWN_MS + 10));
    expect(ipsOf(idx, 'a')).toEqual([]);
    expect(ipsOf(idx, 'ab')).toEqual([]);
  });
});
