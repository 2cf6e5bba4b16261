// The member a watch runs on is cut off from its peers (a network partition) while the other two
// go on as the cluster: the member stays up and keeps the stream open, but it has no leader and
// hears of no write again. A KvCache (the controller's model, an agent's view) must move its
// watch to a member that has a leader and see what is written meanwhile, not wait for the
// partition to end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { ConnectionPool } from 'etcd3/lib/connection-pool.js';
import { startPartitionableEtcd, type PartitionableEtcd } from '../harness/etcd-partition.js';
import { pollUntil } from './helpers.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { KvCache } from '../../pkg/runtime/kv-cache.js';

let etcd: PartitionableEtcd;
beforeAll(async () => { etcd = await startPartitionableEtcd(); }, 60_000);
afterAll(async () => { ConnectionPool.deterministicOrder = false; await etcd?.stop(); });

async function leaderSeenBy(endpoint: string): Promise<string> {
  const r = await fetch(`${endpoint}/v3/maintenance/status`, { method: 'POST', body: '{}' });
  return (await r.json() as { leader?: string }).leader ?? '0';
}

describe('a watch on a member cut off from its peers', () => {
  it('a KvCache sees a write made on the majority within 20 s', async () => {
    const victim = ((await etcd.leaderIndex()) + 1) % 3;
    const others = etcd.endpoints.filter((_, i) => i !== victim);
    // etcd3 tries hosts from the end of its list when its order is deterministic: the cache's
    // list and watch go to the victim; later calls pick hosts at random again
    ConnectionPool.deterministicOrder = true;
    const client = createEtcdClient({ endpoints: [...others, etcd.endpoints[victim]] });
    const writer = new Etcd3({ hosts: others, dialTimeout: 2000 });
    const cache = new KvCache(client, '/part/');
    try {
      await cache.start();
      ConnectionPool.deterministicOrder = false;
      await writer.put('/part/before').value('1');
      expect(await pollUntil(() => cache.get('/part/before') !== undefined, 10_000)).toBe(true);

      etcd.isolate(victim);
      // the break happened: the victim lost its leader while the others still have one
      expect(await pollUntil2(async () => (await leaderSeenBy(etcd.endpoints[victim])) === '0', 15_000), 'the cut-off member has no leader').toBe(true);
      await writer.put('/part/after').value('2');
      expect(await leaderSeenBy(others[0])).not.toBe('0');

      const cutAt = Date.now();
      const seen = await pollUntil(() => cache.get('/part/after') !== undefined, 20_000);
      expect(seen, `the cache never saw /part/after (waited ${Date.now() - cutAt} ms)`).toBe(true);
    } finally {
      ConnectionPool.deterministicOrder = false;
      etcd.heal();
      await cache.close();
      client.close();
      writer.close();
    }
  }, 90_000);
});

async function pollUntil2(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}
