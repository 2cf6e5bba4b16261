// What every reconciler of one leadership term shares.
import type { Etcd3, ICompare } from 'etcd3';
import type { Logger } from '../log.js';
import type { Kind } from '../api/index.js';
import { setCondition, type Condition, type Status } from '../api/index.js';
import type { Model } from './model.js';
import type { TxnPlan } from './txn-plan.js';
import type { RawKv } from '../runtime/kv.js';
import { indexNode } from '../store/keys.js';

export const MANAGED_BY_LABEL = 'xnet.io/managed-by';
export const MANAGED_BY_VALUE = 'xnet-controller';

export interface Ctx {
  client: Etcd3;
  model: Model;
  log: Logger;
  guard: ICompare;
  leaderKey: string;
  /** the most compares/ops per transaction (etcd --max-txn-ops) */
  maxTxnOps: number;
  /** a released NIC address is not handed out again for this long */
  addressCooldownMs: number;
}

export type { Status };

/** Builds conditions on top of the previous ones so unchanged conditions keep their times. */
export function conditions(prev: Status | undefined, list: Array<Omit<Condition, 'lastTransitionTime'>>, now = new Date()): Condition[] {
  let out = (prev?.conditions ?? []).filter((c) => list.some((n) => n.type === c.type));
  for (const c of list) out = setCondition(out, c, now);
  return out;
}

/** Adds the status put (guarded by the cached status' mod_revision) when it differs. */
export function putStatusIfChanged(ctx: Ctx, plan: TxnPlan, kind: Kind, name: string, desired: Status): boolean {
  const key = ctx.model.keys.status(kind, name, { controller: true });
  const cur = ctx.model.controllerStatus(kind, name);
  const same = !!cur && sameJson(cur.status, desired);
  const indexed = indexCopiesStale(ctx, kind, name, same ? cur.kv : undefined);
  if (same && !indexed) return false;
  // stringified once for the status and its index copy (a NIC's two largest values)
  const value = JSON.stringify(desired);
  plan.unchanged(key, cur?.kv).put(key, value, desired);
  if (indexed) putIndexCopies(plan, indexed, value, desired);
  return true;
}

interface IndexTarget { objKey: string; obj: RawKv; objCopy: string; objCopyKv?: RawKv; statusCopy: string }

/**
 * For an object of an indexed kind (keys.ts): its bound node's index, when the copies there of
 * the object or of its status are not (yet) byte for byte what they copy; undefined when they
 * are. `status`: the stored status when it is the one wanted (else the copy is stale anyway).
 * Copies are only ever compared with values that decoded, never read for their content.
 */
function indexCopiesStale(ctx: Ctx, kind: Kind, name: string, status: RawKv | undefined): IndexTarget | undefined {
  const e = ctx.model.object(kind, name);
  const node = indexNode(e?.obj);
  if (!e || !node) return undefined;
  const keys = ctx.model.keys;
  const objKey = keys.object(kind, name);
  const t: IndexTarget = { objKey, obj: e.kv, objCopy: keys.indexed(node, objKey), statusCopy: keys.indexed(node, keys.status(kind, name, { controller: true })) };
  t.objCopyKv = ctx.model.cache.get(t.objCopy);
  const fresh = t.objCopyKv?.value === e.kv.value && !!status && ctx.model.cache.get(t.statusCopy)?.value === status.value;
  return fresh ? undefined : t;
}

/**
 * Writes the index copies pinned to the object's revision: a copy made from an object that
 * changed meanwhile (moved to another node) never lands. xctl writes the object's copy in the
 * same transaction as the object; the controller repairs one that is missing.
 */
function putIndexCopies(plan: TxnPlan, t: IndexTarget, value: string, parsed: Status): void {
  plan.unchanged(t.objKey, t.obj);
  if (t.objCopyKv?.value !== t.obj.value) plan.put(t.objCopy, t.obj.value);
  plan.put(t.statusCopy, value, parsed);
}

export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}

function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => [k, canon(o[k])]));
  }
  return v;
}
