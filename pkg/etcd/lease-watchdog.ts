// etcd3 keeps a lease alive over one stream to one member, sending a keep-alive every TTL/3, and
// makes that stream again only after a whole TTL without an answer. A member that hangs outright
// (its process stopped, its host frozen or powered off) neither answers nor ends the stream, and
// gRPC's own keepalive drops the connection only after 15 s (client.ts KEEPALIVE): by then the
// lease had expired on the majority, so an agent's Node showed NodeLost and a leading controller
// was deposed, though two of three members were fine. An answer normally comes within
// milliseconds; the watchdog gives up on a stream whose keep-alive has gone unanswered for
// answerWithinMs, opens the circuit of the member it ran on (so that the stream, and the
// client's other calls, go to another member for a while), and has etcd3 make the stream again.
import { GRPCUnavailableError, type Lease } from 'etcd3';

/** How long a keep-alive may go unanswered, at most (a quarter of the TTL when that is less). */
export const KEEPALIVE_ANSWER_MS = 2_000;

/** Failures in a row that open a member's circuit in the client's pool (client.ts etcdFaultHandling). */
export const HOST_BREAKER_FAILURES = 3;

/** The member (etcd3's pool resource) each keep-alive stream was opened on: client.ts records it. */
const streamHosts = new WeakMap<object, unknown>();

export function rememberKeepAliveHost(stream: object, host: unknown): void {
  streamHosts.set(stream, host);
}

/** What of etcd3's pool and Lease the watchdog uses, beyond their typed surface. */
export interface KeepAlivePool { hosts: unknown[]; markFailed(host: unknown, err: Error): void }
interface LeaseInternals {
  client: { leaseKeepAlive(options?: unknown): Promise<object> };
  handleKeepaliveError(err: Error): void;
}

export function answerWithinMs(ttlSeconds: number): number {
  return Math.min(KEEPALIVE_ANSWER_MS, (ttlSeconds * 1000) / 4);
}

/** Watches `lease`'s keep-alives from now on (see the head of this file). */
export function watchKeepAlive(lease: Lease, ttlSeconds: number, pool: KeepAlivePool): void {
  const inner = lease as unknown as LeaseInternals;
  if (typeof inner.client?.leaseKeepAlive !== 'function' || typeof inner.handleKeepaliveError !== 'function') return;
  let stream: object | undefined;
  const open = inner.client.leaseKeepAlive.bind(inner.client);
  inner.client.leaseKeepAlive = (options) => open(options).then((s) => { stream = s; return s; });
  let overdue: NodeJS.Timeout | undefined;
  const settle = () => { clearTimeout(overdue); overdue = undefined; };
  lease.on('keepaliveFired', () => {
    if (overdue) return;
    const unanswered = stream;
    overdue = setTimeout(() => {
      overdue = undefined;
      if (stream !== unanswered || lease.revoked()) return;
      const err = new GRPCUnavailableError(`lease keep-alive not answered within ${answerWithinMs(ttlSeconds)} ms`);
      const host = unanswered && streamHosts.get(unanswered);
      // a lone member stays usable: the stream is made again on it
      if (host && pool.hosts.length > 1) for (let i = 0; i < HOST_BREAKER_FAILURES; i++) pool.markFailed(host, err);
      inner.handleKeepaliveError(err);
    }, answerWithinMs(ttlSeconds));
    overdue.unref?.();
  });
  lease.on('keepaliveSucceeded', settle);
  lease.on('keepaliveFailed', settle);
  lease.on('lost', settle);
}
