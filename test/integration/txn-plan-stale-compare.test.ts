// A plan that compares one key twice at two different revisions never commits. It happens
// when items of one transaction planned from different reads: a ContainerNic whose HostSubnet
// choice is remembered in the round state (nic-target.ts, clusterTarget: pinned to the status it was
// made from) next to one that chose afresh (a spec.ip, or an address held outside the
// remembered subnet) after that status changed. Kept as one compare, the first one planned won:
// with the fresh one first, the stale choice was committed, and the NIC got an address from a
// subnet its HostSubnet no longer had. Real etcd.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { KvCache } from '../../pkg/runtime/kv-cache.js';
import { leaderGuard } from './helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await etcd?.stop(); });

describe('a plan comparing one key at two revisions', () => {
  it('is refused whichever compare was planned first, and writes nothing', async () => {
    const client = etcd.client();
    const guard = await leaderGuard(client, '/sc/leader');
    const cache = new KvCache(client, '/sc/s/');
    try {
      await client.put('/sc/s/status').value('{"subnet":"10.0.1.0/24"}');
      await cache.start();
      const stale = cache.get('/sc/s/status')!;
      await client.put('/sc/s/status').value('{"subnet":"10.0.2.0/24"}');
      const fresh = (await client.get('/sc/s/status').exec()).kvs[0];
      const freshKv = { ...stale, modRevision: String(fresh.mod_revision), value: fresh.value.toString() };
      for (const order of [[freshKv, stale], [stale, freshKv]]) {
        const plan = new TxnPlan(guard, '/sc/leader');
        plan.unchanged('/sc/s/status', order[0]).put('/sc/s/a', 'one');
        plan.unchanged('/sc/s/status', order[1]).put('/sc/s/b', 'two');
        expect(await plan.commit(client, cache)).toBe(false);
      }
      expect(await client.getAll().prefix('/sc/s/').keys()).toEqual(['/sc/s/status']);
    } finally {
      await cache.close();
    }
  });

  it('still sends one compare for a key compared twice at the same revision', () => {
    const guard = { key: Buffer.from('/sc/leader'), target: 'Create' as const, result: 'Equal' as const, create_revision: '3' };
    const kv = { key: '/sc/s/x', value: '{}', modRevision: '9', createRevision: '5', lease: '0' };
    const plan = new TxnPlan(guard, '/sc/leader');
    plan.unchanged(kv.key, kv).unchanged(kv.key, kv).sameIncarnation(kv.key, kv);
    expect(plan.size.compares).toBe(2);
  });
});
