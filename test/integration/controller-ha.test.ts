// HA: two controllers at once, leader failover, and a leader SIGKILLed again and again while
// thousands of NICs are being allocated. Controllers run as real processes (dist/, built by
// the test command) so that SIGKILL is a real crash at an arbitrary instant.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { Keys } from '../../pkg/store/keys.js';
import type { Controller } from '../../pkg/controller/controller.js';
import type { AnyObject } from '../../pkg/api/index.js';
import { obj, startController, eventually, storeFor, uniquePrefix } from './controller-helpers.js';

const BIN = resolve('dist/cmd/xnet-controller.js');
const TTL = 2;
/** the default leader lease TTL that docs/design.md and `xnet-controller --help` give */
const LEADER_TTL_DOCUMENTED = 5;

let etcd: TestEtcd;
const procs = new Set<ChildProcess>();
beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npx tsc" (the test command builds it) first`);
  etcd = await startEtcd();
});
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await etcd?.stop();
});

/** `ttl` 'default': no --lease-ttl flag, the command's default. */
function spawnController(prefix: string, id: string, ttl: number | 'default' = TTL): ChildProcess {
  const ttlFlag = ttl === 'default' ? [] : ['--lease-ttl', String(ttl)];
  const p = spawn(process.execPath, [BIN, '--endpoints', etcd.endpoints.join(','), '--prefix', prefix, '--id', id, ...ttlFlag], {
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { ...process.env, XNET_LOG_LEVEL: 'error' },
  });
  procs.add(p);
  p.on('exit', () => procs.delete(p));
  return p;
}

async function leaderId(prefix: string): Promise<string | undefined> {
  return (await etcd.client().get(new Keys(prefix).election()).string()) ?? undefined;
}

/** The leader key's value and lease, as etcd holds them. */
async function leaderKey(prefix: string): Promise<{ id: string; lease: string } | undefined> {
  const kv = (await etcd.client().get(new Keys(prefix).election()).exec()).kvs[0];
  return kv ? { id: kv.value.toString(), lease: String(kv.lease) } : undefined;
}

/** Seconds a lease has left; -1 once it expired or was revoked. */
async function leaseTtl(id: string): Promise<number> {
  return Number((await etcd.client().leaseClient.leaseTimeToLive({ ID: id })).TTL);
}

const ipOf = (o: AnyObject | undefined) => (o?.status as { ip?: string } | undefined)?.ip;

async function applyChunked(store: ReturnType<typeof storeFor>, objs: AnyObject[]): Promise<void> {
  for (let i = 0; i < objs.length; i += 100) await store.applyAll(objs.slice(i, i + 100));
}

describe('controller HA', () => {
  it('runs two controllers side by side: one leads, every address is unique', async () => {
    const prefix = uniquePrefix();
    const store = storeFor(etcd.client(), prefix);
    const cs: Controller[] = [await startController(etcd.client(), prefix, { id: 'a' }), await startController(etcd.client(), prefix, { id: 'b' })];
    try {
      await store.applyAll([
        obj('ClusterNetwork', 'default', { cidr: '10.76.0.0/16', hostPrefix: 24 }),
        obj('Node', 'n1', {}), obj('Node', 'n2', {}),
      ]);
      const nics = Array.from({ length: 200 }, (_, i) => obj('ContainerNic', `nic-${i}`, { node: i % 2 ? 'n1' : 'n2', container: `c${i}`, ifName: 'eth1', network: { clusterNetwork: 'default' } }));
      await applyChunked(store, nics);
      await eventually(async () => (await store.list('ContainerNic')).items.every((o) => ipOf(o)), 'all 200 NICs allocated');
      expect(cs.filter((c) => c.isLeader).length).toBe(1);
      const ips = (await store.list('ContainerNic')).items.map(ipOf);
      expect(new Set(ips).size).toBe(200);
      const report = await ipamCheck(etcd.client(), prefix);
      expect(report.problems, report.text).toBe(0);
    } finally {
      for (const c of cs) await c.stop();
    }
  });

  it('a standby holds what the leader writes and applies it when it takes over: nothing is planned again', async () => {
    const prefix = uniquePrefix();
    const store = storeFor(etcd.client(), prefix);
    const a = await startController(etcd.client(), prefix, { id: 'a' });
    await eventually(async () => a.isLeader, 'a leads');
    const b = await startController(etcd.client(), prefix, { id: 'b' });
    try {
      await store.applyAll([obj('ClusterNetwork', 'default', { cidr: '10.77.0.0/16', hostPrefix: 22 }), obj('Node', 'n1', {})]);
      const nics = (from: number) => Array.from({ length: 100 }, (_, i) => obj('ContainerNic', `nic-${from + i}`, { node: 'n1', container: `c${from + i}`, ifName: 'eth1', network: { clusterNetwork: 'default' } }));
      await store.applyAll(nics(0));
      await eventually(async () => (await store.list('ContainerNic')).items.every((o) => ipOf(o)), 'the first 100 NICs allocated by a');
      const addresses = () => b.model.claimsIn('clusternetworks', 'default', 'addresses').size;
      // b watches the whole prefix: once its watch has delivered the newest write there, it holds a's
      const newest = Math.max(...(await etcd.client().getAll().prefix(`${prefix}/`).exec()).kvs.map((kv) => Number(kv.mod_revision)));
      await eventually(async () => b.cache.revision >= newest, 'b\'s watch delivered a\'s writes');
      // b has seen none of it applied: its watch delivered the writes and it held them
      expect(b.isLeader).toBe(false);
      expect(addresses()).toBe(0);
      expect(b.cache.heldCount).toBeGreaterThanOrEqual(200);
      const before = new Map((await store.list('ContainerNic')).items.map((o) => [o.metadata.name, ipOf(o)]));
      const statusRevisions = async () => (await etcd.client().getAll().prefix(new Keys(prefix).nodeIndex('n1')).exec()).kvs
        .filter((kv) => kv.key.toString().includes('/status/')).map((kv) => `${kv.key}@${kv.mod_revision}`).sort();
      const revisionsBefore = await statusRevisions();
      await a.stop(); // resigns: b takes over at once
      await eventually(async () => b.isLeader, 'b leads after a stepped down');
      expect(b.cache.heldCount).toBe(0);
      expect(addresses()).toBe(100);
      await store.applyAll(nics(100));
      await eventually(async () => (await store.list('ContainerNic')).items.every((o) => ipOf(o)), 'the next 100 NICs allocated by b');
      const after = (await store.list('ContainerNic')).items;
      // the first 100 kept their addresses and b wrote none of their statuses again
      for (const [name, ip] of before) expect(ipOf(after.find((o) => o.metadata.name === name))).toBe(ip);
      const revisionsAfter = new Set(await statusRevisions());
      expect(revisionsBefore.filter((r) => !revisionsAfter.has(r))).toEqual([]);
      expect(new Set(after.map(ipOf)).size).toBe(200);
      const report = await ipamCheck(etcd.client(), prefix);
      expect(report.problems, report.text).toBe(0);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it(`keeps one leader on the default ${LEADER_TTL_DOCUMENTED} s lease through a burst of 2,000 NICs (no needless hand-over)`, async () => {
    const prefix = uniquePrefix();
    const store = storeFor(etcd.client(), prefix);
    // both in this process, so the leader's keep-alives share its event loop with the allocation
    const cs = [await startController(etcd.client(), prefix, { id: 'a', leaseTtlSeconds: undefined }),
      await startController(etcd.client(), prefix, { id: 'b', leaseTtlSeconds: undefined })];
    try {
      await store.applyAll([obj('ClusterNetwork', 'default', { cidr: '10.80.0.0/16', hostPrefix: 20 }), obj('Node', 'n1', {})]);
      const nics = Array.from({ length: 2000 }, (_, i) => obj('ContainerNic', `nic-${i}`, { node: 'n1', container: `c${i}`, ifName: 'eth1', network: { clusterNetwork: 'default' } }));
      const t0 = Date.now();
      await store.applyAll(nics);
      await eventually(async () => (await store.list('ContainerNic')).items.every((o) => ipOf(o)), 'all 2,000 NICs allocated', 120_000);
      expect(cs.map((c) => c.elector.ttlSeconds)).toEqual([LEADER_TTL_DOCUMENTED, LEADER_TTL_DOCUMENTED]);
      // a lease lost under load would show as a second term (the same controller or the other)
      expect(cs.map((c) => c.termsLed).reduce((a, b) => a + b), 'terms led').toBe(1);
      console.log(`2,000 NICs allocated in ${Date.now() - t0} ms by one leader on a ${LEADER_TTL_DOCUMENTED} s lease`);
    } finally {
      for (const c of cs) await c.stop();
    }
  }, 180_000);

  it('replaces a SIGKILLed leader once its lease expires, within the lease TTL (plus the time to notice)', async () => {
    const prefix = uniquePrefix();
    spawnController(prefix, 'p1');
    spawnController(prefix, 'p2');
    const first = await eventually(() => leaderKey(prefix), 'a first leader');
    const victim = [...procs].find((p) => p.spawnargs.includes(first.id))!;
    const t0 = Date.now();
    victim.kill('SIGKILL');
    // The dead leader's lease is left to expire: etcd then deletes the key and the other
    // candidate, watching it, takes over. Bounded by the TTL plus a margin for a loaded machine.
    const bound = TTL * 1000 + 4000;
    const second = await eventually(async () => { const l = await leaderKey(prefix); return l && l.id !== first.id ? l : undefined; }, `a new leader within ${bound} ms`, bound);
    const crashMs = Date.now() - t0;
    // No overlap: the new term began only after the dead leader's lease was gone.
    expect(await leaseTtl(first.lease)).toBe(-1);
    expect(second.lease).not.toBe(first.lease);
    console.log(`leader failover after SIGKILL: ${crashMs} ms (lease TTL ${TTL} s)`);
  });

  it(`by default (no --lease-ttl) leads on a ${LEADER_TTL_DOCUMENTED} s lease, and a SIGKILLed leader is replaced within it`, async () => {
    const prefix = uniquePrefix();
    spawnController(prefix, 'd1', 'default');
    const first = await eventually(() => leaderKey(prefix), 'a first leader');
    // what `etcdctl lease timetolive` shows: the TTL the controller asked etcd for
    const granted = Number((await etcd.client().leaseClient.leaseTimeToLive({ ID: first.lease })).grantedTTL);
    expect(granted).toBe(LEADER_TTL_DOCUMENTED);
    spawnController(prefix, 'd2', 'default');
    // the standby is up (its cache loaded) before the kill: only the lease decides the wait
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = Date.now();
    [...procs].find((p) => p.spawnargs.includes(first.id))!.kill('SIGKILL');
    const bound = LEADER_TTL_DOCUMENTED * 1000 + 4000;
    const second = await eventually(async () => { const l = await leaderKey(prefix); return l && l.id !== first.id ? l : undefined; }, `a new leader within ${bound} ms`, bound);
    expect(second.id).toBe('d2');
    expect(await leaseTtl(first.lease)).toBe(-1);
    console.log(`leader failover after SIGKILL with the default lease: ${Date.now() - t0} ms (TTL ${LEADER_TTL_DOCUMENTED} s)`);
  });

  it('hands over at once when the leader stops gracefully (SIGTERM resigns instead of letting the lease run out)', async () => {
    const prefix = uniquePrefix();
    // A lease far longer than the wait below: only a resignation can hand over in time.
    const longTtl = 60;
    const leader = spawnController(prefix, 'r1', longTtl);
    await eventually(async () => (await leaderId(prefix)) === 'r1', 'r1 leads');
    const held = (await leaderKey(prefix))!;
    spawnController(prefix, 'r2', longTtl);
    await new Promise((r) => setTimeout(r, 500));
    const t1 = Date.now();
    leader.kill('SIGTERM');
    await eventually(async () => (await leaderId(prefix)) === 'r2', 'r2 takes over after SIGTERM', 15_000);
    expect(await leaseTtl(held.lease)).toBe(-1);
    console.log(`leader hand-over after SIGTERM (resign): ${Date.now() - t1} ms (lease TTL ${longTtl} s)`);
  });

  it('SIGKILLs the leader at random moments while 3000 NICs are allocated: no duplicates, no leaks', async () => {
    const prefix = uniquePrefix();
    const store = storeFor(etcd.client(), prefix);
    await store.applyAll([
      obj('ClusterNetwork', 'default', { cidr: '10.64.0.0/12', hostPrefix: 20 }),
      obj('MacvlanNet', 'mv', { subnet: '172.20.0.0/20', blockPrefix: 26 }),
      obj('Node', 'n1', {}), obj('Node', 'n2', {}),
    ]);
    let next = 0;
    spawnController(prefix, `k${next++}`);
    spawnController(prefix, `k${next++}`);
    const nics = Array.from({ length: 3000 }, (_, i) => obj('ContainerNic', `nic-${i}`, {
      node: i % 2 ? 'n1' : 'n2', container: `c${i}`, ifName: 'eth1',
      network: i % 3 === 0 ? { macvlanNet: 'mv' } : { clusterNetwork: 'default' },
    }));
    let kills = 0;
    const deleted: string[] = [];
    const live = async () => {
      const id = await leaderId(prefix);
      return [...procs].find((p) => id && p.spawnargs.includes(id) && p.exitCode === null && p.signalCode === null);
    };
    // Six rounds: 500 more NICs arrive, and at a random moment while they are being
    // allocated the leader is SIGKILLed and a fresh controller joins.
    for (let round = 0; round < 6; round++) {
      const leader = await eventually(live, 'a live leader', 30_000);
      const applying = applyChunked(store, nics.slice(round * 500, (round + 1) * 500));
      await new Promise((r) => setTimeout(r, Math.random() * 400));
      leader.kill('SIGKILL');
      kills++;
      spawnController(prefix, `k${next++}`);
      await applying;
      // Owners vanish mid-flight too: their claims must be freed, not leaked.
      const victim = `nic-${round * 437}`;
      if (await store.delete('ContainerNic', victim).catch(() => false)) deleted.push(victim);
    }
    const items = await eventually(async () => {
      const list = (await store.list('ContainerNic')).items;
      return list.length === 3000 - deleted.length && list.every((o) => ipOf(o)) ? list : undefined;
    }, 'every NIC allocated after the crashes', 90_000);
    const byPool = new Map<string, string[]>();
    for (const o of items) {
      const net = (o.spec as { network: { clusterNetwork?: string; macvlanNet?: string } }).network;
      const k = net.clusterNetwork ?? `mv/${net.macvlanNet}`;
      byPool.set(k, [...(byPool.get(k) ?? []), ipOf(o)!]);
    }
    for (const [pool, ips] of byPool) expect(new Set(ips).size, `duplicates in ${pool}`).toBe(ips.length);
    const report = await eventually(async () => { const r = await ipamCheck(etcd.client(), prefix); return r.problems === 0 ? r : undefined; }, 'ipam check clean (leaked claims of deleted NICs freed)', 60_000)
      .catch(async (e) => { console.log((await ipamCheck(etcd.client(), prefix)).text); throw e; });
    console.log(`crash loop: ${kills} leader SIGKILLs, ${deleted.length} NICs deleted mid-flight; ${items.length} NICs allocated, no duplicates\n${report.text}`);
  }, 180_000);
});
