// A connection to etcd that goes silent (packets dropped, no FIN or RST: a member's host
// powered off, a partition, a conntrack entry or a VIP that moved) while etcd itself is still
// reachable on a new connection. The watch stream sends nothing once it is made, so only gRPC
// keepalive pings would notice; a KvCache (the agent's NodeView, the controller's model) then
// has to see a change made meanwhile within seconds, not after the kernel's TCP timeout
// (~15 min).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { pollUntil } from './helpers.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { KvCache } from '../../pkg/runtime/kv-cache.js';

/** A TCP proxy whose existing connections can be made silent (bytes dropped both ways, sockets left open). */
async function silenceableProxy(port: number): Promise<{ endpoint: string; silence(): void; close(): Promise<void>; accepted: () => number }> {
  const pairs: Array<{ client: Socket; upstream: Socket; silent: boolean }> = [];
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted++;
    const upstream = connect(port, '127.0.0.1');
    const pair = { client, upstream, silent: false };
    pairs.push(pair);
    client.on('data', (b) => { if (!pair.silent) upstream.write(b); });
    upstream.on('data', (b) => { if (!pair.silent) client.write(b); });
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    silence() { for (const p of pairs) p.silent = true; },
    accepted: () => accepted,
    async close() {
      for (const p of pairs) { p.client.destroy(); p.upstream.destroy(); }
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let etcd: TestEtcd;
let direct: Etcd3;
beforeAll(async () => { etcd = await startEtcd(); direct = etcd.client(); });
afterAll(async () => { await etcd?.stop(); });

describe('a watch whose connection went silent', () => {
  it('a KvCache sees a change made after its connection went silent, within 40 s', async () => {
    const proxy = await silenceableProxy(Number(new URL(etcd.endpoints[0]).port));
    const client = createEtcdClient({ endpoints: [proxy.endpoint] });
    const cache = new KvCache(client, '/bh/');
    // an agent reads etcd every 5 s (its heartbeat's presence check); so does this test
    let reads = 0, failedReads = 0;
    const heartbeat = setInterval(() => { reads++; client.get('/bh/x').exec().catch(() => { failedReads++; }); }, 5000);
    try {
      await cache.start();
      await direct.put('/bh/before').value('1');
      await pollUntil(() => cache.get('/bh/before') !== undefined, 10_000);

      proxy.silence();
      const silencedAt = Date.now();
      await direct.put('/bh/after').value('2');
      // etcd has it, and a new connection reads it at once
      expect(await direct.get('/bh/after').string()).toBe('2');

      const seen = await pollUntil(() => cache.get('/bh/after') !== undefined, 40_000);
      const info = `reads ${reads}, failed ${failedReads}, connections ${proxy.accepted()}, waited ${Date.now() - silencedAt} ms`;
      expect(seen, `the cache never saw /bh/after (${info})`).toBe(true);
    } finally {
      clearInterval(heartbeat);
      await cache.close();
      client.close();
      await proxy.close();
    }
  }, 70_000);
});

