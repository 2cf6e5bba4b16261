// A controller planning context over a cache seeded by hand, for unit tests of planners
// (no etcd: `client` is whatever the test passes, often one that is never called).
import type { Etcd3 } from 'etcd3';
import { KvCache } from '../../pkg/runtime/kv-cache.js';
import { Model } from '../../pkg/controller/model.js';
import type { Ctx } from '../../pkg/controller/context.js';
import { createLogger } from '../../pkg/log.js';
import { MAX_TXN_OPS } from '../../pkg/runtime/kv.js';

export const P = '/x';
export const leaderKey = `${P}/election/controller`;
export const guard = { key: Buffer.from(leaderKey), target: 'Create' as const, result: 'Equal' as const, create_revision: '7' };

/** A Ctx on a fresh cache; `seed` puts a value as if this process had committed it. */
export function plannerCtx(client: Etcd3) {
  const cache = new KvCache(client, P);
  const model = new Model(cache, P);
  let rev = 10;
  const seed = (key: string, value: unknown) => { rev++; cache.applyLocalPut(key, JSON.stringify(value), String(rev), String(rev)); };
  const log = createLogger('test'); log.level = 'error';
  const ctx: Ctx = { client, model, log, guard, leaderKey, maxTxnOps: MAX_TXN_OPS, addressCooldownMs: 0 };
  return { cache, model, seed, ctx };
}
