// A restart of etcd must leave a client with one connection to it. etcd3 closes a member's gRPC
// clients after each failure there, and grpc-js 1.14 let the connection attempt of a client
// closed while etcd was down run on and connect once etcd was back, unused, for good
// (pkg/etcd/subchannel-release.ts). Measured before the fix with a client like this one (a
// watch and a lease keep-alive, no other calls): 2, 12, 12 connections after three restarts.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { startEtcdServer, type EtcdServer } from '../../pkg/etcd/server.js';
import { KvCache } from '../../pkg/runtime/kv-cache.js';
import { pollUntil } from './helpers.js';

/** This process's sockets (inodes), read from /proc/self/fd. */
function ownSockets(): Set<string> {
  const mine = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) mine.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
  return mine;
}

/** This process's established TCP connections to `port` on loopback (read from /proc). */
function connectionsTo(port: number): number {
  const mine = ownSockets();
  let n = 0;
  for (const file of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    let rows: string[] = [];
    try { rows = readFileSync(file, 'utf8').trim().split('\n').slice(1); } catch { continue; }
    for (const row of rows) {
      const c = row.trim().split(/\s+/);
      if (parseInt(c[2].split(':')[1], 16) === port && c[3] === '01' && mine.has(c[9])) n++;
    }
  }
  return n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let etcd: TestEtcd;
let member: EtcdServer;
beforeAll(async () => { etcd = await startEtcd(); member = etcd.members[0]; });
afterAll(async () => {
  await etcd?.stop();
  if (member !== etcd?.members[0]) await member?.stop();
});

describe('a client with a watch and a lease keep-alive, through restarts of etcd', () => {
  it('keeps one connection to etcd, not one more per gRPC client etcd3 closed while etcd was down', async () => {
    const client = etcd.client();
    const cache = new KvCache(client, '/rc/');
    const lease = client.lease(30);
    try {
      await cache.start();
      await lease.grant();
      const port = member.clientPort;
      expect(connectionsTo(port)).toBe(1);
      const counts: number[] = [];
      for (let i = 1; i <= 3; i++) {
        await member.stop();
        // the watch's and the keep-alive's attempts fail meanwhile: etcd3 closes the clients each time
        await sleep(4_000);
        member = await startEtcdServer({ dataDir: etcd.dataDir, clientPort: port, peerPort: member.peerPort });
        // recovered: the cache's watch sees a put made after the restart
        await expect.poll(() => client.put(`/rc/k${i}`).value('1').then(() => true, () => false), { timeout: 20_000, interval: 250 }).toBe(true);
        expect(await pollUntil(() => cache.get(`/rc/k${i}`) !== undefined, 20_000)).toBe(true);
        // an attempt left running by a closed client connects when its backoff (a few s here) ends
        await sleep(8_000);
        counts.push(connectionsTo(port));
      }
      expect(counts).toEqual([1, 1, 1]);
    } finally {
      await lease.revoke().catch(() => undefined);
      await cache.close();
    }
  }, 120_000);
});
