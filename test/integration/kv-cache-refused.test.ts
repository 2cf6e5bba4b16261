// A key whose value does not decode is refused by the controller's cache, which keeps it apart
// from a deleted key: listeners hear that it was refused, `isRefused` says it is still there,
// and its later delete is news too (what waited for it to go may act). Real etcd.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { KvCache, type CacheChange } from '../../pkg/runtime/kv-cache.js';
import { eventually } from './helpers.js';

let etcd: TestEtcd;
let client: Etcd3;
beforeAll(async () => { etcd = await startEtcd(); client = etcd.client(); });
afterAll(async () => { await etcd?.stop(); });

const jsonOnly = (kv: { value: string }) => { try { JSON.parse(kv.value); return undefined; } catch { return 'not JSON'; } };

describe('refused keys', () => {
  it('are told apart from deleted ones, listed or watched', async () => {
    await client.put('/r/listed-bad').value('{');
    await client.put('/r/good').value('{"a":1}');
    const cache = new KvCache(client, '/r/', { admit: jsonOnly });
    const changes: CacheChange[] = [];
    cache.onChange((c) => changes.push(c));
    try {
      // inside the try: a start that fails after making a watch closes it too
      await cache.start();
      // listed: the unreadable key is not in the cache, but it is not gone either
      expect(cache.get('/r/listed-bad')).toBeUndefined();
      expect(cache.isRefused('/r/listed-bad')).toBe(true);
      expect(cache.isRefused('/r/good')).toBe(false);
      expect(changes.find((c) => c.key === '/r/listed-bad')).toMatchObject({ refused: true });

      // watched: a good value overwritten with garbage leaves the cache as refused, not deleted
      changes.length = 0;
      await client.put('/r/good').value('garbage');
      const refused = await eventually(async () => changes.find((c) => c.key === '/r/good'), 'the refusal heard');
      expect(refused.refused).toBe(true);
      expect(refused.kv).toBeUndefined();
      expect(refused.prev?.value).toBe('{"a":1}');
      expect(cache.isRefused('/r/good')).toBe(true);

      // readable again: back in the cache, no longer refused
      await client.put('/r/good').value('{"a":2}');
      await eventually(async () => cache.get('/r/good')?.value === '{"a":2}' || undefined, 'the good value back');
      expect(cache.isRefused('/r/good')).toBe(false);

      // a refused key deleted: listeners hear it went (no value before or after), and it is gone
      changes.length = 0;
      await client.delete().key('/r/listed-bad');
      const went = await eventually(async () => changes.find((c) => c.key === '/r/listed-bad'), 'the delete heard');
      expect([went.kv, went.prev, went.refused]).toEqual([undefined, undefined, undefined]);
      expect(cache.isRefused('/r/listed-bad')).toBe(false);
    } finally {
      await cache.close();
    }
  });
});
