// etcd's require-leader metadata (clientv3.WithRequireLeader) on every request and stream of an
// xnet client. A member that has lost its leader refuses such a request at once ("etcdserver:
// no leader"), and ends such a stream after about three election timeouts without one.
//
// Without it, a member cut off from its peers (a partition; the member itself up) kept its
// streams open for as long as the partition lasted while the rest of the cluster went on: a
// watch was silent (the controller would not see a new NIC, an agent not its peers' subnets),
// and a lease keep-alive was never answered, so the lease expired though the majority was
// reachable (an agent's Node shown NodeLost, the leading controller deposed). And each unary
// call that landed there waited out etcd's request timeout (about 7 s) before the client tried
// another member: a 601-object apply took 21 s. Refused at once, the call goes to the next
// member straight away (client.ts etcdFaultHandling); during an election, when every member
// refuses, it is sent again until one has a leader (client.ts retryRefusedWithoutEffect), and
// the member that refused is tried after the others for a while (leaderless-members.ts).
import { castGrpcError, RecoverableError } from 'etcd3';
import { rememberKeepAliveHost } from './lease-watchdog.js';
import { preferMembersWithLeader, type HostOrder, type LeaderlessMembers } from './leaderless-members.js';

type Metadata = { clone(): Metadata; set(key: string, value: string): void };
type GrpcClient = Record<string | symbol, unknown>;
export type WithConnection = (service: string, fn: (c: { metadata: Metadata; client: GrpcClient; resource?: unknown }) => unknown, hosts?: unknown) => Promise<unknown>;

const REQUIRE_LEADER = ['hasleader', 'true'] as const;

/** What etcd answers a request that requires a leader on a member without one. */
export const NO_LEADER = /etcdserver: no leader/i;

export function isNoLeader(err: unknown): boolean {
  return err instanceof Error && NO_LEADER.test(err.message);
}

function withLeader(md: Metadata): Metadata {
  const copy = md.clone();
  copy.set(...REQUIRE_LEADER);
  return copy;
}

/**
 * A member's no-leader refusal leaves its connection as it is. etcd3 resets every gRPC client of
 * a member on any "recoverable" error (withConnection, markFailed), and the next call there dials
 * it again: with one member cut off from its peers, 300 puts through all three opened 98 new
 * connections to it (a TLS handshake each with TLS), 3.2x as slow as with the member healthy.
 * The member answered: nothing is wrong with the connection. A refused unary call keeps its
 * error class (GRPCUnavailableError, so callers see etcd unavailable) but loses etcd3's
 * recoverable mark, so withConnection does not reset the member; client.ts etcdFaultHandling
 * still tries it at once on the next member. A stream refused or ended so is not the member's
 * failure either (the circuit does not count it anyway).
 */
function keepConnectionOnNoLeader(e: unknown): never {
  if (isNoLeader(e)) delete (e as Record<symbol, unknown>)[RecoverableError];
  throw e;
}

/** What of etcd3's ConnectionPool this module wraps (its instance methods, replaced). */
export interface LeaderPool extends Partial<HostOrder> {
  withConnection?: WithConnection;
  markFailed?: (host: unknown, err: Error) => void;
}

/**
 * A unary call's outcome tells whether its member has a leader: a refusal for want of one
 * (remembered, and its connection kept) or an answer (forgotten).
 */
function settledOn(host: unknown, members: LeaderlessMembers | undefined) {
  return (r: unknown) => {
    if (!(r instanceof Promise)) return r;
    return r.then((v: unknown) => { members?.answered(host); return v; }, (e: unknown) => {
      if (isNoLeader(e)) members?.refused(host);
      return keepConnectionOnNoLeader(e);
    });
  };
}

/** A stream a member ended for want of a leader is remembered too, and not its failure. */
function noLeaderNotFailed(pool: LeaderPool, members: LeaderlessMembers | undefined): void {
  if (typeof pool.markFailed !== 'function') return;
  const markFailed = pool.markFailed.bind(pool);
  pool.markFailed = (host, err) => {
    if (!isNoLeader(err)) markFailed(host, err);
    else members?.refused(host);
  };
}

/**
 * Every connection etcd3's pool hands out carries REQUIRE_LEADER; the member each lease
 * keep-alive stream is opened on is recorded for the keep-alive watchdog (lease-watchdog.ts).
 */
export function requireLeader(pool: LeaderPool): void {
  if (typeof pool.withConnection !== 'function') return;
  const withConnection = pool.withConnection.bind(pool);
  const members = preferMembersWithLeader(pool);
  noLeaderNotFailed(pool, members);
  pool.withConnection = (service, fn, hosts) => withConnection(service, (c) => {
    const metadata = withLeader(c.metadata);
    const settled = settledOn(c.resource, members);
    if (service !== 'Lease') return settled(fn({ ...c, metadata }));
    const client = new Proxy(c.client, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target);
        if (typeof v !== 'function') return v;
        if (prop !== 'leaseKeepAlive') return v.bind(target);
        return (...args: unknown[]) => {
          const stream = v.apply(target, args) as object;
          rememberKeepAliveHost(stream, c.resource);
          return stream;
        };
      },
    });
    return settled(fn({ ...c, metadata, client }));
  }, hosts);
}

/** How long a member has to answer memberAnswers(): answers take milliseconds. */
export const MEMBER_PROBE_MS = 500;

type StatusClient = { status(req: object, md: Metadata, opts: { deadline: number }, cb: (err: Error | null) => void): void };

/**
 * Whether `host` (a member of `pool`) answers a Maintenance Status call within `ms`, asked of it
 * alone: a member that refuses it for want of a leader answered too (its process runs; the
 * refusal is remembered as any other, leaderless-members.ts). False when it hangs, is
 * unreachable or has its circuit open. Never throws.
 */
export async function memberAnswers(pool: LeaderPool, host: unknown, ms = MEMBER_PROBE_MS): Promise<boolean> {
  if (typeof pool.withConnection !== 'function') return false;
  const only = (function* () { for (;;) yield host; })();
  // an error cast as etcd3 casts its own calls': the member's circuit counts a deadline missed
  const status = (c: { metadata: Metadata; client: GrpcClient }) => new Promise<void>((resolve, reject) => {
    (c.client as unknown as StatusClient).status({}, c.metadata, { deadline: Date.now() + ms }, (err) => (err ? reject(castGrpcError(err)) : resolve()));
  });
  return pool.withConnection('Maintenance', status, only).then(() => true, (e: unknown) => isNoLeader(e));
}
