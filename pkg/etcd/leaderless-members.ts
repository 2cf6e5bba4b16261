// A member cut off from its peers (a partition between members, the member itself up) refuses
// every request that requires a leader at once ("etcdserver: no leader", require-leader.ts), and
// the call is tried again at once on the next member (client.ts). But etcd3 picks a member at
// random for each call, so with one member cut off a third of all calls went there first, one
// refusal and one round trip each, for as long as the partition lasted. The client remembers a
// member's refusal for NO_LEADER_AVOID_MS, or until the member answers a call again, and tries
// the other members first meanwhile. The refusal is still no fault of the member's (no circuit
// counts it, client.ts etcdFaultHandling): during an election every member refuses, all are then
// remembered alike, and the order among them is etcd3's own random one, as before.

/**
 * How long a member that refused for want of a leader is tried after the others. A partition
 * lasts seconds or more, so the member is asked again about once per this long (one refusal);
 * an election ends within it, and a member that answers is preferred again at once.
 */
export const NO_LEADER_AVOID_MS = 1_500;

/** What of etcd3's ConnectionPool picking a member this uses: its hosts and their order. */
export interface HostOrder { hosts: unknown[]; shuffledHosts(): Iterator<unknown> }

/** Members (etcd3's pool hosts) that refused lately for want of a leader. */
export class LeaderlessMembers {
  private readonly until = new Map<unknown, number>();

  constructor(private readonly avoidMs = NO_LEADER_AVOID_MS) {}

  refused(host: unknown): void { this.until.set(host, Date.now() + this.avoidMs); }

  answered(host: unknown): void { this.until.delete(host); }

  avoided(host: unknown): boolean {
    const until = this.until.get(host);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.until.delete(host);
    return false;
  }
}

/**
 * etcd3's endless order of members, one shuffled round of all of them after another: in each
 * round the members that refused lately come last, in the order they had. A call walks this
 * order (each member once per round; the next attempt of the same call takes up where the last
 * left off), so such a member is still tried when every other refused or has its circuit open.
 */
function* leaderFirst(order: Iterator<unknown>, size: number, members: LeaderlessMembers): Generator<unknown> {
  for (;;) {
    const round = Array.from({ length: size }, () => order.next().value);
    // decided once per round: a member refusing meanwhile must neither come twice nor be skipped
    const late = round.map((h) => members.avoided(h));
    yield* [...round.filter((_, i) => !late[i]), ...round.filter((_, i) => late[i])];
  }
}

/**
 * Makes `pool` try members that refused lately for want of a leader after the others. etcd3's
 * exec() and withConnection() take their order from shuffledHosts(), for unary calls and streams
 * alike; replacing it on the instance changes nothing else (ConnectionPool.deterministicOrder, the
 * tests' way to pick a member, still holds within each group). The caller reports refusals and
 * answers (require-leader.ts).
 */
export function preferMembersWithLeader(pool: Partial<HostOrder>): LeaderlessMembers | undefined {
  if (typeof pool.shuffledHosts !== 'function' || !Array.isArray(pool.hosts)) return undefined;
  const members = new LeaderlessMembers();
  const shuffled = pool.shuffledHosts.bind(pool);
  const size = pool.hosts.length;
  pool.shuffledHosts = () => leaderFirst(shuffled(), size, members);
  return members;
}
