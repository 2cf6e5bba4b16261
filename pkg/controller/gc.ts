// Frees claims whose owner is gone (or is a new object with the same name: compare uid), or
// no longer points at the claim's pool. This is how a new leader finishes what a killed one
// left: claims and statuses were written together, so a claim is either announced by a live
// owner or garbage — there is no third state to repair.
import type { ContainerNic, HostSubnet } from '../api/index.js';
import { TxnPlan } from './txn-plan.js';
import type { ClaimEntry } from './model.js';
import type { Ctx } from './context.js';
import { INDEXED_KINDS } from '../store/keys.js';

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

/**
 * Deletes garbage claims (all, or only those of one owner uid); returns how many went. A sweep
 * of all also deletes the controller statuses of indexed kinds left under status/controller/,
 * where they were kept before they moved into the nodes' indexes (keys.controllerStatus).
 */
export async function collectGarbage(ctx: Ctx, onlyUid?: string): Promise<number> {
  const garbage = (onlyUid ? ctx.model.claimsOf(onlyUid) : [...ctx.model.allClaims()]).filter((c) => isGarbage(ctx, c));
  const freed = await commitInBatches(ctx, garbage.map((c) => (plan: TxnPlan) => {
    const ownerKey = ctx.model.keys.object(c.claim.owner.kind, c.claim.owner.name);
    plan.unchanged(c.key, c.kv).unchanged(ownerKey, ctx.model.cache.get(ownerKey)).del(c.key);
  }));
  if (freed) ctx.log.info('freed claims whose owner is gone', { freed });
  if (onlyUid) return freed;
  const old = INDEXED_KINDS.flatMap((kind) => [...ctx.model.cache.entries(ctx.model.keys.controllerStatuses(kind))]);
  const moved = await commitInBatches(ctx, old.map((kv) => (plan: TxnPlan) => { plan.unchanged(kv.key, kv).del(kv.key); }));
  if (moved) ctx.log.info('deleted statuses left where xnet kept them before they moved into the node indexes', { deleted: moved });
  return freed;
}

/** Commits `steps` (each adds compares and deletes) in as few transactions as they fit; returns how many landed. */
async function commitInBatches(ctx: Ctx, steps: Array<(plan: TxnPlan) => void>): Promise<number> {
  let landed = 0;
  for (let i = 0; i < steps.length;) {
    const plan = new TxnPlan(ctx.guard, ctx.leaderKey, ctx.maxTxnOps);
    const start = i;
    for (; i < steps.length; i++) {
      const m = plan.mark();
      steps[i](plan);
      if (!plan.fits()) { plan.rollback(m); break; }
    }
    if (i === start) i++;
    if (await plan.commit(ctx.client, ctx.model.cache)) landed += i - start;
  }
  return landed;
}
