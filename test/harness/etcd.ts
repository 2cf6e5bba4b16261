// Real etcd for tests: free loopback ports, a temporary data dir, stopped and removed after.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import type { EtcdLimits } from '../../pkg/etcd/limits.js';
import { etcdClientCredentials, startEtcdServer, startEtcdCluster, type EtcdServer, type EtcdTlsOptions } from '../../pkg/etcd/server.js';
import { connectionAs, loopbackServerTls, type ClusterIdentities } from '../../pkg/auth/bootstrap.js';
import { cachedClusterIdentities, cachedNodeIdentity } from './pki-cache.js';
import { addNodeAuth, initAuth } from '../../pkg/auth/etcd-auth.js';
import type { Identity } from '../../pkg/auth/pki.js';
import { callDeadlines, createEtcdClient, etcdChannelOptions, etcdFaultHandling, instrument, type EtcdConnection } from '../../pkg/etcd/client.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';
import { timeEtcdRequest } from '../../pkg/metrics/metrics.js';

export interface TestEtcd {
  endpoints: string[];
  members: EtcdServer[];
  dataDir: string;
  /** a new client (as etcd's root when auth is on); closed by stop() */
  client(): Etcd3;
  /** with auth: true, the CA and identities, and clients as any of them */
  auth?: TestEtcdAuth;
  /** the server's TLS, to restart a member as it was */
  tls?: EtcdTlsOptions;
  stop(): Promise<void>;
}

/** An etcd with TLS client-certificate auth and `auth enable`, roles as `xctl auth init` makes them. */
export interface TestEtcdAuth {
  ids: ClusterIdentities;
  /** --cacert/--cert/--key of an identity, e.g. for a program the test starts */
  connection(id: Identity): EtcdConnection;
  /** a client as that identity; closed by stop() */
  clientAs(id: Identity): Etcd3;
  /** node-<name>'s certificate, user and role (idempotent) */
  addNode(name: string): Promise<Identity>;
}

/**
 * `tls`: every member serves https; client() then uses its CA and client certificate.
 * `auth`: TLS with client certificates and etcd auth enabled (roles of pkg/auth/roles.ts); client() is root.
 *   Without it, only for tests acting as the controller or the admin, whose roles auth would not
 *   restrict (docs/contributing.md, "Which etcd").
 * `limits`: only for a test about raised limits (ETCD_RAISED_LIMITS); otherwise etcd's defaults, as a stock etcd.
 */
export async function startEtcd(opts: { members?: 1 | 3; tls?: EtcdTlsOptions; auth?: boolean; limits?: EtcdLimits } = {}): Promise<TestEtcd> {
  const dataDir = mkdtempSync(join(tmpdir(), 'xnet-etcd-'));
  let members: EtcdServer[] = [];
  let ids: ClusterIdentities | undefined;
  try {
    if (opts.auth) {
      ids = await cachedClusterIdentities(join(dataDir, 'pki'));
      opts = { ...opts, tls: await loopbackServerTls(ids) };
    }
    members = opts.members === 3
      ? await startEtcdCluster(3, dataDir, { limits: opts.limits, tls: opts.tls })
      : [await startEtcdServer({ dataDir, limits: opts.limits, ...(opts.tls ? { tls: opts.tls } : {}) })];
    if (ids) {
      const root = createEtcdClient(connectionAs(members[0].endpoints, ids.ca.caCert, ids.root));
      await initAuth(root).finally(() => root.close());
    }
  } catch (e) {
    // members already running when auth's set-up failed are stopped, not left to the worker's next files
    await Promise.all(members.map((m) => m.stop().catch(() => undefined)));
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const endpoints = members.flatMap((m) => m.endpoints);
  const clients: Etcd3[] = [];
  const auth: TestEtcdAuth | undefined = ids && {
    ids,
    connection: (id) => connectionAs(endpoints, ids.ca.caCert, id),
    clientAs(id) {
      // timed as the daemons' clients are: in-process daemons' metrics include their etcd requests
      const c = createEtcdClient(connectionAs(endpoints, ids.ca.caCert, id), timeEtcdRequest);
      clients.push(c);
      return c;
    },
    async addNode(name) {
      const id = await cachedNodeIdentity(ids, name);
      const root = createEtcdClient(connectionAs(endpoints, ids.ca.caCert, ids.root));
      await addNodeAuth(root, name).finally(() => root.close());
      return id;
    },
  };
  return {
    endpoints,
    members,
    dataDir,
    auth,
    ...(opts.tls ? { tls: opts.tls } : {}),
    client() {
      const c = instrument(new Etcd3({ hosts: endpoints, dialTimeout: 3000, defaultCallOptions: callDeadlines(), grpcOptions: etcdChannelOptions(), faultHandling: etcdFaultHandling(endpoints.length), ...(opts.tls ? { credentials: etcdClientCredentials(opts.tls) } : {}) }), timeEtcdRequest);
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

/** A test file's etcd (default limits), a client of it and a store over that client: what store tests start with. */
export async function startStoreEtcd(): Promise<{ etcd: TestEtcd; client: Etcd3; store: EtcdStore }> {
  const etcd = await startEtcd();
  const client = etcd.client();
  return { etcd, client, store: createEtcdStore(client) };
}

/** A gauge or counter of etcd's own /metrics (the test etcd serves them on its client URL). */
export async function etcdMetric(endpoint: string, name: string): Promise<number> {
  const text = await (await fetch(`${endpoint}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`etcd exports no ${name}`);
  return Number(line.split(' ')[1]);
}
