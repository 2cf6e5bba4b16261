// Real etcd for tests: free loopback ports, a temporary data dir, stopped and removed after.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import type { EtcdLimits } from '../../pkg/etcd/limits.js';
import { callDeadlines } from '../../pkg/etcd/client.js';
import { etcdClientCredentials, startEtcdServer, startEtcdCluster, type EtcdServer, type EtcdTlsOptions } from '../../pkg/etcd/server.js';

export interface TestEtcd {
  endpoints: string[];
  members: EtcdServer[];
  dataDir: string;
  /** a new client; closed by stop() */
  client(): Etcd3;
  stop(): Promise<void>;
}

/**
 * `tls`: one member serving https (clusters are plain HTTP); client() then uses its CA and client certificate.
 * `limits`: only for a test about raised limits (ETCD_RAISED_LIMITS); otherwise etcd's defaults, as a stock etcd.
 */
export async function startEtcd(opts: { members?: 1 | 3; tls?: EtcdTlsOptions; limits?: EtcdLimits } = {}): Promise<TestEtcd> {
  const dataDir = mkdtempSync(join(tmpdir(), 'xnet-etcd-'));
  let members: EtcdServer[];
  try {
    members = opts.members === 3
      ? await startEtcdCluster(3, dataDir, opts.limits)
      : [await startEtcdServer({ dataDir, limits: opts.limits, ...(opts.tls ? { tls: opts.tls } : {}) })];
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const endpoints = members.flatMap((m) => m.endpoints);
  const clients: Etcd3[] = [];
  return {
    endpoints,
    members,
    dataDir,
    client() {
      const c = new Etcd3({ hosts: endpoints, dialTimeout: 3000, defaultCallOptions: callDeadlines(), ...(opts.tls ? { credentials: etcdClientCredentials(opts.tls) } : {}) });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.close();
      await Promise.all(members.map((m) => m.stop()));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
