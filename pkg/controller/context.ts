// What every reconciler of one leadership term shares.
import type { Etcd3, ICompare } from 'etcd3';
import type { Logger } from '../log.js';
import type { Kind } from '../api/index.js';
import { setCondition, type Condition, type Status } from '../api/index.js';
import type { Model } from './model.js';
import type { TxnPlan } from './txn-plan.js';

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
  const cur = ctx.model.cache.get(key);
  if (cur && sameJson(JSON.parse(cur.value), desired)) return false;
  plan.unchanged(key, cur).put(key, desired);
  return true;
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
