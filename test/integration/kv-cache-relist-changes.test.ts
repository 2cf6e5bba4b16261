// What a relist over a cache that already holds keys tells its listeners (kv-cache.ts replace):
// a key deleted while the watch was down is told as a delete (with its last value), a key
// changed meanwhile as a change from that value, a new key as new, an unchanged key not at all.
// A start's listing into an empty cache skips its per-key lookups; a relist must not.
// Real etcd; the relist comes from a compaction past the watch while the connection was cut.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { proxiedEtcdClient } from '../harness/tcp-proxy.js';
import { KvCache, type CacheChange } from '../../pkg/runtime/kv-cache.js';
import { until } from './helpers.js';

let etcd: TestEtcd;
let raw: Etcd3;
beforeAll(async () => { etcd = await startEtcd(); raw = etcd.client(); });
afterAll(async () => { await etcd?.stop(); });

/** key -> what the listeners heard of it: 'put <value> (from <prev value>)' or 'delete (was <value>)' */
const told = (c: CacheChange) => (c.kv ? `put ${c.kv.value} (from ${c.prev?.value ?? 'none'})` : `delete (was ${c.prev?.value ?? 'none'})`);

describe('a relist over a cache that holds keys', () => {
  it('tells the deletes, changes and new keys of the cut, and nothing of the unchanged keys', async () => {
    for (const k of ['kept', 'changed', 'gone']) await raw.put(`/r/${k}`).value('1');
    const { proxy, client } = await proxiedEtcdClient(etcd.endpoints[0]);
    const cache = new KvCache(client, '/r/', { watchCreateTimeoutMs: 2000 });
    const heard: Array<[string, string]> = [];
    cache.onChange((c) => heard.push([c.key, told(c)]));
    try {
      await cache.start();
      expect(heard.sort()).toEqual([['/r/changed', 'put 1 (from none)'], ['/r/gone', 'put 1 (from none)'], ['/r/kept', 'put 1 (from none)']]);
      heard.length = 0;
      const relists = cache.relists;
      proxy.cut();
      await raw.put('/r/changed').value('2');
      await raw.delete().key('/r/gone');
      await raw.put('/r/new').value('1');
      const now = Number((await raw.kv.range({ key: Buffer.from('/r/'), limit: 1 })).header.revision);
      await raw.kv.compact({ revision: String(now), physical: true });
      proxy.heal();
      await until(() => cache.relists > relists, 'the relist after the compaction', 20_000);
      expect(heard.sort()).toEqual([['/r/changed', 'put 2 (from 1)'], ['/r/gone', 'delete (was 1)'], ['/r/new', 'put 1 (from none)']]);
      expect([...cache.entries()].map((kv) => `${kv.key}=${kv.value}`).sort()).toEqual(['/r/changed=2', '/r/kept=1', '/r/new=1']);
    } finally {
      await cache.close();
      client.close();
      await proxy.close();
    }
  });
});
