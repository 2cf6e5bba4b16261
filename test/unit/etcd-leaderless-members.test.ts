// The order in which a client tries etcd members once one refused for want of a leader
// (pkg/etcd/leaderless-members.ts): that member last, for NO_LEADER_AVOID_MS or until it answers.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NO_LEADER_AVOID_MS, preferMembersWithLeader } from '../../pkg/etcd/leaderless-members.js';

/** A pool whose own order is fixed: a, b, c in every round, as etcd3's deterministicOrder gives one. */
function fixedPool() {
  const hosts = ['a', 'b', 'c'];
  return { hosts, *shuffledHosts(): Generator<unknown> { for (;;) yield* hosts; } };
}

function take(order: Iterator<unknown>, n: number): unknown[] {
  return Array.from({ length: n }, () => order.next().value);
}

afterEach(() => { vi.useRealTimers(); });

describe('a pool that prefers members with a leader', () => {
  it('tries a member that refused after the others, in every round, until the refusal is old', () => {
    vi.useFakeTimers();
    const pool = fixedPool();
    const members = preferMembersWithLeader(pool)!;
    members.refused('a');
    expect(take(pool.shuffledHosts(), 6)).toEqual(['b', 'c', 'a', 'b', 'c', 'a']);
    vi.advanceTimersByTime(NO_LEADER_AVOID_MS);
    expect(take(pool.shuffledHosts(), 3)).toEqual(['a', 'b', 'c']);
  });

  it('prefers a member again as soon as it answers', () => {
    const pool = fixedPool();
    const members = preferMembersWithLeader(pool)!;
    members.refused('b');
    expect(take(pool.shuffledHosts(), 3)).toEqual(['a', 'c', 'b']);
    members.answered('b');
    expect(take(pool.shuffledHosts(), 3)).toEqual(['a', 'b', 'c']);
  });

  it('keeps the pool\'s own order when every member refused (an election)', () => {
    const pool = fixedPool();
    const members = preferMembersWithLeader(pool)!;
    for (const h of ['c', 'a', 'b']) members.refused(h);
    expect(take(pool.shuffledHosts(), 3)).toEqual(['a', 'b', 'c']);
  });

  it('yields each member once per round though one refuses in the middle of it', () => {
    const pool = fixedPool();
    const members = preferMembersWithLeader(pool)!;
    const order = pool.shuffledHosts();
    expect(order.next().value).toBe('a');
    members.refused('b');
    expect(take(order, 2)).toEqual(['b', 'c']);
    expect(take(order, 3)).toEqual(['a', 'c', 'b']);
  });
});
