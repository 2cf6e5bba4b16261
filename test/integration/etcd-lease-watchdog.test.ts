// The lease keep-alive watchdog (pkg/etcd/lease-watchdog.ts) against a real etcd: what it must
// not do. A lone member that hangs for a few seconds makes it give up a stream every couple of
// seconds; those streams, answered once the member resumes, must not leave a second keep-alive
// loop behind (one that outlives release()). And a keep-alive answered while this process
// itself stood still is answered: no member's circuit is opened for it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond().catch(() => false)) return true;
    await sleep(250);
  }
  return false;
}

describe('a lone member that hangs for a few seconds (SIGSTOP), then resumes', () => {
  let etcd: TestEtcd;
  let paused = false;
  const pause = () => { process.kill(etcd.members[0].pid, 'SIGSTOP'); paused = true; };
  const resume = () => { if (paused) process.kill(etcd.members[0].pid, 'SIGCONT'); paused = false; };
  beforeAll(async () => { etcd = await startEtcd(); }, 60_000);
  afterAll(async () => { resume(); await etcd?.stop(); });

  it('leaves one keep-alive loop: the lease, released later, expires and its key goes', async () => {
    const ttl = 15; // the pause below is about 9 s: a renewal, TTL/3, then two 2 s windows
    const client = createEtcdClient({ endpoints: etcd.endpoints });
    const reader: Etcd3 = etcd.client();
    try {
      const lease = client.lease(ttl);
      let lost = 0;
      lease.on('lost', () => { lost++; });
      await lease.put('/watchdog/released').value('v');
      // paused right after a renewal; resumed once the watchdog gave up two streams on it
      // (the lease has a TTL from that renewal on the member)
      let givenUp = 0;
      const resumed = new Promise<void>((done) => {
        lease.on('keepaliveFailed', () => { if (paused && ++givenUp === 2) { resume(); done(); } });
      });
      await new Promise<void>((r) => lease.once('keepaliveSucceeded', () => { pause(); r(); }));
      await resumed;
      // the streams given up are answered now; etcd3's TTL timer of each ran out a TTL later
      await sleep((ttl + 2) * 1000);
      expect(lost, 'the lease was lost over the pause').toBe(0);
      expect(await reader.get('/watchdog/released').string()).toBe('v');
      lease.release();
      const gone = await until(async () => (await reader.get('/watchdog/released').string()) === null, 3 * ttl * 1000);
      expect(gone, 'a lease released is still kept alive: its key is there 3 TTLs after release()').toBe(true);
    } finally {
      resume();
      client.close();
    }
  }, 120_000);
});

describe('this process stands still right after a keep-alive left (a long synchronous stretch)', () => {
  let etcd: TestEtcd;
  beforeAll(async () => { etcd = await startEtcd({ members: 3 }); }, 60_000);
  afterAll(async () => { await etcd?.stop(); });

  it('the answer that came meanwhile counts: the stream is kept and no member\'s circuit opens', async () => {
    const client = createEtcdClient({ endpoints: etcd.endpoints });
    try {
      const lease = client.lease(10);
      const failed: string[] = [];
      lease.on('keepaliveFailed', (e) => { failed.push(String((e as unknown as Error).message)); });
      await lease.grant();
      await new Promise<void>((r) => lease.once('keepaliveSucceeded', () => r()));
      // 2.5 s of synchronous work (more than the watchdog's 2 s) begun as the next keep-alive leaves
      const stood = new Promise<void>((done) => lease.once('keepaliveFired', () => setImmediate(() => {
        const end = Date.now() + 2500;
        while (Date.now() < end) { /* busy */ }
        done();
      })));
      await stood;
      await new Promise<void>((r) => lease.once('keepaliveSucceeded', () => r()));
      await sleep(500);
      expect(failed, 'the keep-alive stream was given up').toEqual([]);
      const hosts = (client as unknown as { pool: { hosts: Array<{ host: string; faultHandling: { state: number } }> } }).pool.hosts;
      expect(hosts.filter((h) => h.faultHandling.state !== 0).map((h) => h.host), 'a member\'s circuit was opened').toEqual([]);
      lease.release();
    } finally {
      client.close();
    }
  }, 60_000);
});
