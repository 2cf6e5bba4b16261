// A KvCache closed while it resumes its watches (a controller stopping just as etcd came back):
// resume() first reads etcd's revision (to notice a restore), and a close() that lands during
// that read must leave the cache closed. Resuming after it would open a watch on etcd that
// nothing ever stops: a stream kept for the life of the process. The read is held on a client
// that forwards to a real etcd; what is counted is etcd's own count of watchers. The same holds
// for a close() that lands during a list, as one from a relist listener does (`xctl wait` whose
// goal the relist met): a watch made after that list held the xctl process 2 s past its result.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { etcdMetric, startEtcd, type TestEtcd } from '../harness/etcd.js';
import { KvCache } from '../../pkg/runtime/kv-cache.js';
import { eventually } from './helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await etcd?.stop(); });

const watchers = () => etcdMetric(etcd.endpoints[0], 'etcd_debugging_mvcc_watcher_total');

/** `client` whose range reads wait for release() once held: everything else goes straight to etcd. */
function holdingReads(client: Etcd3) {
  let held = false;
  let release = () => undefined as void;
  let reached = () => undefined as void;
  const reading = new Promise<void>((r) => { reached = r; });
  const range = async (req: Parameters<Etcd3['kv']['range']>[0]) => {
    if (held) { reached(); await new Promise<void>((r) => { release = r; }); }
    return client.kv.range(req);
  };
  const kv = Object.create(client.kv, { range: { value: range } });
  return { client: Object.create(client, { kv: { value: kv } }) as Etcd3, hold: () => { held = true; }, reading, release: () => release() };
}

describe('a KvCache closed during a resume', () => {
  it('opens no watch once the revision read returns', async () => {
    const gate = holdingReads(etcd.client());
    const cache = new KvCache(gate.client, '/cr/');
    await cache.start();
    await eventually(async () => (await watchers()) === 1, 'the cache watches its prefix', 10_000);
    // the watch dropped (as CacheRestarts stops it), then the resume begins its read
    const inside = cache as unknown as { stopWatchers(): Promise<void>; resume(): Promise<void> };
    await inside.stopWatchers();
    await eventually(async () => (await watchers()) === 0, 'its watch is gone', 10_000);
    gate.hold();
    const resuming = inside.resume();
    await gate.reading;
    await cache.close();
    gate.release();
    await resuming;
    // a watch opened now would show within this time; nothing else opens one on this etcd
    await new Promise((r) => setTimeout(r, 1000));
    expect(await watchers()).toBe(0);
  }, 30_000);
});

describe('a KvCache closed by its own relist listener', () => {
  it('opens no watch after the list', async () => {
    expect(await watchers(), 'no watch left by the case before').toBe(0);
    const cache = new KvCache(etcd.client(), '/cl/');
    cache.onRelist(() => { void cache.close(); });
    await cache.start();
    // start() returns once a watch it made is made on etcd: one made after the close counts now
    expect(await watchers()).toBe(0);
    await cache.close();
  }, 30_000);
});
