// mapLimit: results in order, never more than `limit` calls in flight.
import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../pkg/runtime/map-limit.js';

describe('mapLimit', () => {
  it('keeps the order of the items and at most `limit` calls in flight', async () => {
    let inFlight = 0, most = 0;
    const out = await mapLimit(Array.from({ length: 50 }, (_, i) => i), async (i) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, (i * 7) % 5));
      inFlight--;
      return i * 2;
    }, 4);
    expect(out).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
    expect(most).toBe(4);
  });

  it('takes no items, and a rejection ends it with that error', async () => {
    expect(await mapLimit([], async () => 1)).toEqual([]);
    await expect(mapLimit([1, 2, 3], async (i) => { if (i === 2) throw new Error('no 2'); return i; }, 2)).rejects.toThrow('no 2');
  });
});
