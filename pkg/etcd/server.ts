// Starts a real etcd process: used by the test harness and by `xctl lab up`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { etcdLimitFlags, type EtcdLimits } from './limits.js';
import { LabError } from '../errors.js';
import { callDeadlines, quietIpServernameWarning } from './client.js';

/** Client-facing TLS of one etcd (PEM file paths). Peers stay plain HTTP on loopback. */
export interface EtcdTlsOptions {
  certFile: string;
  keyFile: string;
  /** CA that clients verify the server with, and that signs client certificates */
  trustedCaFile: string;
  /** refuse clients without a certificate signed by trustedCaFile */
  clientCertAuth?: boolean;
  /** the certificate the health check presents; required with clientCertAuth */
  clientCertFile?: string;
  clientKeyFile?: string;
}

/** etcd3 `credentials` for a client of a server started with `tls`. */
export function etcdClientCredentials(tls: EtcdTlsOptions): { rootCertificate: Buffer; certChain?: Buffer; privateKey?: Buffer } {
  return {
    rootCertificate: readFileSync(tls.trustedCaFile),
    ...(tls.clientCertFile && tls.clientKeyFile ? { certChain: readFileSync(tls.clientCertFile), privateKey: readFileSync(tls.clientKeyFile) } : {}),
  };
}

export interface EtcdServerOptions {
  dataDir: string;
  name?: string;
  clientPort?: number;
  peerPort?: number;
  /** for clusters: "n1=http://127.0.0.1:p1,n2=..." and this member's name must be in it */
  initialCluster?: string;
  /** members of one cluster must share it */
  clusterToken?: string;
  logFile?: string;
  /** detach so the process outlives the caller (the lab) */
  detached?: boolean;
  /** serve clients over https with these certificates */
  tls?: EtcdTlsOptions;
  /** raised request limits; etcd's defaults (128 ops, 1.5 MiB) when absent, as a stock etcd has */
  limits?: EtcdLimits;
  /** the etcd binary: a name looked up on PATH, or a path ("etcd" when absent) */
  binary?: string;
}

export interface EtcdServer {
  name: string;
  endpoints: string[];
  clientPort: number;
  peerPort: number;
  pid: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export class EtcdStartError extends LabError {
  constructor(message: string) { super('EtcdStartFailed', message); }
}

function tlsFlags(tls: EtcdTlsOptions): string[] {
  // Without a client certificate the health check could never pass: say so now, not after the timeout.
  if (tls.clientCertAuth && !(tls.clientCertFile && tls.clientKeyFile)) {
    throw new EtcdStartError('etcd TLS with clientCertAuth needs clientCertFile and clientKeyFile for the health check');
  }
  return [
    '--cert-file', tls.certFile, '--key-file', tls.keyFile, '--trusted-ca-file', tls.trustedCaFile,
    ...(tls.clientCertAuth ? ['--client-cert-auth'] : []),
  ];
}

export async function startEtcdServer(o: EtcdServerOptions): Promise<EtcdServer> {
  const name = o.name ?? 'default';
  const clientPort = o.clientPort ?? (await freePort());
  const peerPort = o.peerPort ?? (await freePort());
  const tls = o.tls ? tlsFlags(o.tls) : [];
  mkdirSync(o.dataDir, { recursive: true });
  const client = `${o.tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name', name, '--data-dir', join(o.dataDir, name),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', o.initialCluster ?? `${name}=${peer}`,
    '--initial-cluster-state', 'new', '--initial-cluster-token', o.clusterToken ?? `xnet-${name}-${clientPort}`,
    '--logger', 'zap', '--log-outputs', 'stderr',
    ...tls,
    ...(o.limits ? etcdLimitFlags(o.limits) : []),
  ];
  const logFile = o.logFile ?? join(o.dataDir, `${name}.log`);
  const logFd = openSync(logFile, 'a');
  const child = spawn(o.binary ?? 'etcd', args, { stdio: ['ignore', logFd, logFd], detached: !!o.detached });
  closeSync(logFd);
  if (o.detached) child.unref();
  let exited = false;
  child.once('exit', () => { exited = true; });
  // A missing binary is an 'error' event, not an exit: without a listener it is an uncaught
  // exception, and a start (a cluster member's too) would wait the whole health deadline.
  const spawnError = await new Promise<Error | undefined>((r) => { child.once('spawn', () => r(undefined)); child.once('error', r); });
  if (spawnError) throw new EtcdStartError(`cannot run ${o.binary ?? 'etcd'}: ${spawnError.message} (is etcd installed and on PATH? scripts/setup.sh installs it)`);
  const stop = async () => {
    if (exited || child.exitCode !== null) return;
    const done = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  };
  const server: EtcdServer = { name, endpoints: [client], clientPort, peerPort, pid: child.pid!, process: child, stop };
  if (!o.initialCluster) {
    try {
      await waitHealthy(server.endpoints, { exited: () => exited, logFile, ...(o.tls ? { tls: o.tls } : {}) });
    } catch (e) {
      await stop();
      throw e;
    }
  }
  return server;
}

export interface WaitHealthyOptions {
  /** true once the process is gone: stop waiting at once */
  exited?: () => boolean;
  /** named in the error when etcd exits during start-up */
  logFile?: string;
  timeoutMs?: number;
  /** https endpoints: verify with the CA and present the client certificate */
  tls?: EtcdTlsOptions;
}

export async function waitHealthy(endpoints: string[], o: WaitHealthyOptions = {}): Promise<void> {
  const { exited = () => false, logFile = '', timeoutMs = 20000 } = o;
  const deadline = Date.now() + timeoutMs;
  if (o.tls) quietIpServernameWarning();
  const c = new Etcd3({ hosts: endpoints, dialTimeout: 1000, defaultCallOptions: callDeadlines(2000), ...(o.tls ? { credentials: etcdClientCredentials(o.tls) } : {}) });
  try {
    for (;;) {
      if (exited()) throw new EtcdStartError(`etcd exited during start-up (see ${logFile || 'its log'})`);
      try { await c.get('health').string(); return; } catch { /* not yet */ }
      if (Date.now() > deadline) throw new EtcdStartError(`etcd at ${endpoints.join(',')} not healthy after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    c.close();
  }
}

/** A cluster of n members on loopback (tests of quorum loss and failover). */
export async function startEtcdCluster(n: number, dataDir: string, limits?: EtcdLimits): Promise<EtcdServer[]> {
  const ports = await Promise.all(Array.from({ length: n }, async () => ({ c: await freePort(), p: await freePort() })));
  const initialCluster = ports.map((x, i) => `m${i}=http://127.0.0.1:${x.p}`).join(',');
  const clusterToken = `xnet-cluster-${ports[0].c}`;
  const members = await Promise.all(ports.map((x, i) => startEtcdServer({ dataDir, name: `m${i}`, clientPort: x.c, peerPort: x.p, initialCluster, clusterToken, limits })));
  await waitHealthy(members.flatMap((m) => m.endpoints));
  return members;
}
