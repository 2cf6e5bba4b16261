// Real etcd for tests: free loopback ports, a temporary data dir, stopped and removed after.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { etcdClientCredentials, startEtcdServer, startEtcdCluster, type EtcdServer, type EtcdTlsOptions } from '../../pkg/etcd/server.js';

export interface TestEtcd {
  endpoints: string[];
  members: EtcdServer[];
  dataDir: string;
  /** a new client; closed by stop() */
  client(): Etcd3;
  stop(): Promise<void>;
}

/** `tls`: one member serving https (clusters are plain HTTP); client() then uses its CA and client certificate. */
export async function startEtcd(opts: { members?: 1 | 3; tls?: EtcdTlsOptions } = {}): Promise<TestEtcd> {
  const dataDir = mkdtempSync(join(tmpdir(), 'xnet-etcd-'));
  let members: EtcdServer[];
  try {
    members = opts.members === 3 ? await startEtcdCluster(3, dataDir) : [await startEtcdServer({ dataDir, ...(opts.tls ? { tls: opts.tls } : {}) })];
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
      const c = new Etcd3({ hosts: endpoints, dialTimeout: 3000, ...(opts.tls ? { credentials: etcdClientCredentials(opts.tls) } : {}) });
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
