// etcd restored from a snapshot (`etcdctl snapshot restore`, restarted on the same ports)
// starts again at the snapshot's revision, below what a KvCache had seen. Resuming its watch
// from the revision after the last event it delivered would wait for a revision the new
// history reaches only later, and miss every change until then: the cache must notice that
// etcd's revision went back and start over from a list, as after a compaction.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { callDeadlines } from '../../pkg/etcd/client.js';
import { startEtcdServer } from '../../pkg/etcd/server.js';
import { KvCache } from '../../pkg/runtime/kv-cache.js';
import { pollUntil } from './helpers.js';

let etcd: TestEtcd;
let direct: Etcd3;
beforeAll(async () => { etcd = await startEtcd(); direct = etcd.client(); });
afterAll(async () => { await etcd?.stop(); });

const etcdctl = (args: string[]) => execFileSync('etcdctl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000, env: { ...process.env, ETCDCTL_API: '3' } });

/** Stops the member, replaces its data dir with the snapshot restored, starts it on the same ports and flags. */
async function restore(snapshot: string): Promise<void> {
  const [m] = etcd.members;
  await m.stop();
  const dir = join(etcd.dataDir, m.name);
  rmSync(dir, { recursive: true, force: true });
  const peer = `http://127.0.0.1:${m.peerPort}`;
  // the cluster token startEtcdServer gives a single member, so the restored member is the same one
  etcdctl(['snapshot', 'restore', snapshot, '--data-dir', dir, '--name', m.name, '--initial-cluster', `${m.name}=${peer}`,
    '--initial-advertise-peer-urls', peer, '--initial-cluster-token', `xnet-${m.name}-${m.clientPort}`]);
  etcd.members[0] = await startEtcdServer({ dataDir: etcd.dataDir, name: m.name, clientPort: m.clientPort, peerPort: m.peerPort });
}

/** A put retried while the client reconnects to the restarted etcd (bounded). */
async function putSoon(key: string, value: string): Promise<void> {
  for (let i = 1; ; i++) {
    try { await direct.put(key).value(value); return; } catch (e) { if (i >= 20) throw e; }
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('a KvCache over an etcd restored from an older snapshot', () => {
  it('relists and converges to the restored state', async () => {
    const warnings: string[] = [];
    const log = { warn: (m: string, f?: unknown) => warnings.push(`${m} ${JSON.stringify(f)}`), error: () => undefined, info: () => undefined, debug: () => undefined } as never;
    const client = etcd.client();
    const cache = new KvCache(client, '/rs/', { log });
    const snapshot = join(etcd.dataDir, 'backup.db');
    try {
      await cache.start();
      await direct.put('/rs/A').value('a');
      await direct.put('/rs/B').value('b');
      etcdctl(['--endpoints', etcd.endpoints[0], 'snapshot', 'save', snapshot]);
      await direct.put('/rs/C').value('c');
      await direct.delete().key('/rs/A');
      for (let i = 0; i < 15; i++) await direct.put('/rs/n').value(String(i));
      expect(await pollUntil(() => cache.get('/rs/n')?.value === '14' && !cache.get('/rs/A'), 10_000)).toBe(true);
      const seen = cache.revision;

      await restore(snapshot);
      await putSoon('/rs/D', 'd');
      const restored = Number((await direct.get('/rs/D').exec()).header.revision);
      expect(restored, 'the restored etcd is behind what the cache had seen').toBeLessThan(seen);

      const converged = () => cache.get('/rs/A')?.value === 'a' && cache.get('/rs/B')?.value === 'b'
        && cache.get('/rs/D')?.value === 'd' && !cache.get('/rs/C') && !cache.get('/rs/n');
      expect(await pollUntil(converged, 10_000), `stale cache: ${[...cache.entries()].map((kv) => kv.key).join(',')}; logged: ${warnings.join(' / ')}`).toBe(true);
      expect(warnings.some((w) => w.includes('went back')), warnings.join(' / ')).toBe(true);
      // live again on the new history
      await direct.put('/rs/E').value('e');
      expect(await pollUntil(() => cache.get('/rs/E')?.value === 'e', 10_000)).toBe(true);
    } finally {
      await cache.close();
      rmSync(snapshot, { force: true });
    }
  }, 90_000);

  // The relist that follows the restore can fail (etcd slow or cut again). The next attempt must
  // relist too: a resume would start from the revision after the last event of the old history,
  // which the new one reaches only later, and miss every change until then (kv-cache.ts wentBack).
  it('relists after a failed relist too, not resuming from the old history', async () => {
    const warnings: string[] = [];
    // client-to-etcd data is held (never forwarded: the proxy drops it when cut) while holdMs is set
    const hold = { holdMs: 0 };
    const proxy = await startTcpProxy(etcd.endpoints[0], hold);
    const client = new Etcd3({ hosts: proxy.endpoint, dialTimeout: 2000, defaultCallOptions: callDeadlines(3000) });
    let relistFailed = false;
    const warn = (m: string, f?: unknown) => {
      warnings.push(`${m} ${JSON.stringify(f)}`);
      // the restore found: the relist it starts is held until its calls time out
      if (m.includes('went back') && !relistFailed) hold.holdMs = 600_000;
      // that relist failed (etcd did not answer in time): etcd answers again
      if (m.startsWith('cache restart failed') && hold.holdMs && !relistFailed) { relistFailed = true; hold.holdMs = 0; proxy.cut(); proxy.heal(); }
    };
    const cache = new KvCache(client, '/rf/', { log: { warn, error: () => undefined, info: () => undefined, debug: () => undefined } as never });
    const snapshot = join(etcd.dataDir, 'backup-rf.db');
    try {
      await cache.start();
      await direct.put('/rf/A').value('a');
      etcdctl(['--endpoints', etcd.endpoints[0], 'snapshot', 'save', snapshot]);
      await direct.put('/rf/C').value('c');
      for (let i = 0; i < 15; i++) await direct.put('/rf/n').value(String(i));
      expect(await pollUntil(() => cache.get('/rf/n')?.value === '14', 10_000)).toBe(true);

      await restore(snapshot);
      await putSoon('/rf/D', 'd');
      expect(await pollUntil(() => relistFailed, 60_000), `the first relist failed; logged: ${warnings.join(' / ')}`).toBe(true);
      await direct.put('/rf/E').value('e');
      const converged = () => cache.get('/rf/A')?.value === 'a' && cache.get('/rf/D')?.value === 'd'
        && cache.get('/rf/E')?.value === 'e' && !cache.get('/rf/C') && !cache.get('/rf/n');
      expect(await pollUntil(converged, 30_000), `stale cache: ${[...cache.entries()].map((kv) => kv.key).join(',')}; logged: ${warnings.join(' / ')}`).toBe(true);
    } finally {
      await cache.close();
      client.close();
      await proxy.close();
      rmSync(snapshot, { force: true });
    }
  }, 120_000);
});
