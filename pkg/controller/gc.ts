// Frees claims whose owner is gone (or is a new object with the same name: compare uid), or
// no longer points at the claim's pool. This is how a new leader finishes what a killed one
// left: claims and statuses were written together, so a claim is either announced by a live
// owner or garbage — there is no third state to repair.
import type { ContainerNic, HostSubnet } from '../api/index.js';
import { TxnPlan } from './txn-plan.js';
import type { ClaimEntry } from './model.js';
import type { Ctx } from './context.js';

function isGarbage(ctx: Ctx, c: ClaimEntry): boolean {
  const o = c.claim.owner;
  const owner = ctx.model.object(o.kind, o.name);
  if (!owner || owner.obj.metadata.uid !== o.uid) return true;
  const parsed = ctx.model.ipam.parse(c.key)!;
  if (o.kind === 'ContainerNic') {
    const net = (owner.obj as ContainerNic).spec.network;
    return parsed.type === 'clusternetworks' ? net.clusterNetwork !== parsed.pool : net.macvlanNet !== parsed.pool;
  }
  if (o.kind === 'HostSubnet') return parsed.type !== 'clusternetworks' || (owner.obj as HostSubnet).spec.clusterNetwork !== parsed.pool;
  return parsed.type !== 'macvlannets' || parsed.pool !== o.name;
}

/** Deletes garbage claims (all, or only those of one owner uid); returns how many went. */
export async function collectGarbage(ctx: Ctx, onlyUid?: string): Promise<number> {
  const garbage = (onlyUid ? ctx.model.claimsOf(onlyUid) : [...ctx.model.allClaims()]).filter((c) => isGarbage(ctx, c));
  let freed = 0;
  for (let i = 0; i < garbage.length;) {
    const plan = new TxnPlan(ctx.guard, ctx.leaderKey, ctx.maxTxnOps);
    const start = i;
    for (; i < garbage.length; i++) {
      const c = garbage[i];
      const m = plan.mark();
      const ownerKey = ctx.model.keys.object(c.claim.owner.kind, c.claim.owner.name);
      plan.unchanged(c.key, c.kv).unchanged(ownerKey, ctx.model.cache.get(ownerKey)).del(c.key);
      if (!plan.fits()) { plan.rollback(m); break; }
    }
    if (i === start) i++;
    if (await plan.commit(ctx.client, ctx.model.cache)) freed += i - start;
  }
  if (freed) ctx.log.info('freed claims whose owner is gone', { freed });
  return freed;
}
