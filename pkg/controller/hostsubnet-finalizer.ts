// A user's delete of a HostSubnet goes through the controller, as a ContainerNic's and a
// MacvlanNet's do. Deleted by `xctl delete` at once, its block claims never named its node and
// the agent's report on it went with the object (store/status-cleanup.ts): the block was freed
// while the node's Docker network, with containers on it, still held the subnet, and the next
// node to join got it (two hosts, one subnet). So `xctl apply` creates every HostSubnet with
// HS_FINALIZER (kinds.ts, createdWith), the controller makes its own with it and adds it to one
// stored without it (an older xctl, a raw etcd write), and `xctl delete` only marks it
// (deletionTimestamp). The controller then deletes it by the path of its own deletes
// (hostsubnets.ts planDelete): the block kept for the node while its report keeps it
// (hostsubnet-leaving.ts), the report left to its agent; a HostSubnet of that node and network
// made again (the node still selected) takes the block back. Meanwhile the HostSubnet is
// Terminating, and its agent keeps what it made of it as it is (agent/reconcilers/host-subnets.ts):
// what goes goes at the delete, as for any HostSubnet the controller deletes.
import { HS_FINALIZER, TERMINATING, setCondition, type HostSubnet } from '../api/index.js';
import { indexNode } from '../store/keys.js';
import type { TxnPlan } from './txn-plan.js';
import type { Entry } from './model.js';
import { putStatusIfChanged, type Ctx } from './context.js';

export { HS_FINALIZER };

export const isDeletingHostSubnet = (hs: HostSubnet): boolean => !!hs.metadata.deletionTimestamp;

const hasOwn = (hs: HostSubnet) => hs.metadata.finalizers?.includes(HS_FINALIZER) ?? false;

/** Adds the finalizer to a HostSubnet stored without it, in this plan (guarded: a concurrent edit retries). */
export function ensureHsFinalizer(ctx: Ctx, plan: TxnPlan, e: Entry<HostSubnet>): void {
  if (hasOwn(e.obj) || isDeletingHostSubnet(e.obj)) return;
  const key = ctx.model.keys.object('HostSubnet', e.obj.metadata.name);
  // a Node's reconcile and the HostSubnet's own may ensure it in one transaction (hostsubnets.ts plannedInThisTxn)
  if (plan.writes(key)) return;
  const stored = JSON.parse(e.kv.value) as HostSubnet;
  stored.metadata.finalizers = [...(stored.metadata.finalizers ?? []), HS_FINALIZER];
  plan.unchanged(key, e.kv).put(key, JSON.stringify(stored));
}

/**
 * Why a deleting HostSubnet is not deleted yet, or undefined: it may go. Other programs'
 * finalizers go first (a delete waits for every one, as in Kubernetes): the controller's is
 * taken off last, by the delete itself, so that the last step is always the controller's and
 * keeps the block where it must (a finalizer taken off by another program deletes the object
 * through the store, which frees the block and the report, as `xctl delete` did).
 */
function hsWaitsFor(hs: HostSubnet): string | undefined {
  const others = (hs.metadata.finalizers ?? []).filter((f) => f !== HS_FINALIZER);
  return others.length ? `waiting for finalizers ${others.join(', ')}` : undefined;
}

/**
 * Why the controller's delete of `e` waits (a deleting HostSubnet with other programs'
 * finalizers), said in its status in this plan; undefined: the delete goes ahead. One the
 * controller deletes of its own accord (its node no longer selected) is not marked: it goes.
 */
export function deletionWaits(ctx: Ctx, plan: TxnPlan, e: Entry<HostSubnet>): string | undefined {
  const waits = isDeletingHostSubnet(e.obj) ? hsWaitsFor(e.obj) : undefined;
  if (waits) showHsTerminating(ctx, plan, e, waits);
  return waits;
}

/**
 * The controller's own delete of a HostSubnet (its node no longer selected, its Node or
 * ClusterNetwork deleted) that another program holds with a finalizer of its own: marked
 * deleting (deletionTimestamp, object and its node's copy, in this plan), as a user's delete
 * marks it and as Kubernetes' garbage collector leaves an object with finalizers, so that the
 * program sees it go and takes its finalizer off. The HostSubnet's next pass (woken by this
 * write) says why it waits (deletionWaits) and deletes it once only the controller's is left.
 * Returns why it waits, or undefined: the delete goes ahead now.
 */
export function markForOthers(ctx: Ctx, plan: TxnPlan, e: Entry<HostSubnet>): string | undefined {
  if (isDeletingHostSubnet(e.obj)) return undefined;
  const waits = hsWaitsFor(e.obj);
  if (!waits) return undefined;
  const key = ctx.model.keys.object('HostSubnet', e.obj.metadata.name);
  const stored = JSON.parse(e.kv.value) as HostSubnet;
  stored.metadata.deletionTimestamp = new Date().toISOString();
  const value = JSON.stringify(stored);
  plan.unchanged(key, e.kv).put(key, value);
  const node = indexNode(e.obj);
  if (node) plan.put(ctx.model.keys.indexed(node, key), value);
  return waits;
}

/** A deleting HostSubnet that waits says why in its controller status: Ready False `Terminating`. */
function showHsTerminating(ctx: Ctx, plan: TxnPlan, e: Entry<HostSubnet>, message: string): void {
  const name = e.obj.metadata.name;
  if (ctx.model.cache.isRefused(ctx.model.keys.status('HostSubnet', name, { controller: true }))) return;
  const prev = ctx.model.controllerStatus('HostSubnet', name)?.status;
  const conditions = setCondition(prev?.conditions, { type: 'Ready', status: 'False', reason: TERMINATING, message });
  putStatusIfChanged(ctx, plan, 'HostSubnet', name, { ...prev, conditions });
}
