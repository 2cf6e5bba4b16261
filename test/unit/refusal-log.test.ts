// How many "skipped a key that does not decode" lines a cache writes (pkg/runtime/refusal-log.ts):
// one when a key turns unreadable, none for each bad value after, and all keys within a budget
// whose overflow is counted on the next line. A clock the test moves stands in for the monotonic one.
import { describe, expect, it } from 'vitest';
import { RefusalLog } from '../../pkg/runtime/refusal-log.js';

describe('the refusal log budget', () => {
  it('writes a key once while it stays unreadable, and again once it was readable in between', () => {
    const r = new RefusalLog(10, 1, () => 0);
    expect(r.line(false)).toEqual({});
    for (let i = 0; i < 1000; i++) expect(r.line(true)).toBeUndefined();
    expect(r.line(false)).toEqual({});
  });

  it('writes at most the burst, then the rate, and the next line counts what was not written', () => {
    const clock = { t: 0 };
    const r = new RefusalLog(3, 1, () => clock.t);
    const written = Array.from({ length: 50 }, () => r.line(false)).filter((l) => l !== undefined);
    expect(written).toHaveLength(3);
    clock.t += 1000;
    expect(r.line(false)).toEqual({ notLoggedBefore: 47 });
    expect(r.line(false)).toBeUndefined();
  });
});
