// Keep-until-gone (issue 8 part 5): a ContainerNic's address claim is kept until its node's
// agent has taken the NIC out of the container. `xctl apply` creates every NIC with the
// finalizer (kinds.ts, createdWith); the controller adds it to a NIC stored without it (an
// older xctl, a raw etcd write) in the transaction that allocates it, so no NIC holds an
// address without it. `xctl delete` then only marks the NIC (deletionTimestamp). The
// node's agent removes the interface and deletes its own status key of the NIC (its own status
// subtree: the only keys a node may write). The controller then deletes the NIC, its statuses
// and its claims in one transaction, and the address cools down (model.coolingUntil). Without
// that report the claim stays, unless the Node is gone (nobody is left to hold the address) or
// the NIC never got an address. Meanwhile its status says why it waits (showTerminating).
import { NIC_FINALIZER, TERMINATING, getCondition, setCondition, type ContainerNic, type Status } from '../api/index.js';
import type { Condition } from '../api/fields.js';
import type { TxnPlan } from './txn-plan.js';
import type { ClaimEntry, Entry } from './model.js';
import { putStatusIfChanged, type Ctx } from './context.js';
import { indexNode } from '../store/keys.js';
import { readyAsShown } from './nic-shown-ready.js';
import { oldAddressHeldWhy } from './nic-old-address.js';

export { NIC_FINALIZER };

export const hasNicFinalizer = (nic: ContainerNic) => nic.metadata.finalizers?.includes(NIC_FINALIZER) ?? false;

/** Adds the finalizer to the stored NIC in this plan (guarded: a concurrent edit retries). */
export function ensureNicFinalizer(ctx: Ctx, plan: TxnPlan, e: Entry<ContainerNic>): void {
  if (hasNicFinalizer(e.obj)) return;
  const key = ctx.model.keys.object('ContainerNic', e.obj.metadata.name);
  const stored = JSON.parse(e.kv.value) as ContainerNic;
  stored.metadata.finalizers = [...(stored.metadata.finalizers ?? []), NIC_FINALIZER];
  const value = JSON.stringify(stored);
  plan.unchanged(key, e.kv).put(key, value);
  // The node index's copy follows when it is current; a stale one is repaired by
  // putStatusIfChanged (context.ts), which must not put the same key in this transaction.
  const node = indexNode(e.obj);
  const copy = node ? ctx.model.keys.indexed(node, key) : undefined;
  if (copy && ctx.model.cache.get(copy)?.value === e.kv.value) plan.put(copy, value);
}

/** Why the claims of a deleting NIC are still held, or undefined when they may go. */
export function nicStillHeldWhy(ctx: Ctx, nic: ContainerNic, claims: ClaimEntry[]): string | undefined {
  if (!claims.length) return undefined;
  // an address of a node it left, while that node still reports it there (nic-old-address.ts)
  const old = (c: ClaimEntry) => (c.claim.node !== nic.spec.node ? oldAddressHeldWhy(ctx, nic, c) : undefined);
  return ownNodeHoldsWhy(ctx, nic) ?? claims.map(old).find((why) => why !== undefined);
}

/** Why the NIC's own node still holds its addresses: its report of the NIC is there. */
function ownNodeHoldsWhy(ctx: Ctx, nic: ContainerNic): string | undefined {
  const node = nic.spec.node;
  // a Node that does not decode is not a deleted one
  if (!ctx.model.node(node) && !ctx.model.cache.isRefused(ctx.model.keys.object('Node', node))) return undefined;
  if (!ctx.model.nodeStatus(node, 'ContainerNic', nic.metadata.name)) {
    // there but unreadable is not "taken out": the address stays until the report goes
    if (!ctx.model.cache.isRefused(ctx.model.keys.status('ContainerNic', nic.metadata.name, { node }))) return undefined;
    return `node "${node}"'s report of ${nic.spec.ifName} does not decode; the address is kept until that report is readable or removed`;
  }
  return `node "${node}" has not reported ${nic.spec.ifName} removed from container "${nic.spec.container}" yet`;
}

export type NicDeletion = { result: 'gone' } | { result: 'unchanged'; message: string };

/**
 * A deleting NIC: once its address is no longer held, its claims and statuses go in one
 * transaction, and with them the NIC, or, while other programs' finalizers remain (a delete
 * waits for every one, as in Kubernetes), only this one: the NIC and its node-index copy are
 * rewritten without it and go when the last finalizer is taken off.
 */
export function finishNicDeletion(ctx: Ctx, plan: TxnPlan, e: Entry<ContainerNic>): NicDeletion {
  const name = e.obj.metadata.name;
  const claims = ctx.model.claimsOf(e.obj.metadata.uid!);
  const others = (e.obj.metadata.finalizers ?? []).filter((f) => f !== NIC_FINALIZER);
  const waits = others.length && !hasNicFinalizer(e.obj) && !claims.length ? waitingFor(others) : nicStillHeldWhy(ctx, e.obj, claims);
  if (waits) {
    showTerminating(ctx, plan, e, waits);
    return { result: 'unchanged', message: waits };
  }
  const k = ctx.model.keys;
  const key = k.object('ContainerNic', name);
  const node = indexNode(e.obj);
  plan.unchanged(key, e.kv);
  if (others.length) {
    if (hasNicFinalizer(e.obj)) withoutOwnFinalizer(plan, key, e, node && k.indexed(node, key), others);
  } else {
    plan.del(key);
    if (node) plan.del(k.indexed(node, key));
  }
  plan.del(k.status('ContainerNic', name, { node: e.obj.spec.node }));
  // a NIC left for others' finalizers says so from this transaction on (it is queued by nothing after it)
  if (node && others.length) plan.put(k.controllerStatus('ContainerNic', name, node)!, { conditions: setCondition(undefined, terminating(waitingFor(others))) });
  else if (node) plan.del(k.controllerStatus('ContainerNic', name, node)!);
  for (const c of claims) plan.unchanged(c.key, c.kv).del(c.key);
  ctx.log.info('address released: the NIC is out of its container', { nic: name, addresses: claims.map((c) => c.claim.ip ?? c.claim.cidr) });
  return { result: 'gone' };
}

/**
 * A deleting NIC that waits says why in its controller status: Ready False `Terminating` with
 * the message, shown over its node's own Ready (store/merge.ts: the node's may be from before
 * the delete, its agent down); the address and the other conditions stay as they are (the
 * address is still held). Written only when it changes (putStatusIfChanged: pinned to the NIC
 * and to the status as cached), and a status write of the controller's own queues no
 * reconcile (events.ts), so it cannot loop. A status key that does not decode is left alone.
 */
function showTerminating(ctx: Ctx, plan: TxnPlan, e: Entry<ContainerNic>, message: string): void {
  const name = e.obj.metadata.name;
  const at = ctx.model.controllerStatusAt('ContainerNic', name, e.obj);
  if (at.key && ctx.model.cache.isRefused(at.key)) return;
  const prev = at.cur?.status;
  const conditions = setCondition(readyBeforeDelete(ctx, e, prev), terminating(message));
  putStatusIfChanged(ctx, plan, 'ContainerNic', name, { ...prev, conditions }, e, at);
}

/** The conditions Terminating is set over: Ready as users saw it before the delete (nic-shown-ready.ts); once Terminating, the controller's own. */
function readyBeforeDelete(ctx: Ctx, e: Entry<ContainerNic>, prev: Status | undefined): Condition[] | undefined {
  const own = prev?.conditions;
  return getCondition(own, 'Ready')?.reason === TERMINATING ? own : readyAsShown(ctx, e, prev);
}

const waitingFor = (others: string[]) => `waiting for finalizers ${others.join(', ')}`;
const terminating = (message: string) => ({ type: 'Ready', status: 'False' as const, reason: TERMINATING, message });

/** The NIC as stored, and its node-index copy, rewritten with only the others' finalizers. */
function withoutOwnFinalizer(plan: TxnPlan, key: string, e: Entry<ContainerNic>, copy: string | undefined, others: string[]): void {
  const stored = JSON.parse(e.kv.value) as ContainerNic;
  stored.metadata.finalizers = others;
  const value = JSON.stringify(stored);
  plan.put(key, value);
  if (copy) plan.put(copy, value);
}
