// etcd3 closes every gRPC client of a member after a failure there (client.ts,
// keepChannelsOnFailure says what that did). Seen in the lab after etcd was restarted a few
// times: a controller with 12 connections to etcd (a fresh one has 1) and its cache's watch
// dropped ("Connection dropped") again and again.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPCUnavailableError, type Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { startEtcdServer, type EtcdServer } from '../../pkg/etcd/server.js';
import { KvCache } from '../../pkg/runtime/kv-cache.js';
import type { Logger } from '../../pkg/log.js';
import { pollUntil } from './helpers.js';

/** This process's established TCP connections to `port` on loopback (read from /proc). */
function connectionsTo(port: number): number {
  const mine = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) mine.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
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

function recordingLog(lines: string[]): Logger {
  const rec = (m: string) => { lines.push(m); };
  return { level: 'info', error: rec, warn: rec, info: rec, debug: () => undefined, log: (_l: string, m: string) => rec(m) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let etcd: TestEtcd;
let restarted: EtcdServer | undefined;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await restarted?.stop(); await etcd?.stop(); });

describe("a member's gRPC clients after a failure there", () => {
  it("leave the cache's watch open: not dropped at the next keepalive ping", async () => {
    const client = etcd.client();
    const lines: string[] = [];
    const cache = new KvCache(client, '/kc1/', { log: recordingLog(lines) });
    try {
      await cache.start();
      const pool = (client as unknown as { pool: { hosts: unknown[]; markFailed(h: unknown, e: Error): void } }).pool;
      // what etcd3 does after a unary call or a stream failed on the member
      pool.markFailed(pool.hosts[0], new GRPCUnavailableError('a failure of one call'));
      // keepalive (client.ts): a ping 10 s after the last one, dropped 5 s without an answer
      await sleep(16_000);
      expect(lines.filter((l) => /disconnected/.test(l))).toEqual([]);
      await client.put('/kc1/a').value('1');
      expect(await pollUntil(() => cache.get('/kc1/a') !== undefined, 5_000)).toBe(true);
    } finally {
      await cache.close();
    }
  }, 40_000);

  it('a restart of etcd leaves one connection to it, not one more per closed client', async () => {
    const client = etcd.client();
    const cache = new KvCache(client, '/kc2/');
    try {
      await cache.start();
      const [member] = etcd.members;
      expect(connectionsTo(member.clientPort)).toBe(1);
      await member.stop();
      // the cache's resume fails meanwhile: etcd3 closes the member's clients each time
      await sleep(1_500);
      restarted = await startEtcdServer({ dataDir: etcd.dataDir, clientPort: member.clientPort, peerPort: member.peerPort });
      // the member's circuit is open for 5 s after the failures while it was down
      let put = false;
      for (const end = Date.now() + 15_000; !put && Date.now() < end;) {
        put = await client.put('/kc2/a').value('1').then(() => true, () => false);
        if (!put) await sleep(500);
      }
      expect(put).toBe(true);
      expect(await pollUntil(() => cache.get('/kc2/a') !== undefined, 15_000)).toBe(true);
      // connection attempts left running by closed clients succeed within their backoff (~1.6 s)
      await sleep(3_000);
      expect(connectionsTo(member.clientPort)).toBe(1);
    } finally {
      await cache.close();
    }
  }, 40_000);
});
