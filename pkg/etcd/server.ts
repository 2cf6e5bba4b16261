// Starts a real etcd process: used by the test harness and by `xctl lab up`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, fstatSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { noop } from 'cockatiel';
import { etcdLimitFlags, type EtcdLimits } from './limits.js';
import { LabError } from '../errors.js';
import { callDeadlines, quietIpServernameWarning } from './client.js';
import { releaseUnusedSubchannels } from './subchannel-release.js';

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
  /** picks a free loopback port for a port not given (freePort when absent; tests pick taken ones) */
  pickPort?: () => Promise<number>;
}

export interface EtcdServer {
  name: string;
  endpoints: string[];
  clientPort: number;
  peerPort: number;
  pid: number;
  process: ChildProcess;
  /** where its output goes, and the size that file had before this process started */
  logFile: string;
  logStart: number;
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

/**
 * Starts attempts until one binds: a port picked free can be bound by another process before
 * etcd binds it (the parallel suite's outgoing connections draw from the same range), and etcd
 * then exits at once, before it writes its data dir. Ports given by the caller are not re-picked.
 */
const PORT_ATTEMPTS = 5;

export async function startEtcdServer(o: EtcdServerOptions): Promise<EtcdServer> {
  const pick = o.pickPort ?? freePort;
  for (let attempt = 1; ; attempt++) {
    const clientPort = o.clientPort ?? (await pick());
    let peerPort = o.peerPort ?? (await pick());
    for (let i = 0; peerPort === clientPort && o.peerPort === undefined && i < PORT_ATTEMPTS; i++) peerPort = await pick();
    try {
      return await startEtcdProcess(o, clientPort, peerPort);
    } catch (e) {
      // only a port this start picked is picked again: a port the caller gave stays taken
      const picked = e instanceof EtcdPortInUseError
        && ((e.port === clientPort && o.clientPort === undefined) || (e.port === peerPort && o.peerPort === undefined));
      if (!picked || attempt >= PORT_ATTEMPTS) throw e;
    }
  }
}

function etcdArgs(o: EtcdServerOptions, name: string, client: string, peer: string, clientPort: number): string[] {
  return [
    '--name', name, '--data-dir', join(o.dataDir, name),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', o.initialCluster ?? `${name}=${peer}`,
    '--initial-cluster-state', 'new', '--initial-cluster-token', o.clusterToken ?? `xnet-${name}-${clientPort}`,
    '--logger', 'zap', '--log-outputs', 'stderr',
    ...(o.tls ? tlsFlags(o.tls) : []),
    ...(o.limits ? etcdLimitFlags(o.limits) : []),
  ];
}

async function startEtcdProcess(o: EtcdServerOptions, clientPort: number, peerPort: number): Promise<EtcdServer> {
  const name = o.name ?? 'default';
  const client = `${o.tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  const args = etcdArgs(o, name, client, `http://127.0.0.1:${peerPort}`, clientPort);
  mkdirSync(o.dataDir, { recursive: true });
  const logFile = o.logFile ?? join(o.dataDir, `${name}.log`);
  const logFd = openSync(logFile, 'a');
  const logStart = fstatSync(logFd).size;
  const child = spawn(o.binary ?? 'etcd', args, { stdio: ['ignore', logFd, logFd], detached: !!o.detached });
  closeSync(logFd);
  if (o.detached) child.unref();
  let exited = false;
  child.once('exit', () => { exited = true; });
  // A missing binary is an 'error' event, not an exit: without a listener it is an uncaught
  // exception, and a start (a cluster member's too) would wait the whole health deadline.
  const spawnError = await new Promise<Error | undefined>((r) => { child.once('spawn', () => r(undefined)); child.once('error', r); });
  if (spawnError) throw new EtcdStartError(`cannot run ${o.binary ?? 'etcd'}: ${spawnError.message} (is etcd installed and on PATH? scripts/setup.sh installs it)`);
  const stop = () => stopChild(child, () => exited);
  const server: EtcdServer = { name, endpoints: [client], clientPort, peerPort, pid: child.pid!, process: child, logFile, logStart, stop };
  if (!o.initialCluster) {
    try {
      await waitHealthy(server.endpoints, { exited: () => exited, logFile, peerUrl: `http://127.0.0.1:${peerPort}`, ...(o.tls ? { tls: o.tls } : {}) });
    } catch (e) {
      await stop();
      throw exited ? startFailure(server, e) : e;
    }
  }
  return server;
}

async function stopChild(child: ChildProcess, exited: () => boolean): Promise<void> {
  if (exited() || child.exitCode !== null) return;
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(t);
}

/** A port another process bound first (`port`); the start may be tried again on other ports. */
export class EtcdPortInUseError extends EtcdStartError {
  constructor(message: string, readonly port: number) { super(message); }
}

/** The error for an etcd that exited during start-up, naming a port in use when its log says so. */
function startFailure(server: EtcdServer, e: unknown): unknown {
  let log = '';
  try { log = readFileSync(server.logFile).subarray(server.logStart).toString(); } catch { /* no log: the plain error */ }
  const bind = /listen tcp [^\s"]+:(\d+): bind: address already in use/.exec(log);
  return bind ? new EtcdPortInUseError(`etcd exited during start-up: ${bind[0]} (see ${server.logFile})`, Number(bind[1])) : e;
}

export interface WaitHealthyOptions {
  /** true once the process is gone: stop waiting at once */
  exited?: () => boolean;
  /** named in the error when etcd exits during start-up */
  logFile?: string;
  timeoutMs?: number;
  /** https endpoints: verify with the CA and present the client certificate */
  tls?: EtcdTlsOptions;
  /** the started etcd's peer URL: an etcd answering without it among its members is another one, on a port picked taken */
  peerUrl?: string;
}

export async function waitHealthy(endpoints: string[], o: WaitHealthyOptions = {}): Promise<void> {
  const { exited = () => false, logFile = '', timeoutMs = 20000 } = o;
  const deadline = Date.now() + timeoutMs;
  if (o.tls) quietIpServernameWarning();
  // the probes refused before etcd listens would otherwise leave connections open in this process
  releaseUnusedSubchannels();
  // No fault handling: this loop is the retry. etcd3's default tries a refused call 3 times and
  // then keeps the host's circuit open for 5 s, so a probe sent before etcd listened made every
  // start wait those 5 s (seen: ready after 0.85 s, healthy after 5.07 s).
  const c = new Etcd3({
    hosts: endpoints, dialTimeout: 1000, defaultCallOptions: callDeadlines(2000), faultHandling: { host: () => noop, global: noop },
    ...(o.tls ? { credentials: etcdClientCredentials(o.tls) } : {}),
  });
  try {
    for (;;) {
      if (exited()) throw new EtcdStartError(`etcd exited during start-up (see ${logFile || 'its log'})`);
      const answers = await c.get('health').string().then(() => true, () => false);
      const member = answers ? (o.peerUrl ? await isMember(c, o.peerUrl) : true) : undefined;
      if (member) return;
      if (member === false && !exited()) throw new EtcdPortInUseError(`another etcd answers at ${endpoints.join(',')}: ${o.peerUrl} is not among its members`, Number(new URL(endpoints[0]).port));
      if (Date.now() > deadline) throw new EtcdStartError(`etcd at ${endpoints.join(',')} not healthy after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    c.close();
  }
}

/** Whether `peerUrl` is a member of the cluster `c` reaches; undefined when that cannot be read yet. */
async function isMember(c: Etcd3, peerUrl: string): Promise<boolean | undefined> {
  try {
    return (await c.cluster.memberList({})).members.some((m) => m.peerURLs.includes(peerUrl));
  } catch {
    return undefined;
  }
}

export interface EtcdClusterOptions {
  /** raised request limits; etcd's defaults when absent */
  limits?: EtcdLimits;
  /** serve clients over https (members talk to each other over plain http on loopback) */
  tls?: EtcdTlsOptions;
  /** each member's log (default: <dataDir>/<name>.log) */
  logFile?: (name: string) => string;
  clusterToken?: string;
  pickPort?: () => Promise<number>;
  /** each member's health wait (default waitHealthy's) */
  healthTimeoutMs?: number;
  /** called as each member's process starts, before the health waits: a lab records its pid at once */
  onSpawn?: (member: EtcdServer) => void;
}

/** A cluster of n members (m0, m1...) on loopback (tests of quorum loss and failover, the chaos lab). */
export async function startEtcdCluster(n: number, dataDir: string, o: EtcdClusterOptions = {}): Promise<EtcdServer[]> {
  for (let attempt = 1; ; attempt++) {
    const members = await startClusterMembers(n, dataDir, o);
    const exited = (m: EtcdServer) => m.process.exitCode !== null || m.process.signalCode !== null;
    let failed = false; // ends the other members' waits once one has failed
    try {
      // each member through its own endpoint: two members alone would answer for all three
      await Promise.all(members.map((m) => waitHealthy(m.endpoints, { exited: () => failed || exited(m), logFile: m.logFile, peerUrl: `http://127.0.0.1:${m.peerPort}`, timeoutMs: o.healthTimeoutMs, ...(o.tls ? { tls: o.tls } : {}) })));
      return members;
    } catch (e) {
      failed = true;
      await Promise.all(members.map((m) => m.stop()));
      const failure = members.map((m) => (exited(m) ? startFailure(m, e) : e)).find((x) => x instanceof EtcdPortInUseError) ?? e;
      if (!(failure instanceof EtcdPortInUseError) || attempt >= PORT_ATTEMPTS) throw failure;
      // a new cluster on new ports: what a member wrote under the old ones must not join it
      members.forEach((m) => rmSync(join(dataDir, m.name), { recursive: true, force: true }));
    }
  }
}

async function startClusterMembers(n: number, dataDir: string, o: EtcdClusterOptions): Promise<EtcdServer[]> {
  const pick = o.pickPort ?? freePort;
  const ports: { c: number; p: number }[] = [];
  const used = new Set<number>();
  const pickUnused = async () => { let p = await pick(); for (let i = 0; used.has(p) && i < PORT_ATTEMPTS; i++) p = await pick(); used.add(p); return p; };
  for (let i = 0; i < n; i++) ports.push({ c: await pickUnused(), p: await pickUnused() });
  const initialCluster = ports.map((x, i) => `m${i}=http://127.0.0.1:${x.p}`).join(',');
  const clusterToken = o.clusterToken ?? `xnet-cluster-${ports[0].c}`;
  const member = (x: { c: number; p: number }, name: string): EtcdServerOptions => ({
    dataDir, name, clientPort: x.c, peerPort: x.p, initialCluster, clusterToken, limits: o.limits, tls: o.tls, logFile: o.logFile?.(name),
  });
  const started = await Promise.allSettled(ports.map(async (x, i) => { const m = await startEtcdServer(member(x, `m${i}`)); o.onSpawn?.(m); return m; }));
  const members = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(members.map((m) => m.stop()));
    throw failed.reason;
  }
  return members;
}
