// etcd refuses a whole transaction in which a put meets another op on its key ("duplicate key given in txn
// request"): a plan refuses the second write at planning time instead, so the pool executor
// rejects only the item that made it and commits its batch-mates.
import { describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { TxnPlan, DuplicateKeyError, dirOfRange } from '../../pkg/controller/txn-plan.js';
import { PoolExecutor } from '../../pkg/controller/pool-executor.js';
import { KvCache } from '../../pkg/runtime/kv-cache.js';

const guard = { key: Buffer.from('/x/leader'), target: 'Create' as const, result: 'Equal' as const, create_revision: '7' };

/** A transaction endpoint that applies etcd's rule on duplicate keys, and records what it applied. */
function fakeEtcd() {
  const applied: string[] = [];
  const client = {
    kv: {
      async txn(r: { success: Array<{ request_put?: { key: Buffer }; request_delete_range?: { key: Buffer } }> }) {
        const keys = r.success.map((o) => String((o.request_put ?? o.request_delete_range)!.key));
        if (new Set(keys).size !== keys.length) throw new Error('etcdserver: duplicate key given in txn request');
        applied.push(...keys);
        return { succeeded: true, header: { revision: '10' }, responses: [] };
      },
    },
  };
  return { client: client as unknown as Etcd3, applied };
}

describe('TxnPlan: no key both put and written again (etcd allows only two deletes of one key)', () => {
  it('refuses a second put or a delete of a key already written, and forgets a write rolled back', () => {
    const plan = new TxnPlan(guard, '/x/leader');
    plan.put('/x/a', { v: 1 }).del('/x/b');
    expect(() => plan.put('/x/a', { v: 2 })).toThrow(DuplicateKeyError);
    expect(() => plan.del('/x/a')).toThrow(/\/x\/a/);
    expect(() => plan.put('/x/b', {})).toThrow(DuplicateKeyError);
    expect(plan.size.ops).toBe(2);
    const m = plan.mark();
    plan.put('/x/c', {});
    plan.rollback(m);
    expect(() => plan.put('/x/c', {})).not.toThrow();
  });

  it('a pool round rejects only the item that writes a key a batch-mate wrote; the others commit', async () => {
    const { client, applied } = fakeEtcd();
    const cache = new KvCache(client, '/x');
    const exec = new PoolExecutor<string, string>('test', client, cache, guard, '/x/leader', (item, plan) => {
      plan.put(item === 'bad' ? '/x/a' : `/x/${item}`, { item });
      return item;
    });
    const results = await Promise.allSettled(['a', 'bad', 'b'].map((i) => exec.submit(i)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateKeyError);
    expect(applied.sort()).toEqual(['/x/a', '/x/b']);
  });
});

describe('dirOfRange (where a refused plan\'s ranged compare is read back in the cache)', () => {
  it('is the deepest directory holding the whole range', () => {
    // a block of a pool's address space, as macvlan.ts compares it
    expect(dirOfRange('/x/ipam/macvlannets/lan/addresses/000000010', '/x/ipam/macvlannets/lan/addresses/000000020\u0000')).toBe('/x/ipam/macvlannets/lan/addresses/');
    // a prefix range: its end is the prefix with its last byte + 1
    expect(dirOfRange('/x/r/', '/x/r0')).toBe('/x/');
    expect(dirOfRange('/x/r/a', '/x/r/b')).toBe('/x/r/');
    expect(dirOfRange('a', 'b')).toBe('');
  });
});
