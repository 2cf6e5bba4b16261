// A member the client's streams run on is cut off from its peers (a network partition) while the
// other two go on as the cluster: the member stays up and keeps its streams open, but it has no
// leader, hears of no write again and renews no lease. A KvCache (the controller's model, an
// agent's view) must move its watch to a member that has a leader and see what is written
// meanwhile; an agent's node lease must be kept alive through the majority, not expire; calls
// must go to the other members once it refused one. And a member that hangs outright (SIGSTOP),
// a follower or the leader, must not cost a lease kept alive through the cluster.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { ConnectionPool } from 'etcd3/lib/connection-pool.js';
import { startPartitionableEtcd, type PartitionableEtcd } from '../harness/etcd-partition.js';
import { pollUntil } from './helpers.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { isNoLeader, type WithConnection } from '../../pkg/etcd/require-leader.js';
import { NO_LEADER_AVOID_MS } from '../../pkg/etcd/leaderless-members.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { KvCache } from '../../pkg/runtime/kv-cache.js';

let etcd: PartitionableEtcd;
beforeAll(async () => { etcd = await startPartitionableEtcd(); }, 60_000);
afterEach(() => { ConnectionPool.deterministicOrder = false; etcd.heal(); etcd.resume(); });
afterAll(async () => { await etcd?.stop(); });

async function leaderSeenBy(endpoint: string): Promise<string> {
  const r = await fetch(`${endpoint}/v3/maintenance/status`, { method: 'POST', body: '{}' });
  return (await r.json() as { leader?: string }).leader ?? '0';
}

async function waitFor(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** Whether every member sees a leader, the same one. */
async function oneLeader(): Promise<boolean> {
  const seen = await Promise.all(etcd.endpoints.map(leaderSeenBy));
  return seen[0] !== '0' && seen.every((l) => l === seen[0]);
}

/** A follower of the cluster as it is now, and the endpoints of the other two. */
async function aFollower(): Promise<{ victim: number; others: string[] }> {
  const victim = ((await etcd.leaderIndex()) + 1) % 3;
  return { victim, others: etcd.endpoints.filter((_, i) => i !== victim) };
}

/** Cuts member `i` off from its peers, and proves it: it has no leader. */
async function isolateProven(i: number): Promise<void> {
  etcd.isolate(i);
  expect(await waitFor(async () => (await leaderSeenBy(etcd.endpoints[i])) === '0', 15_000), 'the cut-off member has no leader').toBe(true);
}

/**
 * A follower to cut off, an xnet client whose first calls (and so its streams) go to it, and a
 * client of the other two. etcd3 tries hosts from the end of its list while its order is
 * deterministic; `onVictim` runs then, and later calls pick hosts at random again.
 */
async function onFollower<T>(onVictim: (client: Etcd3) => Promise<T>) {
  const victim = ((await etcd.leaderIndex()) + 1) % 3;
  const others = etcd.endpoints.filter((_, i) => i !== victim);
  ConnectionPool.deterministicOrder = true;
  const client = createEtcdClient({ endpoints: [...others, etcd.endpoints[victim]] });
  const made = await onVictim(client);
  ConnectionPool.deterministicOrder = false;
  const majority = new Etcd3({ hosts: others, dialTimeout: 2000 });
  /** cuts the victim off, and proves it: it has no leader, the others have one */
  const cut = async () => {
    etcd.isolate(victim);
    expect(await waitFor(async () => (await leaderSeenBy(etcd.endpoints[victim])) === '0', 15_000), 'the cut-off member has no leader').toBe(true);
    expect(await leaderSeenBy(others[0])).not.toBe('0');
  };
  /** stops the victim's process, and proves it: it answers nothing within a second */
  const hang = async () => {
    await etcd.pause(victim);
    const answered = await fetch(`${etcd.endpoints[victim]}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) }).then(() => true, () => false);
    expect(answered, 'the paused member still answers').toBe(false);
  };
  return { client, majority, made, cut, hang, close: () => { client.close(); majority.close(); } };
}

describe('a member the client streams to is cut off from its peers', () => {
  it('a KvCache sees a write made on the majority within 20 s', async () => {
    let cache!: KvCache;
    const f = await onFollower(async (client) => { cache = new KvCache(client, '/part/'); await cache.start(); });
    try {
      await f.majority.put('/part/before').value('1');
      expect(await pollUntil(() => cache.get('/part/before') !== undefined, 10_000)).toBe(true);
      await f.cut();
      await f.majority.put('/part/after').value('2');
      const cutAt = Date.now();
      const seen = await pollUntil(() => cache.get('/part/after') !== undefined, 20_000);
      expect(seen, `the cache never saw /part/after (waited ${Date.now() - cutAt} ms)`).toBe(true);
    } finally {
      await cache.close();
      f.close();
    }
  }, 90_000);

  it('an agent\'s node lease (10 s) stays alive: its key is still there 25 s after the cut', async () => {
    const key = '/xnet/leases/nodes/part-node';
    let lost = 0;
    const f = await onFollower(async (client) => {
      const lease = createEtcdStore(client).nodeLease('part-node', { ttlSeconds: 10, onLost: () => { lost++; } });
      await lease.heartbeat({ time: 'now' });
      // the keep-alive stream is made on the victim too
      await new Promise((r) => setTimeout(r, 500));
      return lease;
    });
    try {
      expect(await f.majority.get(key).string()).not.toBeNull();
      await f.cut();
      await new Promise((r) => setTimeout(r, 25_000));
      expect(await f.majority.get(key).string(), 'the lease expired: its key went').not.toBeNull();
      expect(lost).toBe(0);
    } finally {
      f.made.release();
      f.close();
    }
  }, 90_000);
});

describe('a request that lands on a member cut off from its peers', () => {
  it('is refused there at once ("no leader"), not after etcd\'s request timeout, and served by another member', async () => {
    const { victim, others } = await aFollower();
    const alone = createEtcdClient({ endpoints: [etcd.endpoints[victim]] });
    const majority = new Etcd3({ hosts: others, dialTimeout: 2000 });
    try {
      expect(await alone.put('/part/alone').value('1').then(() => 'ok')).toBe('ok');
      await isolateProven(victim);
      // only the cut-off member to ask: its refusal names the cause (before: "context deadline exceeded", some 20 s later)
      const refused = await alone.put('/part/alone').value('2').then(() => undefined, (e: Error) => e.message);
      expect(refused).toMatch(/etcdserver: no leader/);
      // with every member to ask, the write is made (tried on the cut-off member first)
      ConnectionPool.deterministicOrder = true;
      const all = createEtcdClient({ endpoints: [...others, etcd.endpoints[victim]] });
      try {
        await all.put('/part/through').value('3');
      } finally {
        all.close();
      }
      expect(await majority.get('/part/through').string()).toBe('3');
    } finally {
      alone.close();
      majority.close();
    }
  }, 90_000);
});

/** One try of a call on a member: its index among the client's endpoints, when (ms after tracing began), how it ended. */
interface Try { member: number; at: number; outcome: string }

/** Records each try of `client`'s calls from now on (etcd3's pool, reached as circuitsOpened does). */
function traceTries(client: Etcd3): Try[] {
  const pool = (client as unknown as { pool: { hosts: unknown[]; withConnection: WithConnection } }).pool;
  const inner = pool.withConnection.bind(pool);
  const [tries, t0] = [[] as Try[], Date.now()];
  pool.withConnection = (service, fn, hosts) => inner(service, (c) => {
    const t: Try = { member: pool.hosts.indexOf(c.resource), at: Date.now() - t0, outcome: 'pending' };
    tries.push(t);
    const r = fn(c);
    if (r instanceof Promise) r.then(() => { t.outcome = 'ok'; }, (e: Error) => { t.outcome = isNoLeader(e) ? 'no leader' : e.message; });
    return r;
  }, hosts);
  return tries;
}

/**
 * 150 puts through a client of all three members once a follower, which the client reaches through
 * a proxy that counts, is cut off from its peers (30 puts before, served by all three). What the
 * proxy counted over the 150, how long they took, and what the client tried meanwhile: when it
 * tried the cut-off member, and what the others refused.
 */
async function putsWithOneCutOff(prefix: string): Promise<{ connections: number; calls: number; elapsed: number; tries: string }> {
  // whole before the cut: a member cut off by the test before (not always the one picked now)
  // has rejoined (else, picked, it refuses the puts before the cut, and the client tries it last
  // from the start), and the election its rejoining may force (its term is ahead: etcd 3.4, no
  // pre-vote) is over, lest it come after the cut, when the other two refuse too and the cut-off
  // member is tried as much as they are
  expect(await waitFor(oneLeader, 15_000), 'every member sees one leader').toBe(true);
  const { victim, others } = await aFollower();
  const proxy = await startTcpProxy(etcd.endpoints[victim]);
  const client = createEtcdClient({ endpoints: [...others, proxy.endpoint] });
  try {
    for (let i = 0; i < 30; i++) await client.put(`${prefix}${i}`).value('1');
    expect(proxy.requests, 'calls sent to the member before the cut').toBeGreaterThan(0);
    await isolateProven(victim);
    const [accepted, requests, start, tried] = [proxy.accepted, proxy.requests, Date.now(), traceTries(client)];
    for (let i = 0; i < 150; i++) await client.put(`${prefix}${i}`).value('2');
    // counted when the clock stops: the read below goes to the cut-off member too once its
    // refusal is NO_LEADER_AVOID_MS old, and a call outside `elapsed` would break the bound
    const [elapsed, calls, connections] = [Date.now() - start, proxy.requests - requests, proxy.accepted - accepted];
    const tries = describeTries(tried.splice(0), others.length);
    expect(await client.get(`${prefix}149`).string()).toBe('2');
    return { connections, calls, elapsed, tries };
  } finally {
    client.close();
    await proxy.close();
  }
}

/** When the cut-off member (index `cutOff`) was tried, and what the other members did not answer. */
function describeTries(tries: Try[], cutOff: number): string {
  const on = tries.filter((t) => t.member === cutOff).map((t) => `${t.at} ms (${t.outcome})`);
  if (on.length > 12) on.splice(12, on.length - 12, `${on.length - 12} times more`);
  const others = tries.filter((t) => t.member !== cutOff && t.outcome !== 'ok').map((t) => `member ${t.member} at ${t.at} ms (${t.outcome})`);
  return `tried it at ${on.join(', ') || 'no time'}; the others failed ${others.join(', ') || 'no call'}`;
}

describe('a client that keeps a member cut off from its peers among its endpoints', () => {
  it('keeps its connection to that member: its refusals ("no leader") dial it again no more', async () => {
    const { connections } = await putsWithOneCutOff('/part/conn-');
    // before: one new connection to it for each call it refused (about 50), a TLS handshake each with TLS
    expect(connections, 'connections made to the cut-off member').toBeLessThanOrEqual(1);
  }, 90_000);

  it('sends it about one call per NO_LEADER_AVOID_MS, not a third of all: the others are tried first after its refusal', async () => {
    const { calls, elapsed, tries } = await putsWithOneCutOff('/part/pick-');
    // each was refused ("no leader"); one is enough to learn it, and the member is asked again only
    // once the last refusal is NO_LEADER_AVOID_MS old (before: about 45 of 150, etcd3 picking a
    // member at random for each call)
    const bound = 1 + Math.floor(elapsed / NO_LEADER_AVOID_MS);
    const why = `${calls} calls sent to the cut-off member over ${elapsed} ms (at most ${bound}): ${tries}`;
    expect(calls, why).toBeGreaterThanOrEqual(1);
    expect(calls, why).toBeLessThanOrEqual(bound);
  }, 90_000);
});

describe('a member the client keeps its leases alive through hangs outright (SIGSTOP)', () => {
  // etcd3 alone made the keep-alive stream again only after a whole TTL without an answer, when
  // the lease had expired on the majority (pkg/etcd/lease-watchdog.ts)
  for (const ttl of [10, 5]) {
    it(`a ${ttl} s lease stays alive: its key is still there ${2 * ttl} s after the member stopped`, async () => {
      const key = `/part/hung-${ttl}`;
      let lost = 0;
      const f = await onFollower(async (client) => {
        const lease = client.lease(ttl);
        lease.on('lost', () => { lost++; });
        await lease.put(key).value('alive');
        // the keep-alive stream is made on the victim too
        await new Promise((r) => setTimeout(r, 500));
        return lease;
      });
      try {
        expect(await f.majority.get(key).string()).toBe('alive');
        await f.hang();
        await new Promise((r) => setTimeout(r, 2 * ttl * 1000));
        expect(await f.majority.get(key).string(), 'the lease expired: its key went').toBe('alive');
        expect(lost).toBe(0);
      } finally {
        etcd.resume();
        f.made.release();
        f.close();
      }
    }, 90_000);
  }
});

/** Appends to the list returned the member (host:port) whose circuit in `client`'s pool opens, each time one does. */
function circuitsOpened(client: Etcd3): string[] {
  const opened: string[] = [];
  const hosts = (client as unknown as { pool: { hosts: Array<{ host: string; faultHandling: { onBreak(f: () => void): unknown } }> } }).pool.hosts;
  for (const h of hosts) h.faultHandling.onBreak(() => { opened.push(h.host); });
  return opened;
}

describe('the leader hangs outright (SIGSTOP) as a keep-alive leaves for a follower', () => {
  // the follower forwards the keep-alive to the leader and waits for it (etcd's request timeout,
  // 7 s): before, the watchdog took that for the follower hanging and opened its circuit for 5 s
  it('the follower answers a call of its own: its circuit stays closed, and the lease (5 s) stays alive', async (ctx) => {
    const ttl = 5;
    const key = '/part/leader-hung';
    const leader = await etcd.leaderIndex();
    const [follower, third] = [(leader + 1) % 3, (leader + 2) % 3];
    const host = (i: number) => etcd.endpoints[i].replace('http://', '');
    // etcd3 tries hosts from the end of its list while its order is deterministic: the follower
    ConnectionPool.deterministicOrder = true;
    const client = createEtcdClient({ endpoints: [leader, third, follower].map((i) => etcd.endpoints[i]) });
    const reader = createEtcdClient({ endpoints: [follower, third].map((i) => etcd.endpoints[i]) });
    try {
      const lease = client.lease(ttl);
      let lost = 0;
      const failed: string[] = [];
      lease.on('lost', () => { lost++; });
      lease.on('keepaliveFailed', (e) => { failed.push(String((e as unknown as Error).message)); });
      await lease.put(key).value('alive');
      await new Promise<void>((r) => lease.once('keepaliveSucceeded', () => r()));
      ConnectionPool.deterministicOrder = false;
      const opened = circuitsOpened(client);
      // stopped before the keep-alive is written: the follower's forward reaches a leader that hangs
      await new Promise<void>((done, fail) => lease.once('keepaliveFired', () => { etcd.pause(leader).then(done, fail); }));
      const answered = await fetch(`${etcd.endpoints[leader]}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) }).then(() => true, () => false);
      expect(answered, 'the paused leader still answers').toBe(false);
      await new Promise((r) => setTimeout(r, 2 * ttl * 1000));
      // under load the keep-alive fired may be answered before the leader stops, and the next
      // one's forward then waits out etcd's 7 s from ~ttl/3 on: a while longer for the hang to
      // reach the follower (the lease is then checked later still, which asks more of it)
      const reached = await waitFor(async () => failed.length > 0, 10_000);
      // A race this test cannot win every time on a loaded machine (seen once in a fresh-clone
      // run, 2026-12-06): the keep-alive fired was forwarded before the leader stopped, and the
      // followers elected a new leader (about 1 s) before the next one, so no keep-alive ever met
      // the hung leader. Then what this test is about did not happen: it says so and skips,
      // rather than fail on a condition it did not make (nor pass on one it did not check).
      if (!reached) ctx.skip(`no keep-alive went unanswered within 20 s: the leader's hang never reached the follower (lost ${lost}, keep-alives failed ${failed.length})`);
      expect(opened.filter((h) => h !== host(leader)), 'circuits opened of members that answer').toEqual([]);
      expect(await reader.get(key).string(), 'the lease expired: its key went').toBe('alive');
      expect(lost).toBe(0);
      lease.release();
    } finally {
      ConnectionPool.deterministicOrder = false;
      etcd.resume();
      client.close();
      reader.close();
    }
  }, 90_000);
});
