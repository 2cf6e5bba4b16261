// Packing transactions to etcd's request limits: counts and bytes, pure (the real etcd's
// verdict on the same limits is in test/integration/store-apply.test.ts).
import { describe, expect, it } from 'vitest';
import { ETCD_DEFAULT_LIMITS, ETCD_RAISED_LIMITS, TxnBudget, etcdLimitFlags } from '../../pkg/etcd/limits.js';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';

const guard = { key: Buffer.from('/leader'), target: 'Create' as const, result: 'Equal' as const, create_revision: '7' };

describe('etcd limits', () => {
  it('a stock etcd gets no limit flags; raised limits name both flags', () => {
    expect(etcdLimitFlags(ETCD_DEFAULT_LIMITS)).toEqual([]);
    expect(etcdLimitFlags(ETCD_RAISED_LIMITS)).toEqual(['--max-txn-ops', '20000', '--max-request-bytes', String(32 * 1024 * 1024)]);
  });

  it('TxnBudget: 128 ops fit the defaults, the 129th does not, and says why', () => {
    const b = new TxnBudget();
    for (let i = 0; i < 128; i++) b.compare(`/k/${i}`).op(`/k/${i}`, 'v');
    expect(b.fits()).toBe(true);
    b.op('/k/extra', 'v');
    expect(b.fits()).toBe(false);
    expect(b.excess()).toBe('129 operations > --max-txn-ops 128');
  });

  it('TxnBudget: a few ops whose values pass 1.5 MiB do not fit', () => {
    const b = new TxnBudget();
    b.op('/a', 'x'.repeat(800 * 1024));
    expect(b.fits()).toBe(true);
    b.op('/b', 'x'.repeat(800 * 1024));
    expect(b.fits()).toBe(false);
    expect(b.excess()).toMatch(/^about \d+ bytes > --max-request-bytes 1572864$/);
  });

  it('TxnPlan: stops at the op count and at the byte size, and rollback restores both', () => {
    const plan = new TxnPlan(guard, '/leader');
    for (let i = 0; i < 127; i++) plan.absent(`/c/${i}`).put(`/c/${i}`, { i });
    expect(plan.fits()).toBe(true);
    const m = plan.mark();
    plan.absent('/c/last').put('/c/last', {});
    expect(plan.fits()).toBe(false);
    plan.rollback(m);
    expect(plan.fits()).toBe(true);

    const big = new TxnPlan(guard, '/leader');
    big.put('/s/1', { blob: 'y'.repeat(1024 * 1024) });
    expect(big.fits()).toBe(true);
    const before = big.size.bytes;
    const m2 = big.mark();
    big.put('/s/2', { blob: 'y'.repeat(1024 * 1024) });
    expect(big.size.ops).toBe(2);
    expect(big.fits()).toBe(false);
    big.rollback(m2);
    expect(big.size.bytes).toBe(before);
    expect(big.fits()).toBe(true);
  });

  it('TxnPlan: a raised --max-txn-ops is capped at 1,024 whatever etcd allows', () => {
    const plan = new TxnPlan(guard, '/leader', 20000);
    for (let i = 0; i < 1023; i++) plan.absent(`/c/${i}`);
    expect(plan.fits()).toBe(true);
    plan.absent('/c/over');
    expect(plan.fits()).toBe(false);
  });

  it('TxnPlan: a key pinned at its mod_revision needs no create_revision compare too (a NIC costs 3 compares, not 4)', () => {
    const kv = { key: '/nic', value: '{}', modRevision: '9', createRevision: '5', lease: '0' };
    const alone = new TxnPlan(guard, '/leader');
    alone.sameIncarnation('/nic', kv);
    expect(alone.size.compares).toBe(2);
    const pinned = new TxnPlan(guard, '/leader');
    pinned.unchanged('/nic', kv).sameIncarnation('/nic', kv);
    expect(pinned.size.compares).toBe(2);
    // another revision of the key is not implied
    pinned.sameIncarnation('/nic', { ...kv, modRevision: '10' });
    expect(pinned.size.compares).toBe(3);
  });

  it('TxnPlan: a second write of one key throws when planned (etcd would refuse the whole transaction), and rollback forgets it', () => {
    const plan = new TxnPlan(guard, '/leader');
    plan.put('/a', { v: 1 });
    expect(() => plan.put('/a', { v: 2 })).toThrow(/\/a.*twice|twice.*\/a/);
    expect(() => plan.del('/a')).toThrow(/twice/);
    plan.del('/b');
    expect(() => plan.put('/b', {})).toThrow(/twice/);
    // etcd accepts two deletes of one key (only a put may not meet another op on its key)
    plan.del('/b');
    const m = plan.mark();
    plan.put('/c', {});
    plan.rollback(m);
    plan.put('/c', { again: true });
    expect(plan.size.ops).toBe(4);
  });

  it('TxnPlan: fitsAloneSince says whether what was added since a mark fits an otherwise empty transaction', () => {
    const plan = new TxnPlan(guard, '/leader');
    for (let i = 0; i < 100; i++) plan.absent(`/x/${i}`).put(`/x/${i}`, {});
    const m = plan.mark();
    for (let i = 0; i < 127; i++) plan.absent(`/y/${i}`).put(`/y/${i}`, {});
    expect(plan.fits()).toBe(false);
    expect(plan.fitsAloneSince(m)).toBe(true);
    plan.absent('/y/last').put('/y/last', {});
    expect(plan.fitsAloneSince(m)).toBe(false);
  });
});
