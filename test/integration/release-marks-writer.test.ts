// How the leader writes its release marks (pkg/controller/release-marks.ts), on a real etcd:
// batched into transactions etcd takes (at most --max-txn-ops puts, never more than a TxnPlan's
// 1,024, nor near etcd's default request size, whatever etcd allows), each under a lease that
// outlives the cooldown, only while the term's guard holds, and what is queued written at once
// when a graceful stop asks (before the term's lease goes). The marks' reading and the cooldown
// across controllers: controller-cooldown-durable.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
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

/** A term's guard as the leader's: the create_revision of a key this test holds. */
async function guardOn(client: Etcd3, prefix: string) {
  const key = `${prefix}/election`;
  const r = await client.put(key).value('me').exec();
  return { key, guard: createdAt(key, String(r.header.revision)) };
}

function writer(client: Etcd3, prefix: string, guard: ReturnType<typeof createdAt>, maxTxnOps: number) {
  const ipam = new IpamKeys(prefix);
  const marks = new ReleaseMarks({ client, ipam, guard, cooldownMs: COOLDOWN_MS, maxTxnOps, log: quietLog('marks') });
  const note = (n: number) => { for (let i = 0; i < n; i++) marks.note({ type: 'macvlannets', pool: 'lan', ip: 0x0a000000 + i, role: 'nic', releasedAtMs: Date.now() }); };
  return { marks, note, root: `${ipam.pool('macvlannets', 'lan')}released/` };
}

async function written(client: Etcd3, root: string) {
  const r = await client.getAll().prefix(root).exec();
  return { count: r.kvs.length, revisions: new Set(r.kvs.map((kv) => String(kv.mod_revision))), leases: new Set(r.kvs.map((kv) => String(kv.lease))) };
}

describe('the leader\'s release marks', () => {
  it('a burst of 300 on a stock etcd: transactions of at most 128 puts, under a lease of at least the cooldown', async () => {
    const client = stock.client();
    const { guard } = await guardOn(client, '/rm1');
    const w = writer(client, '/rm1', guard, 128);
    w.note(300);
    const got = await eventually(async () => { const x = await written(client, w.root); return x.count === 300 ? x : undefined; }, 'the 300 marks');
    expect(got.revisions.size, 'transactions (128 puts each at most)').toBeGreaterThanOrEqual(3);
    const lease = [...got.leases][0];
    expect(lease).not.toBe('0');
    const ttl = await client.leaseClient.leaseTimeToLive({ ID: lease });
    expect(Number(ttl.TTL), 'seconds left of the marks\' lease').toBeGreaterThanOrEqual(COOLDOWN_MS / 1000);
    await w.marks.close();
  });

  // before: one transaction of every mark queued (up to --max-txn-ops, megabytes for a node's
  // thousands of addresses), refused by an etcd of default request size at every try
  it('with raised --max-txn-ops: no transaction over 1,024 puts', async () => {
    const client = raised.client();
    const { guard } = await guardOn(client, '/rm2');
    const w = writer(client, '/rm2', guard, 20_000);
    w.note(2_500);
    const got = await eventually(async () => { const x = await written(client, w.root); return x.count === 2_500 ? x : undefined; }, 'the 2,500 marks');
    expect(got.revisions.size, 'transactions of at most 1,024 puts').toBeGreaterThanOrEqual(3);
    await w.marks.close();
  });

  it('writes nothing once its term is over (the guard fails), also what is noted later', async () => {
    const client = stock.client();
    const { key, guard } = await guardOn(client, '/rm3');
    await client.delete().key(key).exec();
    await client.put(key).value('another leader').exec();
    const w = writer(client, '/rm3', guard, 128);
    w.note(5);
    await new Promise((r) => setTimeout(r, 500));
    w.note(5);
    await new Promise((r) => setTimeout(r, 500));
    expect((await written(client, w.root)).count).toBe(0);
    await w.marks.close();
  });

  // etcd stopped (SIGSTOP of this test's own etcd): a graceful stop's wait for the marks is bounded
  // (it awaited the transaction in flight, up to its deadline and retries: 4 s and more, red)
  it('a graceful stop waits at most about its bound for marks etcd does not take', async () => {
    const client = stock.client();
    const { guard } = await guardOn(client, '/rm5');
    const w = writer(client, '/rm5', guard, 128);
    const etcdPid = stock.members[0].pid;
    process.kill(etcdPid, 'SIGSTOP');
    try {
      w.note(3);
      await new Promise((r) => setTimeout(r, 200));
      const t0 = performance.now();
      await w.marks.flushNow(1_000);
      expect(performance.now() - t0, 'ms flushNow(1000) took with etcd stopped').toBeLessThan(3_000);
    } finally {
      process.kill(etcdPid, 'SIGCONT');
    }
    await w.marks.close();
  });

  it('a graceful stop writes what is queued at once, before the term\'s lease goes', async () => {
    const client = stock.client();
    const { guard } = await guardOn(client, '/rm4');
    const w = writer(client, '/rm4', guard, 128);
    w.note(7);
    await w.marks.flushNow(2_000);
    expect((await written(client, w.root)).count, 'marks in etcd when flushNow returns').toBe(7);
    await w.marks.close();
  });
});
