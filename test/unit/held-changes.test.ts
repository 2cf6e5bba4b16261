// What a holding KvCache keeps (pkg/runtime/held-changes.ts): the newest change per key, in
// revision order, and for a delete the put it replaced, so a released delete still tells
// listeners the value the key had last.
import { describe, it, expect } from 'vitest';
import { HeldChanges } from '../../pkg/runtime/held-changes.js';
import type { RawKv } from '../../pkg/runtime/kv.js';

const kv = (key: string, value: string, rev: number): RawKv => ({ key, value, modRevision: String(rev), createRevision: String(rev), lease: '0' });

describe('HeldChanges', () => {
  it('keeps the newest change per key, in the order of the newest revisions', () => {
    const h = new HeldChanges();
    h.put(kv('a', '1', 10), 10);
    h.put(kv('b', '1', 11), 11);
    h.put(kv('a', '2', 12), 12);
    expect([...h].map((c) => [c.key, c.rev, c.kv?.value])).toEqual([['b', 11, '1'], ['a', 12, '2']]);
    expect(h.size).toBe(2);
  });

  it('keeps the last put held before a delete, and forgets it when the key is put again', () => {
    const h = new HeldChanges();
    h.put(kv('a', 'last', 10), 10, 1);
    h.delete('a', 11, 2);
    expect([...h]).toEqual([{ key: 'a', rev: 11, at: 2, lastPut: kv('a', 'last', 10) }]);
    h.delete('a', 12, 3); // a second delete (etcd sends none for an absent key, a relisted one could) keeps it
    expect([...h][0].lastPut?.value).toBe('last');
    h.put(kv('a', 'again', 13), 13, 4);
    expect([...h]).toEqual([{ key: 'a', rev: 13, at: 4, kv: kv('a', 'again', 13) }]);
  });

  it('holds a delete of a key it held nothing for without a value', () => {
    const h = new HeldChanges();
    h.delete('gone', 5, 7);
    expect([...h]).toEqual([{ key: 'gone', rev: 5, at: 7, lastPut: undefined }]);
    h.clear();
    expect(h.size).toBe(0);
  });
});

describe('HeldChanges: when', () => {
  it('keeps when each change was delivered, for what is timed from it', () => {
    const h = new HeldChanges();
    h.put(kv('a', '1', 10), 10, 1_000);
    h.delete('a', 11, 2_000);
    expect([...h][0].at).toBe(2_000);
  });
});

describe('HeldChanges.takeOldest', () => {
  it('removes and returns the oldest changes first', () => {
    const h = new HeldChanges();
    for (const [k, r] of [['a', 1], ['b', 2], ['c', 3]] as const) h.put(kv(k, 'v', r), r, 0);
    h.put(kv('a', 'v2', 4), 4, 0); // a moves behind c
    expect(h.takeOldest(2).map((c) => c.key)).toEqual(['b', 'c']);
    expect(h.size).toBe(1);
    expect(h.takeOldest(5).map((c) => c.key)).toEqual(['a']);
    expect(h.takeOldest(5)).toEqual([]);
  });
});
