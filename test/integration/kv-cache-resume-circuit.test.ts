// A KvCache of a client given more than one etcd endpoint (each host has a circuit breaker:
// pkg/etcd/client.ts etcdFaultHandling) whose connection is cut long enough for the circuits to
// open: the attempts made then fail with cockatiel's "circuit breaker is open" before any call
// is sent. Such an attempt reached no etcd and lost nothing, as a refused connection: the cache
// resumes from the last revision it delivered once etcd is reachable, and a change made and
// undone during the cut arrives (cache-restarts.ts). Two proxies in front of one etcd make the
// two endpoints (etcd3 does not know they are one member).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { KvCache } from '../../pkg/runtime/kv-cache.js';
import { pollUntil } from './helpers.js';

let etcd: TestEtcd;
let direct: Etcd3;
beforeAll(async () => { etcd = await startEtcd(); direct = etcd.client(); });
afterAll(async () => { await etcd?.stop(); });

describe('a KvCache whose client has two endpoints, cut off until their circuits opened', () => {
  it('resumes: the change made and undone while it was cut off arrives, and it does not relist', async () => {
    const warnings: string[] = [];
    const log = { warn: (m: string, f?: unknown) => warnings.push(`${m} ${JSON.stringify(f)}`), error: () => undefined, info: () => undefined, debug: () => undefined } as never;
    const proxies = [await startTcpProxy(etcd.endpoints[0]), await startTcpProxy(etcd.endpoints[0])];
    const client = createEtcdClient({ endpoints: proxies.map((p) => p.endpoint) });
    const cache = new KvCache(client, '/rc/', { log });
    const heard: string[] = [];
    cache.onChange((c) => heard.push(`${c.kv ? 'put' : 'delete'} ${c.key}`));
    try {
      await direct.put('/rc/a').value('1');
      await cache.start();
      expect(cache.relists).toBe(1);

      for (const p of proxies) p.cut();
      const circuitOpen = () => warnings.some((w) => w.includes('circuit breaker is open'));
      expect(await pollUntil(circuitOpen, 30_000), `an attempt refused by an open circuit; logged: ${warnings.join(' / ')}`).toBe(true);
      await direct.put('/rc/brief').value('x');
      await direct.delete().key('/rc/brief');
      for (const p of proxies) p.heal();
      await direct.put('/rc/after').value('2');

      expect(await pollUntil(() => cache.get('/rc/after')?.value === '2', 40_000), `back after the heal; logged: ${warnings.join(' / ')}`).toBe(true);
      expect(heard, `logged: ${warnings.join(' / ')}`).toEqual(['put /rc/a', 'put /rc/brief', 'delete /rc/brief', 'put /rc/after']);
      expect(cache.relists, 'relisted: a list tells where things ended up, not the change undone').toBe(1);
    } finally {
      await cache.close();
      client.close();
      for (const p of proxies) await p.close();
    }
  }, 90_000);
});
