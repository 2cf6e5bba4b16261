// A KvCache whose connection is dropped each time etcd has made its watch (a member or a proxy
// that accepts the watch and drops it at once): every resume succeeds, and the watch breaks
// again right after. The cache's restart backoff (cache-restarts.ts) starts over only once the
// watches stayed up a while (KvCacheOptions.stableMs, WATCH_STABLE_MS), so these restarts come
// further and further apart; when a successful resume started it over, they came every 0.2 s
// for as long as the fault lasted, from every agent. Counted over a few seconds of the fault,
// the restarts stay within what the backoff allows, and their waits (logged) double. Once the
// watch stayed up, the next break waits the shortest wait again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { spyWatchers } from '../harness/watch-spy.js';
import { pollUntil } from './helpers.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { KvCache } from '../../pkg/runtime/kv-cache.js';
import { backoffDelay, RECONNECT_BACKOFF, sleep, type BackoffPolicy } from '../../pkg/runtime/backoff.js';

let etcd: TestEtcd;
let direct: Etcd3;
beforeAll(async () => { etcd = await startEtcd(); direct = etcd.client(); });
afterAll(async () => { await etcd?.stop(); });

/** How long the connection drops every watch made: long enough for the waits to pass 1.6 s. */
const FAULT_MS = 8_000;
/** The cache's stableMs here: far longer than a watch dropped at once lives, and quick to wait out. */
const STABLE_MS = 3_000;

/** The most restarts that can begin within `ms` of the first, each waiting the policy's wait for its place in a row before it resumes. */
function mostRestartsWithin(ms: number, policy: BackoffPolicy): number {
  let waited = 0;
  for (let n = 1; ; n++) {
    waited += backoffDelay(n, policy);
    if (waited > ms) return n;
  }
}

describe('a KvCache whose connection drops each watch as soon as etcd made it', () => {
  it('restarts further and further apart, not every 0.2 s, and from the shortest wait once the watch stayed up', async () => {
    const proxy = await startTcpProxy(etcd.endpoints[0]);
    const client = createEtcdClient({ endpoints: [proxy.endpoint] });
    let dropping = false;
    let drops = 0;
    spyWatchers(client, (w) => w.once('connected', () => { if (dropping) { drops++; proxy.dropConnections(); } }));
    const waits: number[] = []; // the wait each restart announced before resuming
    const warnings: string[] = [];
    const log = {
      warn: (m: string, f?: { inMs?: number }) => { warnings.push(`${m} ${JSON.stringify(f)}`); if (m === 'cache watch disconnected; resuming') waits.push(f?.inMs ?? -1); },
      error: () => undefined, info: () => undefined, debug: () => undefined,
    } as never;
    let restarts = 0; // what the daemons count in xnet_watch_restarts_total
    const cache = new KvCache(client, '/fl/', { log, onRestart: () => restarts++, stableMs: STABLE_MS });
    try {
      await cache.start();
      dropping = true;
      proxy.dropConnections();
      await sleep(FAULT_MS);
      dropping = false;
      const during = restarts;
      const most = mostRestartsWithin(FAULT_MS, RECONNECT_BACKOFF);
      const seen = `${during} restarts, ${drops} watches dropped, ${proxy.accepted} connections, waits ${waits.join(' ')}; logged: ${warnings.slice(0, 12).join(' / ')}`;
      expect(drops, `the connection dropped resumed watches again and again: ${seen}`).toBeGreaterThanOrEqual(3);
      expect(during, `restarts within ${FAULT_MS} ms of a doubling wait from ${RECONNECT_BACKOFF.initialMs} ms: ${seen}`).toBeLessThanOrEqual(most);
      expect(waits.slice(0, 4), seen).toEqual([200, 400, 800, 1600]);

      // the fault is over: the cache works again, and once its watch stayed up a break is new
      await direct.put('/fl/after').value('1');
      expect(await pollUntil(() => cache.get('/fl/after') !== undefined, 15_000), `the cache is live again; logged: ${warnings.join(' / ')}`).toBe(true);
      await sleep(STABLE_MS + 500);
      const before = restarts;
      proxy.dropConnections();
      expect(await pollUntil(() => restarts > before, 15_000), 'the cache restarted after the last drop').toBe(true);
      expect(waits.at(-1), `waits ${waits.join(' ')}`).toBe(RECONNECT_BACKOFF.initialMs);
      await direct.put('/fl/later').value('2');
      expect(await pollUntil(() => cache.get('/fl/later') !== undefined, 15_000), `the cache is live after that restart; logged: ${warnings.join(' / ')}`).toBe(true);
    } finally {
      await cache.close();
      client.close();
      await proxy.close();
    }
  }, 90_000);
});
