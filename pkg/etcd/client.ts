import { guardWatchResponses } from './watch-guard.js';
import { releaseUnusedSubchannels } from './subchannel-release.js';
import { attemptFailed } from './attempts.js';
import { neverSent } from './errors.js';
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { Etcd3, GRPCResourceExhastedError, isRecoverableError, type IOptions } from 'etcd3';
import { circuitBreaker, ConsecutiveBreaker, handleWhen, noop, retry } from 'cockatiel';
import { UsageError } from '../errors.js';
import { HOST_BREAKER_FAILURES, watchKeepAlive, type KeepAlivePool } from './lease-watchdog.js';
import { isNoLeader, memberAnswers, NO_LEADER, requireLeader, type LeaderPool, type WithConnection } from './require-leader.js';

/** TLS files for etcd, as the flags give them. */
export interface TlsFiles { cacert?: string; cert?: string; key?: string }

/**
 * Whether TLS files were given: the client then speaks TLS to every endpoint, whatever its
 * scheme (etcd3), and a bare HOST:PORT is read as https (endpoints.ts).
 */
export function tlsFilesGiven(f: TlsFiles): boolean {
  return !!(f.cacert || f.cert || f.key);
}

export interface EtcdConnection extends TlsFiles {
  endpoints: string[];
}

/** Bad connection flags or TLS files: a usage error, found before any I/O. */
export class EtcdConfigError extends UsageError {
  constructor(message: string) { super(message, 'EtcdConfig'); }
}

/**
 * The largest etcd response this process takes. gRPC's default, 4 MiB, is less than a page of
 * 2,000 keys whose values average 2 KB; the client then fails the call with RESOURCE_EXHAUSTED,
 * which etcd3 counts as a fault of the host (its circuit breaker refuses every call for a while).
 * etcd sends responses of any size; Kubernetes' API server raises its client's limit the same way.
 */
export const ETCD_RECEIVE_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * gRPC keepalive: a ping every 10 s on a connection with a call open, the connection dropped
 * when none is answered within 5 s. A watch stream sends nothing once made, so without it a
 * connection that went silent (a member's host powered off, a partition: no FIN, no RST)
 * left every watch on it dead until the kernel's TCP timeout, minutes later, while unary calls
 * went on over other connections (test/integration/store-blackhole.test.ts). etcd refuses
 * pings more often than --grpc-keepalive-min-time (5 s) and any ping with no call open.
 */
const KEEPALIVE = { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000 };

/** gRPC channel options every xnet etcd client uses. */
export function etcdChannelOptions(): NonNullable<IOptions['grpcOptions']> {
  return { 'grpc.max_receive_message_length': ETCD_RECEIVE_LIMIT_BYTES, ...KEEPALIVE };
}

/**
 * A response larger than this client takes (gRPC's RESOURCE_EXHAUSTED, raised by the client
 * itself); not etcd's own RESOURCE_EXHAUSTED answers ("too many requests", "database space
 * exceeded"), which etcd3 still retries and counts.
 */
export function isResponseTooLarge(err: unknown): boolean {
  return err instanceof GRPCResourceExhastedError && /larger than max/i.test(err.message);
}

/**
 * etcd3's own fault handling (a host's circuit opens after 3 failures in a row, for 5 s; a
 * failed call is tried 3 times), except that a response larger than this client takes
 * (RESOURCE_EXHAUSTED) is neither tried again nor the host's fault: it is that request's, a
 * page of values some node made large, and the lister asks again for a smaller page
 * (pkg/etcd/range.ts). etcd3's default counted it, so one such page refused every call to
 * the host for 5 s, the controller's lease renewals too.
 *
 * A circuit sends calls to the other members while one is failing; a client of `members` = 1
 * (one etcd, or one VIP or load balancer in front of a cluster) has none, and its open circuit
 * refused every call for 5 s after a dropped connection although etcd was back within
 * milliseconds: lease keep-alives and the leader's transactions too, so a Node went NodeLost or
 * a leader lost its term. Such a client has no circuit: each call is tried on the endpoint
 * (test/integration/etcd-single-endpoint.test.ts).
 */
export function etcdFaultHandling(members: number): NonNullable<IOptions['faultHandling']> {
  const callFault = (e: Error) => isRecoverableError(e) && !isResponseTooLarge(e);
  // a member without a leader (require-leader.ts) is no fault of the member's during an
  // election, when every member says so: counted, it would open every circuit for 5 s after it
  const hostFault = handleWhen((e) => callFault(e) && !isNoLeader(e));
  return {
    host: () => (members > 1 ? circuitBreaker(hostFault, { halfOpenAfter: 5000, breaker: new ConsecutiveBreaker(HOST_BREAKER_FAILURES) }) : noop),
    // tried again at once on the next member: the one cut off from its peers answers so at once
    // (a refusal carries no recoverable mark: require-leader.ts keeps the member's connection)
    global: retry(handleWhen((e) => callFault(e) || isNoLeader(e)), { maxAttempts: 3 }),
  };
}

/** Every unary etcd call (range, txn, lease grant, ...) fails after this long instead of hanging. */
export const ETCD_CALL_TIMEOUT_MS = 10_000;

/**
 * etcd3 call options that put a deadline on every unary call. Streams (watch, lease
 * keep-alive) have none: they live as long as the program, and their loss is handled by
 * the watch and lease code.
 */
export function callDeadlines(ms = ETCD_CALL_TIMEOUT_MS): IOptions['defaultCallOptions'] {
  return (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + ms });
}

let ipServernameWarningQuiet = false;

/**
 * grpc-js passes the endpoint's host as the TLS server name, and Node warns (DEP0123) when
 * that is an IP address, as etcd endpoints usually are. The certificate is still checked
 * against the IP; only that one warning, which users can do nothing about, is dropped.
 */
export function quietIpServernameWarning(): void {
  if (ipServernameWarningQuiet) return;
  ipServernameWarningQuiet = true;
  const emit = process.emitWarning.bind(process) as (...a: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    const code = typeof rest[0] === 'object' ? (rest[0] as { code?: string } | null)?.code : rest[1];
    if (code === 'DEP0123') return;
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}

/**
 * Times one unary etcd request (`service.method`, e.g. KV.txn). The daemons pass the one that
 * feeds xnet_etcd_request_duration_seconds (metrics.ts); xctl passes none, and so never loads
 * prom-client, a tenth of a CPU second of every xctl run's start.
 */
export type RequestTimer = <T>(method: string, call: () => Promise<T>) => Promise<T>;

/**
 * Builds an etcd3 client; TLS files are read here so a missing file fails before any I/O.
 * `timer` times every unary request (see instrument()).
 */
export function createEtcdClient(conn: EtcdConnection, timer?: RequestTimer): Etcd3 {
  if (conn.endpoints.length === 0) throw new EtcdConfigError('no etcd endpoints given');
  // an endpoint given twice is one etcd: one member (no circuit, etcdFaultHandling), one connection
  const hosts = [...new Set(conn.endpoints)];
  const opts: IOptions = { hosts, dialTimeout: 5000, defaultCallOptions: callDeadlines(), grpcOptions: etcdChannelOptions(), faultHandling: etcdFaultHandling(hosts.length) };
  if (tlsFilesGiven(conn)) {
    if (!conn.cacert) throw new EtcdConfigError('--cert/--key need --cacert');
    // gRPC refuses one without the other only when connecting, in its own words, exit 1
    if (conn.cert && !conn.key) throw new EtcdConfigError('--cert needs --key (the private key of that certificate): give both, or neither');
    if (conn.key && !conn.cert) throw new EtcdConfigError('--key needs --cert (the certificate of that key): give both, or neither');
    opts.credentials = {
      rootCertificate: readPemCertificates(conn.cacert, '--cacert'),
      ...(conn.cert ? { certChain: readPemCertificates(conn.cert, '--cert') } : {}),
      ...(conn.key ? { privateKey: readPemPrivateKey(conn.key, '--key') } : {}),
    };
  }
  // etcd3 speaks TLS to every endpoint when given TLS files, whatever their scheme says
  if (opts.credentials || conn.endpoints.some((e) => e.startsWith('https:'))) quietIpServernameWarning();
  return instrument(new Etcd3(opts), timer);
}

function readTlsFile(file: string, flag: string): Buffer {
  try { return readFileSync(file); } catch (e) { throw new EtcdConfigError(`${flag} ${file}: ${(e as Error).message}`); }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/**
 * A file of PEM certificates (a CA bundle, a chain), each one parsed. gRPC drops what is not
 * PEM without a word (a CA that is no CA fails every handshake, reported as etcd unreachable),
 * so a file that holds none is a usage error here, naming the flag and the file.
 */
function readPemCertificates(file: string, flag: string): Buffer {
  const pem = readTlsFile(file, flag);
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new EtcdConfigError(`${flag} ${file}: not a PEM certificate (no "-----BEGIN CERTIFICATE-----" block)`);
  for (const block of blocks) {
    try { new X509Certificate(block); } catch (e) { throw new EtcdConfigError(`${flag} ${file}: not a valid PEM certificate: ${(e as Error).message}`); }
  }
  return pem;
}

/** A PEM private key that Node can use as it is (no passphrase: gRPC could not give one). */
function readPemPrivateKey(file: string, flag: string): Buffer {
  const pem = readTlsFile(file, flag);
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem.toString('latin1'))) {
    throw new EtcdConfigError(`${flag} ${file}: not a PEM private key (no "-----BEGIN ... PRIVATE KEY-----" block)`);
  }
  try { createPrivateKey(pem); } catch (e) { throw new EtcdConfigError(`${flag} ${file}: not a usable PEM private key: ${(e as Error).message}`); }
  return pem;
}

type Exec = (service: string, method: string, payload: unknown, options?: unknown) => Promise<unknown>;
// Refusals that left the request without effect, so that sending it again is safe (etcd's own
// Go client does the same). With auth on, etcd checks a request against its auth store when it
// applies it and refuses it with the first text when a user, role or grant changed since the
// request came in (for example `xctl auth add-node` while the daemons run). The second is a
// member without a leader refusing a request that requires one (require-leader.ts): during an
// election every member says so until a leader is elected.
const REFUSED_WITHOUT_EFFECT = [/revision of auth store is old/i, NO_LEADER];
/**
 * How a request refused that way is sent again: after 20 ms, doubling to at most 250 ms apart,
 * for as long as a unary call may take anyway (ETCD_CALL_TIMEOUT_MS). A burst of auth changes
 * (adding a node is about eight) or an election ends long before that; a loaded etcd may take
 * seconds.
 */
export const AUTH_REVISION_RETRY = { firstDelayMs: 20, maxDelayMs: 250, budgetMs: ETCD_CALL_TIMEOUT_MS };

const refusedWithoutEffect = (e: unknown) => REFUSED_WITHOUT_EFFECT.some((r) => r.test((e as Error)?.message ?? ''));

/**
 * Each failed attempt of a request is noted (attempts.ts): whether it may have reached etcd,
 * which the error of the request's last attempt alone does not tell.
 */
function noteFailedAttempts(pool: { withConnection?: WithConnection }): void {
  if (typeof pool.withConnection !== 'function') return;
  const withConnection = pool.withConnection.bind(pool);
  const failed = (e: unknown): never => { attemptFailed(neverSent(e) || refusedWithoutEffect(e)); throw e; };
  pool.withConnection = (service, fn, hosts) => withConnection(service, (c) => {
    let r: unknown;
    try { r = fn(c); } catch (e) { failed(e); }
    return r instanceof Promise ? r.catch(failed) : r;
  }, hosts);
}

/** `call()`, sent again (bounded in time) while etcd refuses it without effect (above). */
export async function retryRefusedWithoutEffect<T>(call: () => Promise<T>, retry = AUTH_REVISION_RETRY): Promise<T> {
  const giveUpAt = Date.now() + retry.budgetMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      const delay = Math.min(retry.firstDelayMs * 2 ** (attempt - 1), retry.maxDelayMs);
      if (Date.now() + delay > giveUpAt || !refusedWithoutEffect(e)) throw e;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/**
 * Every lease the client keeps alive itself gets the keep-alive watchdog (lease-watchdog.ts),
 * which asks a member whether it answers before it opens its circuit.
 */
function watchKeepAlives(client: Etcd3, pool: Partial<KeepAlivePool> & LeaderPool): void {
  const { hosts, markFailed } = pool;
  if (!Array.isArray(hosts) || typeof markFailed !== 'function') return;
  const keeper: KeepAlivePool = { hosts, markFailed: markFailed.bind(pool), answers: (host) => memberAnswers(pool, host) };
  const lease = client.lease.bind(client);
  client.lease = (ttl, options) => {
    const l = lease(ttl, options);
    if (options?.autoKeepAlive !== false) watchKeepAlive(l, ttl, keeper);
    return l;
  };
}

/**
 * Guards the client's watch stream (watch-guard.ts), releases the connections of gRPC clients
 * etcd3 closed (subchannel-release.ts), makes every request and stream require a
 * member with a leader (require-leader.ts), notes whether each failed attempt of a request may
 * have reached etcd (attempts.ts), watches lease keep-alives (lease-watchdog.ts), times
 * every unary etcd request when given a timer, and sends again one that etcd refused without
 * effect (retryRefusedWithoutEffect).
 * etcd3 sends them all through its connection pool's exec(); wrapping that one method covers
 * KV, lease, lock and auth calls alike without touching their callers. A client without it is
 * left as it is.
 */
export function instrument(client: Etcd3, timer?: RequestTimer): Etcd3 {
  guardWatchResponses((id) => process.stderr.write(`xnet: dropped a response for etcd watch ${id}, which the client no longer tracks (etcd3 would have thrown it at the process); counted, logged once\n`));
  releaseUnusedSubchannels();
  const pool = (client as unknown as { pool?: { exec?: Exec; withConnection?: WithConnection } & Partial<KeepAlivePool> }).pool;
  if (!pool || typeof pool.exec !== 'function') return client;
  requireLeader(pool);
  noteFailedAttempts(pool);
  watchKeepAlives(client, pool);
  const exec = pool.exec.bind(pool);
  const send: Exec = (service, method, payload, options) => retryRefusedWithoutEffect(() => exec(service, method, payload, options));
  pool.exec = timer ? (service, method, payload, options) => timer(`${service}.${method}`, () => send(service, method, payload, options)) : send;
  return client;
}
