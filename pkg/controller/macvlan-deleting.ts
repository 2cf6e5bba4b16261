// Keep-until-gone for a MacvlanNet's delete. While a container on some host still uses the
// MacvlanNet's Docker network, that host's agent cannot remove it (Docker: NetworkInUse) and the
// addresses there stay on the shared segment. Freed at the delete, they went to the next
// MacvlanNet applied under the same name: another host's container got an address a container
// here still answers for (test/integration/agent-macvlan-recreate.test.ts). So `xctl apply`
// creates every MacvlanNet with MVN_FINALIZER (kinds.ts, createdWith; the controller adds it to
// one stored without it), `xctl delete` only marks it, and the controller plans it as selecting
// no node: every node keeps what it holds while its agent still reports on the MacvlanNet
// (macvlan-leaving.ts), i.e. until its network is off the host, and the rest is freed. Once no
// node holds anything, the MacvlanNet, its status (all its keys: macvlan-status-keys.ts) and its
// last claims go in one transaction.
import { MVN_FINALIZER, type MacvlanNet } from '../api/index.js';
import type { TxnPlan } from './txn-plan.js';
import type { ClaimEntry, Entry } from './model.js';
import { pinStatus, type Ctx } from './context.js';
import { macvlanStatusKeys, partNodes } from './macvlan-status-keys.js';

export const isDeletingMacvlan = (m: MacvlanNet): boolean => !!m.metadata.deletionTimestamp;

const hasOwn = (m: MacvlanNet) => m.metadata.finalizers?.includes(MVN_FINALIZER) ?? false;

/** The stored MacvlanNet with `finalizers` instead of its own, put in this plan (its key is compared already). */
function putWithFinalizers(ctx: Ctx, plan: TxnPlan, m: Entry<MacvlanNet>, finalizers: string[]): void {
  const stored = JSON.parse(m.kv.value) as MacvlanNet;
  stored.metadata.finalizers = finalizers;
  plan.put(ctx.model.keys.object('MacvlanNet', m.obj.metadata.name), JSON.stringify(stored));
}

/** Adds the finalizer to a MacvlanNet stored without it (an older xctl, a raw etcd write). */
export function ensureMacvlanFinalizer(ctx: Ctx, plan: TxnPlan, m: Entry<MacvlanNet>): void {
  if (!hasOwn(m.obj)) putWithFinalizers(ctx, plan, m, [...(m.obj.metadata.finalizers ?? []), MVN_FINALIZER]);
}

/**
 * A deleting MacvlanNet that no node holds anything of any more: its status and `left` (its
 * claims the round did not free) go, and the MacvlanNet with them, or, while other programs'
 * finalizers remain, only this one. Its nodes' parts left in their indexes may be more than the
 * transaction holds besides (etcd refuses one of more than --max-txn-ops, every time): then only
 * those that fit go, and false says the MacvlanNet waits for the next transaction. With no part
 * to delete first, the whole is planned as it is (the executor refuses what never fits).
 */
export function finishMacvlanDeletion(ctx: Ctx, plan: TxnPlan, m: Entry<MacvlanNet>, left: ClaimEntry[]): boolean {
  const before = plan.mark();
  deleteAll(ctx, plan, m, left);
  if (!plan.fits()) {
    plan.rollback(before);
    if (deletePartsThatFit(ctx, plan, m.obj.metadata.name)) return false;
    deleteAll(ctx, plan, m, left);
  }
  ctx.log.info('MacvlanNet released: no node uses its network any more', { macvlanNet: m.obj.metadata.name });
  return true;
}

function deleteAll(ctx: Ctx, plan: TxnPlan, m: Entry<MacvlanNet>, left: ClaimEntry[]): void {
  const name = m.obj.metadata.name;
  const others = (m.obj.metadata.finalizers ?? []).filter((f) => f !== MVN_FINALIZER);
  if (!others.length) plan.del(ctx.model.keys.object('MacvlanNet', name));
  else if (hasOwn(m.obj)) putWithFinalizers(ctx, plan, m, others);
  for (const key of macvlanStatusKeys(ctx.model.cache, ctx.model.keys, name)) plan.del(key);
  for (const c of left) plan.unchanged(c.key, c.kv).del(c.key);
}

/** As many of the MacvlanNet's parts left in nodes' indexes as the plan holds, deleted: how many. */
function deletePartsThatFit(ctx: Ctx, plan: TxnPlan, name: string): number {
  const { cache, keys } = ctx.model;
  let deleted = 0;
  for (const node of [...partNodes(cache, keys, name)]) {
    const key = keys.macvlanPart(node, name);
    const m = plan.mark();
    pinStatus(ctx, plan, key, cache.get(key)).del(key);
    if (!plan.fits()) { plan.rollback(m); break; }
    deleted++;
  }
  return deleted;
}
