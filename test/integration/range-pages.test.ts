// Listing a prefix in pages against a real, stock etcd: cut into ranges read side by side (the
// controller's start-up), every key once, all at one revision; and pages of large values, which
// gRPC's default 4 MiB receive limit refused (and etcd3 then took the host for faulty).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { forEachPageIn, splitPrefix } from '../../pkg/etcd/range.js';
import { KvCache } from '../../pkg/runtime/kv-cache.js';
import { callDeadlines, createEtcdClient, etcdFaultHandling } from '../../pkg/etcd/client.js';
import { listPrefix } from '../../pkg/runtime/kv.js';

let etcd: TestEtcd;
let client: Etcd3;
beforeAll(async () => { etcd = await startEtcd(); client = etcd.client(); });
afterAll(async () => { await etcd?.stop(); });

describe('paged listing', () => {
  it('reads a page of 6.4 MB with xnet\'s client, where a client with gRPC\'s defaults is refused', async () => {
    const big = 'x'.repeat(400 * 1024);
    for (let i = 0; i < 16; i++) await client.put(`/big/k${String(i).padStart(2, '0')}`).value(big);
    // the break: the same page through a client with gRPC's default 4 MiB limit
    const plain = new Etcd3({ hosts: etcd.endpoints });
    try {
      await expect(plain.kv.range({ key: Buffer.from('/big/'), range_end: Buffer.from('/big0'), limit: 2000 })).rejects.toThrow(/RESOURCE_EXHAUSTED|larger than max/);
    } finally {
      plain.close();
    }
    const xnet = createEtcdClient({ endpoints: etcd.endpoints });
    const cache = new KvCache(xnet, '/big/');
    try {
      expect((await listPrefix(xnet, '/big/')).kvs.map((kv) => kv.key)).toHaveLength(16);
      await cache.start();
      expect(cache.size).toBe(16);
    } finally {
      await cache.close();
      xnet.close();
    }
  });

  it('asks again for smaller pages when one is larger than the client takes, and the host stays usable', async () => {
    // 12 values of 400 KB, 4.8 MB in one page; this client takes 4 MiB (xnet's takes 64: a
    // node's keys of 1.5 MiB each reach that at 43)
    const big = 'y'.repeat(400 * 1024);
    for (let i = 0; i < 12; i++) await client.put(`/big2/k${String(i).padStart(2, '0')}`).value(big);
    const small = new Etcd3({
      hosts: etcd.endpoints, defaultCallOptions: callDeadlines(), faultHandling: etcdFaultHandling(etcd.endpoints.length),
      grpcOptions: { 'grpc.max_receive_message_length': 4 * 1024 * 1024 },
    });
    // the break: one page of them is refused
    await expect(small.kv.range({ key: Buffer.from('/big2/'), range_end: Buffer.from('/big20'), limit: 5000 })).rejects.toThrow(/RESOURCE_EXHAUSTED|larger than max/);
    const cache = new KvCache(small, '/big2/');
    try {
      await cache.start();
      expect(cache.size).toBe(12);
      // the refused pages did not open the host's circuit breaker: the next call goes through (a
      // client of one endpoint has none; the rule for several: test/unit/etcd-fault-handling.test.ts)
      expect(await small.get('/big2/k00').string()).toHaveLength(400 * 1024);
    } finally {
      await cache.close();
      small.close();
    }
  });

  it('reads the ranges of a split prefix side by side at one revision, none missed, none twice', async () => {
    for (const k of ['a/1', 'a/2', 'b/1', 'c/1', 'c/2', 'c/3', 'd']) await client.put(`/sp/${k}`).value(k);
    const rev = (await client.kv.range({ key: Buffer.from('/sp/'), limit: 1 })).header.revision;
    await client.put('/sp/b/2').value('after the revision');
    const got: string[] = [];
    await Promise.all(splitPrefix('/sp/', ['/sp/b/', '/sp/c/']).map((r) => forEachPageIn(client, r, { revision: rev, pageSize: 1 }, (page) => {
      for (const kv of page) got.push(kv.key.toString());
    })));
    expect(got.sort()).toEqual(['/sp/a/1', '/sp/a/2', '/sp/b/1', '/sp/c/1', '/sp/c/2', '/sp/c/3', '/sp/d']);
  });

  it('a KvCache given listSplits holds the same keys as one without', async () => {
    const split = new KvCache(client, '/sp/', { listSplits: ['/sp/b/', '/sp/c/', '/elsewhere/'] });
    const whole = new KvCache(client, '/sp/');
    try {
      // inside the try: when the second start fails, the first cache is closed too
      await split.start();
      await whole.start();
      expect([...split.entries()].map((kv) => kv.key).sort()).toEqual([...whole.entries()].map((kv) => kv.key).sort());
      expect(split.size).toBe(8);
    } finally {
      await split.close();
      await whole.close();
    }
  });
});
