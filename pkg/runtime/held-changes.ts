// Watched changes a KvCache holds instead of applying (KvCache.hold): the newest per key, kept
// in the order they arrived (revision order per watched prefix), raw (not yet admitted). A standby controller holds what it watches and
// decodes it only when it starts leading.
import type { RawKv } from './kv.js';
import { monotonicMs } from './clock.js';

/**
 * A put's value; or a delete, with the put before it when that was held too. `at`: when the
 * watch delivered it (clock.ts: monotonic ms), so what is timed from a change (an address's reuse
 * cooldown) is timed from then, not from the release.
 */
export interface HeldChange { key: string; rev: number; at: number; kv?: RawKv; lastPut?: RawKv }

export class HeldChanges {
  private readonly byKey = new Map<string, HeldChange>();

  put(kv: RawKv, rev: number, at = monotonicMs()): void {
    this.take(kv.key);
    this.byKey.set(kv.key, { key: kv.key, rev, at, kv });
  }

  delete(key: string, rev: number, at = monotonicMs()): void {
    const before = this.take(key);
    this.byKey.set(key, { key, rev, at, lastPut: before?.kv ?? before?.lastPut });
  }

  get size(): number { return this.byKey.size; }

  clear(): void { this.byKey.clear(); }

  /** Removes and returns the oldest `n` changes, in revision order. */
  takeOldest(n: number): HeldChange[] {
    const out: HeldChange[] = [];
    for (const [key, h] of this.byKey) {
      if (out.length >= n) break;
      this.byKey.delete(key);
      out.push(h);
    }
    return out;
  }

  /** In revision order: a key changed again moved to the end when it was held again. */
  [Symbol.iterator](): IterableIterator<HeldChange> { return this.byKey.values(); }

  private take(key: string): HeldChange | undefined {
    const before = this.byKey.get(key);
    if (before) this.byKey.delete(key);
    return before;
  }
}
