// A refused plan reads its compared keys back into the cache. When those values together are
// more than the client takes (a node's own keys of up to 1.5 MiB each, compared by the
// controller's sweep of orphaned statuses), the refusal still stands: commit says false and
// the watch brings the news, rather than the read-back failing the plan with its batch.
// Real etcd; a client that takes 4 MiB stands for xnet's 64 MiB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { callDeadlines, etcdFaultHandling } from '../../pkg/etcd/client.js';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { KvCache } from '../../pkg/runtime/kv-cache.js';
import { leaderGuard } from './helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await etcd?.stop(); });

describe('a refused plan whose compared values are too large to read back', () => {
  it('is refused (false), not failed', async () => {
    const client = etcd.client();
    const guard = await leaderGuard(client, '/rb/leader');
    const big = 'z'.repeat(400 * 1024);
    for (let i = 0; i < 12; i++) await client.put(`/rb/s/${i}`).value(big);
    const small = new Etcd3({ hosts: etcd.endpoints, defaultCallOptions: callDeadlines(), faultHandling: etcdFaultHandling(etcd.endpoints.length), grpcOptions: { 'grpc.max_receive_message_length': 4 * 1024 * 1024 } });
    const cache = new KvCache(small, '/rb/s/');
    try {
      await cache.start();
      const stale = [...cache.entries()];
      expect(stale).toHaveLength(12);
      // every one rewritten since the cache read it: each compare fails
      for (let i = 0; i < 12; i++) await client.put(`/rb/s/${i}`).value(big + '!');
      const plan = new TxnPlan(guard, '/rb/leader');
      for (const kv of stale) plan.unchanged(kv.key, kv).del(kv.key);
      // the break: the read-back alone is more than the client takes
      await expect(small.kv.txn({ compare: [], success: stale.map((kv) => ({ request_range: { key: Buffer.from(kv.key) } })), failure: [] })).rejects.toThrow(/RESOURCE_EXHAUSTED|larger than max/);
      expect(await plan.commit(small, cache)).toBe(false);
      expect(await client.getAll().prefix('/rb/s/').count()).toBe(12);
    } finally {
      await cache.close();
      small.close();
    }
  });
});
