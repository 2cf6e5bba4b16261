// How the leader writes its release marks (pkg/controller/release-marks.ts), on a real etcd:
// batched into transactions etcd takes (at most --max-txn-ops puts, never more than a TxnPlan's
// 1,024, nor near etcd's default request size, whatever etcd allows), each under a lease that
// outlives the cooldown, only while the term's guard holds, and what is queued written at once
// when a graceful stop asks (before the term's lease goes). The marks' reading and the cooldown
// across controllers: controller-cooldown-durable.test.ts.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { ReleaseMarks } from '../../pkg/controller/release-marks.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { createdAt } from '../../pkg/runtime/kv.js';
import { ETCD_RAISED_LIMITS } from '../../pkg/etcd/limits.js';
import { quietLog } from './controller-helpers.js';
import { eventually } from './helpers.js';

const COOLDOWN_MS = 30_000;
let stock: TestEtcd;
let raised: TestEtcd;

beforeAll(async () => { [stock, raised] = await Promise.all([startEtcd(), startEtcd({ limits: ETCD_RAISED_LIMITS })]); });
afterAll(async () => { await Promise.all([stock?.stop(), raised?.stop()]); });

/**
 * A writer of marks as a term's, under `prefix` of `etcd`: its guard is the create_revision of
 * a key this test holds (`key`), as the leader's is of the election key; closed after the case.
 */
async function termWriter(etcd: TestEtcd, prefix: string, maxTxnOps = 128) {
  const client = etcd.client();
  const key = `${prefix}/election`;
  const r = await client.put(key).value('me').exec();
  const ipam = new IpamKeys(prefix);
  const marks = new ReleaseMarks({ client, ipam, guard: createdAt(key, String(r.header.revision)), cooldownMs: COOLDOWN_MS, maxTxnOps, log: quietLog('marks') });
  onTestFinished(() => marks.close());
  const note = (n: number) => { for (let i = 0; i < n; i++) marks.note({ type: 'macvlannets', pool: 'lan', ip: 0x0a000000 + i, role: 'nic', releasedAtMs: Date.now() }); };
  const root = `${ipam.pool('macvlannets', 'lan')}released/`;
  /** the marks in etcd: how many, the revisions (transactions) and leases they were written at */
  const written = async () => {
    const kvs = (await client.getAll().prefix(root).exec()).kvs;
    return { count: kvs.length, revisions: new Set(kvs.map((kv) => String(kv.mod_revision))), leases: new Set(kvs.map((kv) => String(kv.lease))) };
  };
  const all = (n: number) => eventually(async () => { const x = await written(); return x.count === n ? x : undefined; }, `the ${n} marks`);
  return { client, key, marks, note, written, all };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the leader\'s release marks', () => {
  it('a burst of 300 on a stock etcd: transactions of at most 128 puts, under a lease of at least the cooldown', async () => {
    const w = await termWriter(stock, '/rm1');
    w.note(300);
    const got = await w.all(300);
    expect(got.revisions.size, 'transactions (128 puts each at most)').toBeGreaterThanOrEqual(3);
    const lease = [...got.leases][0];
    expect(lease).not.toBe('0');
    const ttl = await w.client.leaseClient.leaseTimeToLive({ ID: lease });
    expect(Number(ttl.TTL), 'seconds left of the marks\' lease').toBeGreaterThanOrEqual(COOLDOWN_MS / 1000);
  });

  // before: one transaction of every mark queued (up to --max-txn-ops, megabytes for a node's
  // thousands of addresses), refused by an etcd of default request size at every try
  it('with raised --max-txn-ops: no transaction over 1,024 puts', async () => {
    const w = await termWriter(raised, '/rm2', 20_000);
    w.note(2_500);
    expect((await w.all(2_500)).revisions.size, 'transactions of at most 1,024 puts').toBeGreaterThanOrEqual(3);
  });

  it('writes nothing once its term is over (the guard fails), also what is noted later', async () => {
    const w = await termWriter(stock, '/rm3');
    await w.client.delete().key(w.key).exec();
    await w.client.put(w.key).value('another leader').exec();
    w.note(5);
    await pause(500);
    w.note(5);
    await pause(500);
    expect((await w.written()).count).toBe(0);
  });

  // etcd stopped (SIGSTOP of this test's own etcd): a graceful stop's wait for the marks is bounded
  // (it awaited the transaction in flight, up to its deadline and retries: 33 s, red)
  it('a graceful stop waits at most about its bound for marks etcd does not take', async () => {
    const w = await termWriter(stock, '/rm5');
    const etcdPid = stock.members[0].pid;
    process.kill(etcdPid, 'SIGSTOP');
    try {
      w.note(3);
      await pause(200);
      const t0 = performance.now();
      await w.marks.flushNow(1_000);
      expect(performance.now() - t0, 'ms flushNow(1000) took with etcd stopped').toBeLessThan(3_000);
    } finally {
      process.kill(etcdPid, 'SIGCONT');
    }
  });

  it('a graceful stop writes what is queued at once, before the term\'s lease goes', async () => {
    const w = await termWriter(stock, '/rm4');
    w.note(7);
    await w.marks.flushNow(2_000);
    expect((await w.written()).count, 'marks in etcd when flushNow returns').toBe(7);
  });
});
