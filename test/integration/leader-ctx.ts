// A leader's context over a cache of a whole prefix, as a term has it, for tests that call one
// step of the controller (the garbage pass) on a real etcd without running a controller.
import { onTestFinished } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { KvCache } from '../../pkg/runtime/kv-cache.js';
import { Model } from '../../pkg/controller/model.js';
import { controllerAdmit } from '../../pkg/controller/admit.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { Keys } from '../../pkg/store/keys.js';
import { createLogger } from '../../pkg/log.js';
import type { Ctx } from '../../pkg/controller/context.js';
import { leaderGuard } from './helpers.js';

/** The context, its cache started (and closed when the test finishes) and its election key put. */
export async function leaderCtx(client: Etcd3, prefix: string): Promise<Ctx> {
  const log = createLogger('test-gc');
  const keys = new Keys(prefix);
  const cache = new KvCache(client, `${prefix}/`, { log, admit: controllerAdmit(keys, new IpamKeys(prefix)) });
  // closed also when its start or the leader key's write fails, before the test has the context to close
  onTestFinished(() => cache.close());
  // made before the listing, as the controller's: its indexes (the claims') are filed from it
  const model = new Model(cache, prefix);
  await cache.start();
  const leaderKey = keys.election();
  const guard = await leaderGuard(client, leaderKey);
  return { client, model, log, guard, leaderKey, maxTxnOps: 128, addressCooldownMs: 0 };
}
