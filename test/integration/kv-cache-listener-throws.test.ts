// A cache listener that throws is logged, never fatal: the listeners after it still hear the
// change, listed or watched, and the cache keeps the key (docs/contributing.md: never throw
// from a listener). Real etcd.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { KvCache } from '../../pkg/runtime/kv-cache.js';
import { createLogger } from '../../pkg/log.js';
import { eventually } from './helpers.js';

let etcd: TestEtcd;
let client: Etcd3;
beforeAll(async () => { etcd = await startEtcd(); client = etcd.client(); });
afterAll(async () => { await etcd?.stop(); });

describe('a throwing cache listener', () => {
  it('is logged with the key, and the next listener still hears every change', async () => {
    await client.put('/t/listed').value('1');
    const log = createLogger('test');
    const errors: Array<{ msg: string; key?: string; error?: string }> = [];
    log.error = ((msg: string, meta?: { key?: string; error?: string }) => { errors.push({ msg, ...meta }); return log; }) as typeof log.error;
    const cache = new KvCache(client, '/t/', { log });
    const heard: string[] = [];
    cache.onChange((c) => { throw new Error(`boom at ${c.key}`); });
    cache.onChange((c) => heard.push(c.key));
    try {
      await cache.start();
      expect(heard).toEqual(['/t/listed']);
      await client.put('/t/watched').value('2');
      await eventually(async () => heard.includes('/t/watched') || undefined, 'the watched put heard by the second listener');
      expect(cache.get('/t/watched')?.value).toBe('2');
      expect(errors).toEqual([
        { msg: 'cache listener failed', key: '/t/listed', error: 'Error: boom at /t/listed' },
        { msg: 'cache listener failed', key: '/t/watched', error: 'Error: boom at /t/watched' },
      ]);
    } finally {
      await cache.close();
    }
  });
});
