// A KvCache retries a broken watch for as long as it lives (etcd may be down for minutes), but
// a client that was closed never answers again: the cache stops retrying instead of logging a
// failed attempt every few seconds for the rest of the process's life.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { KvCache } from '../../pkg/runtime/kv-cache.js';
import { pollUntil } from './helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await etcd?.stop(); });

describe('a KvCache whose etcd client is closed while it retries', () => {
  it('stops retrying, and says so once', async () => {
    const proxy = await startTcpProxy(etcd.endpoints[0]);
    const client = createEtcdClient({ endpoints: [proxy.endpoint] });
    const warnings: string[] = [];
    const log = { warn: (m: string) => warnings.push(m), error: () => undefined, info: () => undefined, debug: () => undefined } as never;
    const cache = new KvCache(client, '/cc/', { log, backoff: { initialMs: 50, maxMs: 100, factor: 2, jitter: 0 }, watchCreateTimeoutMs: 500 });
    try {
      await cache.start();
      proxy.cut();
      expect(await pollUntil(() => warnings.includes('cache restart failed; retrying'), 15_000), `the cache retries while cut off: ${warnings.join(' / ')}`).toBe(true);
      client.close();
      expect(await pollUntil(() => warnings.includes('cache stops: its etcd client was closed'), 10_000), warnings.join(' / ')).toBe(true);
      const attempts = warnings.length;
      await new Promise((r) => setTimeout(r, 1000)); // ten backoffs' worth
      expect(warnings.slice(attempts), 'nothing after it stopped').toEqual([]);
    } finally {
      await cache.close();
      client.close();
      await proxy.close();
    }
  }, 60_000);

  it('stops at once when the client is closed while a watch is being made again, not after the watch timeout', async () => {
    const proxy = await startTcpProxy(etcd.endpoints[0]);
    const client = createEtcdClient({ endpoints: [proxy.endpoint] });
    const warnings: string[] = [];
    const log = { warn: (m: string) => warnings.push(m), error: () => undefined, info: () => undefined, debug: () => undefined } as never;
    // a watch timeout of ten minutes, longer than the test's own: the stop must not wait for it
    const cache = new KvCache(client, '/cc2/', { log, backoff: { initialMs: 50, maxMs: 100, factor: 2, jitter: 0 }, watchCreateTimeoutMs: 600_000 });
    try {
      await cache.start();
      proxy.cut();
      expect(await pollUntil(() => warnings.includes('cache watch disconnected; resuming'), 15_000), warnings.join(' / ')).toBe(true);
      await new Promise((r) => setTimeout(r, 300)); // past the backoff: the watch is being made again
      client.close();
      // had the stop waited for the watch timeout, it would come ten minutes late
      expect(await pollUntil(() => warnings.includes('cache stops: its etcd client was closed'), 15_000), warnings.join(' / ')).toBe(true);
    } finally {
      await cache.close();
      client.close();
      await proxy.close();
    }
  }, 60_000);
});
