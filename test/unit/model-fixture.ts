// A controller Model on an in-memory KvCache for unit tests of the planners (allocateNic,
// planMacvlanNodes, collectGarbage): keys are seeded as etcd would list them, and the etcd
// client only answers a transaction as committed.
import type { Etcd3 } from 'etcd3';
import { KvCache } from '../../pkg/runtime/kv-cache.js';
import { Model } from '../../pkg/controller/model.js';
import { controllerAdmit } from '../../pkg/controller/admit.js';
import type { Ctx } from '../../pkg/controller/context.js';
import { Keys } from '../../pkg/store/keys.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { createLogger } from '../../pkg/log.js';

export const P = '/x';
export const leaderKey = `${P}/election/controller`;
export const guard = { key: Buffer.from(leaderKey), target: 'Create' as const, result: 'Equal' as const, create_revision: '7' };
export const client = { kv: { txn: async () => ({ succeeded: true, header: { revision: '1000' }, responses: [] }) } } as unknown as Etcd3;
export const meta = (name: string, extra: object = {}) => ({ name, uid: `${name}-uid`, generation: 1, ...extra });

export function modelFixture() {
  const log = createLogger('test'); log.level = 'error';
  const cache = new KvCache(client, [`${P}/registry/`, `${P}/ipam/`], { log, admit: controllerAdmit(new Keys(P), new IpamKeys(P)) });
  const model = new Model(cache, P);
  let rev = 10;
  const seed = (key: string, value: unknown) => { rev++; cache.applyRead(key, { key, value: JSON.stringify(value), modRevision: String(rev), createRevision: String(rev), lease: '0' }, String(rev)); };
  const drop = (key: string) => { rev++; cache.applyRead(key, undefined, String(rev)); };
  const ctx: Ctx = { client, model, log, guard, leaderKey, maxTxnOps: 128, addressCooldownMs: 0 };
  return { model, seed, drop, ctx, cache };
}
