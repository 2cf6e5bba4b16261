// Whether a failed request reached etcd, told from each of its attempts (pkg/etcd/attempts.ts):
// what xctl's write says of a transaction whose answer never came rests on it.
import { describe, expect, it } from 'vitest';
import { attemptFailed, noneReached, trackAttempts, type Attempts } from '../../pkg/etcd/attempts.js';

const tracked = async (failures: boolean[]): Promise<Attempts> => {
  const a: Attempts = { failed: 0, mayHaveReached: false };
  await trackAttempts(a, async () => {
    for (const withoutEffect of failures) {
      await new Promise((r) => setTimeout(r, 1));
      attemptFailed(withoutEffect);
    }
  });
  return a;
};

describe('attempts of a request', () => {
  it('none reached etcd only when every attempt failed without reaching it', async () => {
    expect(noneReached(await tracked([true, true, true]))).toBe(true);
    // a first attempt sent on a connection that then dropped, the next ones refused a connection
    expect(noneReached(await tracked([false, true, true]))).toBe(false);
  });

  it('no attempt noted (a client that notes none) tells nothing: they may have reached it', async () => {
    expect(noneReached(await tracked([]))).toBe(false);
  });

  it('an attempt outside the tracked call is not counted', async () => {
    const a: Attempts = { failed: 0, mayHaveReached: false };
    await trackAttempts(a, async () => undefined);
    attemptFailed(false);
    expect(a).toEqual({ failed: 0, mayHaveReached: false });
  });
});

describe('attempts tracked side by side', () => {
  it('a call that ends first leaves the other call still noting its attempts', async () => {
    const a: Attempts = { failed: 0, mayHaveReached: false };
    const b: Attempts = { failed: 0, mayHaveReached: false };
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const slow = trackAttempts(b, async () => {
      await gate;
      attemptFailed(false);
    });
    await trackAttempts(a, async () => { attemptFailed(true); });
    release();
    await slow;
    expect(a).toEqual({ failed: 1, mayHaveReached: false });
    expect(b).toEqual({ failed: 1, mayHaveReached: true });
  });
});
