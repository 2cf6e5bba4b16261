// What every reconciler of one leadership term shares.
import type { Etcd3, ICompare } from 'etcd3';
import type { Logger } from '../log.js';
import type { AnyObject, Kind } from '../api/index.js';
import { setCondition, type Condition, type Status } from '../api/index.js';
import { sameJson } from '../api/key-order.js';
import type { Entry, Model } from './model.js';
import type { TxnPlan } from './txn-plan.js';
import type { RawKv } from '../runtime/kv.js';
import { INDEXED_KINDS, indexNode } from '../store/keys.js';

export { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/managed-by.js';

export interface Ctx {
  client: Etcd3;
  model: Model;
  log: Logger;
  guard: ICompare;
  leaderKey: string;
  /** the most compares/ops per transaction (etcd --max-txn-ops) */
  maxTxnOps: number;
  /** a released address is not handed out again for this long (address-cooldown.ts) */
  addressCooldownMs: number;
  /**
   * the most pre-claims one node holds in one MacvlanNet; unset (the controller's own) is
   * MAX_NODE_PRECLAIMS (macvlan-requests.ts): lower only in tests, with a transaction's bytes
   * lowered to match (docs/contributing.md, "Bounds tested at a lowered bound")
   */
  maxNodePreClaims?: number;
}

export type { Status };

/** Builds conditions on top of the previous ones so unchanged conditions keep their times. */
export function conditions(prev: Status | undefined, list: Array<Omit<Condition, 'lastTransitionTime'>>, now = new Date()): Condition[] {
  let out = (prev?.conditions ?? []).filter((c) => list.some((n) => n.type === c.type));
  for (const c of list) out = setCondition(out, c, now);
  return out;
}

/** Where an object's controller status is kept and what is there (Model.controllerStatusAt). */
export type StatusAt = ReturnType<Model['controllerStatusAt']>;

/**
 * Adds the status put (guarded by the cached status' mod_revision) when it differs. `entry`:
 * the object as the caller read it, when it has it; `at`: its status as the caller looked it
 * up for that entry, when it has (a NIC's plan reads it first for the conditions it keeps).
 */
export function putStatusIfChanged(ctx: Ctx, plan: TxnPlan, kind: Kind, name: string, desired: Status, entry?: Entry<AnyObject>, at?: StatusAt): boolean {
  const { key, cur } = at ?? ctx.model.controllerStatusAt(kind, name, entry?.obj);
  const same = !!cur && sameJson(cur.status, desired);
  if (INDEXED_KINDS.includes(kind)) return putIndexedStatus(ctx, plan, { key, entry: entry ?? ctx.model.object(kind, name), cur: cur?.kv }, desired, same);
  if (same || !key) return false;
  pinStatus(ctx, plan, key, cur?.kv).put(key, JSON.stringify(desired), desired);
  return true;
}

/**
 * The status key as cached, or, when the cache refused its value (it does not decode: written
 * by hand), as refused: the controller's own status is written over such a value. Compared as
 * absent, the key that is there failed the transaction at every attempt, and every request
 * batched with it.
 */
export function pinStatus(ctx: Ctx, plan: TxnPlan, key: string, kv: RawKv | undefined): TxnPlan {
  const refused = kv ? undefined : ctx.model.cache.refusedRevision(key);
  return refused ? plan.modifiedAt(key, refused) : plan.unchanged(key, kv);
}

/**
 * The status of an object of an indexed kind (keys.ts) goes into the index of the node it is
 * bound to (`at.key`), pinned to the object's revision: a status planned from an object that
 * changed meanwhile (moved to another node) never lands. The object's copy there is repaired
 * in the same transaction when it is not byte for byte the object (xctl writes it with the
 * object; a copy is only ever compared with the value it copies, never read for its content).
 */
function putIndexedStatus(ctx: Ctx, plan: TxnPlan, at: { key?: string; entry?: Entry<AnyObject>; cur?: RawKv }, desired: Status, same: boolean): boolean {
  const e = at.entry;
  const node = indexNode(e?.obj);
  // no node (or no object): nowhere to keep a status
  if (!e || !node || !at.key) return false;
  const objKey = e.kv.key;
  const objCopy = ctx.model.keys.indexed(node, objKey);
  const copyFresh = ctx.model.cache.get(objCopy)?.value === e.kv.value;
  if (same && copyFresh) return false;
  plan.unchanged(objKey, e.kv);
  if (!copyFresh) plan.put(objCopy, e.kv.value);
  if (!same) pinStatus(ctx, plan, at.key, at.cur).put(at.key, JSON.stringify(desired), desired);
  return true;
}
