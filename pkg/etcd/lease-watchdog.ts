// etcd3 keeps a lease alive over one stream to one member, sending a keep-alive every TTL/3, and
// makes that stream again only after a whole TTL without an answer. A member that hangs outright
// (its process stopped, its host frozen or powered off) neither answers nor ends the stream, and
// gRPC's own keepalive drops the connection only after 15 s (client.ts KEEPALIVE): by then the
// lease had expired on the majority, so an agent's Node showed NodeLost and a leading controller
// was deposed, though two of three members were fine. An answer normally comes within
// milliseconds; the watchdog gives up on a stream whose keep-alive has gone unanswered for
// answerWithinMs, opens the circuit of the member it ran on (so that the stream, and the
// client's other calls, go to another member for a while), and has etcd3 make the stream again.
// A member that answers a short call of its own meanwhile is not the one that hangs: a follower
// forwards each keep-alive to the leader, so when the *leader* hangs, a healthy follower leaves it
// unanswered too (for etcd's request timeout, 7 s). Its circuit stays closed, and only the stream
// is made again (on a member with a leader: the new leader is elected within seconds).
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

/**
 * What of etcd3's pool the watchdog uses: its members, how to open one's circuit, and whether
 * one answers a short call of its own (client.ts: require-leader.ts memberAnswers; bounded by a
 * deadline, never throws).
 */
export interface KeepAlivePool {
  hosts: unknown[];
  markFailed(host: unknown, err: Error): void;
  answers?(host: unknown): Promise<boolean>;
}
/** What of etcd3's Lease the watchdog uses, beyond its typed surface. */
interface LeaseInternals {
  client: { leaseKeepAlive(options?: unknown): Promise<object> };
  handleKeepaliveError(err: Error): void;
}

export function answerWithinMs(ttlSeconds: number): number {
  return Math.min(KEEPALIVE_ANSWER_MS, (ttlSeconds * 1000) / 4);
}

/**
 * A keep-alive stream etcd3 has given up (ended: a restart, a release) is cut loose from the
 * lease. etcd3's handlers on it stay attached, and they act on the lease's *current* stream: an
 * answer that was waiting on a member that hung came once it resumed and re-armed the old
 * stream's TTL timer, which a TTL later tore down the current stream and started one more
 * keep-alive loop; with two such streams (the watchdog gives one up every few seconds while a
 * lone member hangs) two loops ran, and the one no teardown reached kept the lease alive after
 * release() (its key never expired) and kept writing forever. Its listeners go, and the call is
 * cancelled, so a member that comes back has nothing of it left to answer.
 */
function cutLooseOnEnd(s: object): void {
  const st = s as { end?: (...a: unknown[]) => unknown; cancel?: () => void; removeAllListeners?: (ev: string) => unknown; on?: (ev: string, f: () => void) => unknown };
  if (typeof st.end !== 'function' || typeof st.removeAllListeners !== 'function' || typeof st.on !== 'function') return;
  const end = st.end.bind(s);
  st.end = (...a: unknown[]) => {
    st.removeAllListeners!('data');
    st.removeAllListeners!('error');
    st.on!('error', () => undefined);
    const r = end(...a);
    st.cancel?.();
    return r;
  };
}

/**
 * Whether `host` hangs: it does not answer a short call. memberAnswers never throws; a pool
 * that did counts as answering, so the stream is still made again, its circuit left closed.
 */
async function hangs(pool: KeepAlivePool, host: unknown): Promise<boolean> {
  try { return !(await pool.answers?.(host)); } catch { return false; }
}

/**
 * Opens `host`'s circuit. etcd3's markFailed does not throw; if it did, the stream must still be
 * made again (the caller goes on to handleKeepaliveError), only the circuit stays as it was.
 */
function openCircuit(pool: KeepAlivePool, host: unknown, err: Error): void {
  try {
    for (let i = 0; i < HOST_BREAKER_FAILURES; i++) pool.markFailed(host, err);
  } catch { /* as above */ }
}

/** Watches `lease`'s keep-alives from now on (see the head of this file). */
export function watchKeepAlive(lease: Lease, ttlSeconds: number, pool: KeepAlivePool): void {
  const inner = lease as unknown as LeaseInternals;
  if (typeof inner.client?.leaseKeepAlive !== 'function' || typeof inner.handleKeepaliveError !== 'function') return;
  let stream: object | undefined;
  const open = inner.client.leaseKeepAlive.bind(inner.client);
  inner.client.leaseKeepAlive = (options) => open(options).then((s) => { stream = s; cutLooseOnEnd(s); return s; });
  const window = answerWithinMs(ttlSeconds);
  let overdue: NodeJS.Timeout | undefined;
  /** bumped by every answer, failure or loss: a check begun before one of them is void */
  let generation = 0;
  const settle = () => { clearTimeout(overdue); overdue = undefined; generation++; };
  const stale = (gen: number, unanswered: object | undefined) => gen !== generation || stream !== unanswered || lease.revoked();
  const giveUp = async (unanswered: object | undefined, gen: number) => {
    const err = new GRPCUnavailableError(`lease keep-alive not answered within ${window} ms`);
    const host = unanswered && streamHosts.get(unanswered);
    // a lone member stays usable: the stream is made again on it
    const hung = host !== undefined && pool.hosts.length > 1 && await hangs(pool, host);
    // the keep-alive was answered, or the stream lost, while the member was asked
    if (stale(gen, unanswered)) return;
    if (hung) openCircuit(pool, host, err);
    // etcd3 emits keepaliveFailed first, to listeners of the daemon's: one that throws would
    // reject this promise, an unhandled rejection that ends the process. etcd3's own timer
    // remakes the stream a TTL later if this did not.
    try { inner.handleKeepaliveError(err); } catch { /* as above */ }
  };
  const arm = (unanswered: object | undefined, gen: number) => {
    const due = Date.now() + window;
    overdue = setTimeout(() => {
      overdue = undefined;
      if (stale(gen, unanswered)) return;
      // This process itself stood still (a long synchronous stretch, a GC pause): the answer
      // may have come meanwhile and wait, unread, behind this timer, or the keep-alive may not
      // have left yet. The member is given a whole window of this process running again.
      if (Date.now() - due > window / 4) { arm(unanswered, gen); return; }
      // what the poll phase reads after this timer (an answer that came just now) goes first
      // giveUp never rejects (it runs off a timer: a rejection would end the process)
      setImmediate(() => { if (!stale(gen, unanswered)) void giveUp(unanswered, gen).catch(() => undefined); });
    }, window);
    overdue.unref?.();
  };
  lease.on('keepaliveFired', () => {
    if (overdue) return;
    arm(stream, generation);
  });
  lease.on('keepaliveSucceeded', settle);
  lease.on('keepaliveFailed', settle);
  lease.on('lost', settle);
}
