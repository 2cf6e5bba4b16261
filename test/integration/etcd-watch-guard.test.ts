// A watch response for a watch etcd3 no longer tracks (events or a cancel already in flight
// when the client dropped it) made etcd3 1.1.2 throw from its stream listener, out of reach of
// any catch: a daemon exited (UNCAUGHT_EXIT_CODE). Every xnet client (instrument()) drops such
// a response and counts it (pkg/etcd/watch-guard.ts). Real etcd; the client is made to forget
// its watch the way a cancel racing an event leaves it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { pollUntil } from './helpers.js';
import { strayWatchResponses } from '../../pkg/etcd/watch-guard.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await etcd?.stop(); });

describe('a response for a watch the client no longer tracks', () => {
  it('is dropped and counted, the process and the other watches go on', async () => {
    const client = etcd.client();
    const forgotten = await client.watch().key('/stray/a').create();
    const kept = await client.watch().key('/stray/b').create();
    const seen: string[] = [];
    kept.on('put', (kv) => seen.push(kv.value.toString()));
    try {
      const manager = (client as unknown as { watchManager: { watchers: unknown[] } }).watchManager;
      manager.watchers = manager.watchers.filter((w) => w !== forgotten);
      const before = strayWatchResponses();
      await client.put('/stray/a').value('1');
      await client.put('/stray/b').value('2');
      await pollUntil(() => strayWatchResponses() > before && seen.length > 0, 5000);
      expect(strayWatchResponses() - before).toBe(1);
      expect(seen).toEqual(['2']);
    } finally {
      // cancelled also when an expect fails ("forgotten" is no longer the manager's to cancel:
      // it ends with the client, which the file's etcd.stop() closes)
      await kept.cancel();
    }
  });
});
