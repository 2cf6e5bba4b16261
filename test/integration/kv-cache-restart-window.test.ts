// A KvCache resumes its watches itself after a lost connection, from the revision after the
// last event each delivered (kv-cache.ts), because etcd3's own resume starts from the header
// revision of the last response, past events not delivered yet. This test breaks the
// connection a second time while such a resume is still making its watches: the first
// prefix's watch is made (etcd answered "created") but the change it has to catch up on has
// not arrived yet. That watch must still deliver the change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { pollUntil } from './helpers.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { spyWatchers } from '../harness/watch-spy.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { KvCache } from '../../pkg/runtime/kv-cache.js';

let etcd: TestEtcd;
let direct: Etcd3;
beforeAll(async () => { etcd = await startEtcd(); direct = etcd.client(); });
afterAll(async () => { await etcd?.stop(); });

describe('a connection lost again while a KvCache resumes its watches', () => {
  it('still delivers the change the resumed watch was catching up on', async () => {
    const proxy = await startTcpProxy(etcd.endpoints[0]);
    const client = createEtcdClient({ endpoints: [proxy.endpoint] });
    let armed = false;
    let brokeAgain = false;
    spyWatchers(client, (w, key) => {
      if (key !== '/rw/a/') return;
      w.once('connected', () => {
        if (!armed) return;
        armed = false;
        brokeAgain = true;
        // etcd made the watch; what it sends from now on (the catch-up) is lost, then the cut
        void proxy.loseReplies(300);
      });
    });
    const warnings: string[] = [];
    const log = { warn: (m: string, f?: unknown) => warnings.push(`${m} ${JSON.stringify(f)}`), error: () => undefined, info: () => undefined, debug: () => undefined } as never;
    let restarts = 0; // what the daemons count in xnet_watch_restarts_total
    const cache = new KvCache(client, ['/rw/a/', '/rw/b/'], { log, onRestart: () => restarts++ });
    try {
      await cache.start();
      await direct.put('/rw/a/0').value('0');
      expect(await pollUntil(() => cache.get('/rw/a/0') !== undefined, 10_000)).toBe(true);

      proxy.cut();
      await new Promise((r) => setTimeout(r, 500));
      await direct.put('/rw/a/1').value('1'); // made while the cache is cut off
      armed = true;
      proxy.heal();

      expect(await pollUntil(() => brokeAgain, 15_000), 'the resume made the watch of /rw/a/').toBe(true);
      expect(restarts, 'onRestart called for the cut').toBeGreaterThanOrEqual(1);
      // the cache is live again: a later change of the other prefix arrives
      await new Promise((r) => setTimeout(r, 1000));
      await direct.put('/rw/b/2').value('2');
      expect(await pollUntil(() => cache.get('/rw/b/2') !== undefined, 20_000), 'a later change arrives').toBe(true);
      await direct.put('/rw/a/3').value('3');
      expect(await pollUntil(() => cache.get('/rw/a/3') !== undefined, 20_000), 'a later change of /rw/a/ arrives').toBe(true);

      // etcd has /rw/a/1; the cache must too
      expect(await direct.get('/rw/a/1').string()).toBe('1');
      expect(cache.get('/rw/a/1')?.value, `/rw/a/1 lost (relists: ${cache.relists}; the cache logged: ${warnings.join(' / ')})`).toBe('1');
    } finally {
      await cache.close();
      client.close();
      await proxy.close();
    }
  }, 90_000);
});
