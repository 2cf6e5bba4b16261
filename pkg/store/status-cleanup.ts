// The node statuses of objects that are gone, deleted after the object's own transaction (as
// Kubernetes' garbage collector deletes dependents after their owner). Any number of nodes may
// report on one object (a MacvlanNet: every node it selects), so taking their statuses in the
// object's transaction made it too large for etcd at 127 nodes. The object's delete stays one
// transaction of a fixed size; its node statuses follow in transactions that fit etcd's limits,
// each delete pinned to the status as read, so it never takes a status written since (which,
// since a status is written only while its object exists, belongs to an object made again
// under the same name). Idempotent: run again, it deletes what is left; the controller's
// garbage pass (controller/gc.ts) sweeps what a process that stopped midway left.
import type { Etcd3, IKeyValue } from 'etcd3';
import type { Kind } from '../api/index.js';
import { TxnBudget, type EtcdLimits } from '../etcd/limits.js';
import { rangePrefix } from '../etcd/range.js';
import type { Keys } from './keys.js';
import type { ObjectRef } from './write-plan.js';

/**
 * Whether a node's status of an object, last written at revision `statusMod`, belongs to no
 * object stored now (`objectCreate`: the object key's create_revision, 0 when there is none).
 * A status is written only while its object exists (EtcdStore.writeStatus compares it), so one
 * last written before the stored object was created belongs to an earlier object of that
 * name. A Node's own report is the exception: its agent writes it with or without a Node
 * object (the controller makes the Node from it), so only the Node's delete makes it garbage.
 */
export function orphaned(kind: Kind, statusMod: number, objectCreate: number): boolean {
  if (objectCreate === 0) return true;
  return kind !== 'Node' && statusMod < objectCreate;
}

export interface CleanupTarget { client: Etcd3; keys: Keys; limits: EtcdLimits }

/** What a cleanup did: statuses deleted, and those still there after its last attempt. */
export interface CleanupResult { deleted: number; left: number }

const refId = (r: ObjectRef) => `${r.kind}/${r.name}`;

/** How often the statuses are read again after a transaction found one changed. */
const ATTEMPTS = 4;

/**
 * Deletes the node statuses of the objects `refs` names that belong to no stored object (gone,
 * or made again since the status was written). A status that changes meanwhile fails its
 * transaction, and the statuses are read again; what still conflicts after the last
 * attempt is left (`left`) to the agents, which delete their own, and the controller's sweep.
 */
export async function removeOrphanedNodeStatuses(t: CleanupTarget, refs: ObjectRef[]): Promise<CleanupResult> {
  const out = { deleted: 0, left: 0 };
  if (refs.length === 0) return out;
  for (let attempt = 1; ; attempt++) {
    const orphans = await findOrphans(t, new Set(refs.map(refId)));
    let conflicted = 0;
    for (const batch of packDeletes(orphans, t.limits)) {
      const res = await t.client.kv.txn({
        compare: batch.map((kv) => ({ key: kv.key, target: 'Mod' as const, result: 'Equal' as const, mod_revision: kv.mod_revision })),
        success: batch.map((kv) => ({ request_delete_range: { key: kv.key } })),
        failure: [],
      });
      if (res.succeeded) out.deleted += batch.length; else conflicted += batch.length;
    }
    if (conflicted === 0 || attempt === ATTEMPTS) return { ...out, left: conflicted };
  }
}

/** The node statuses of those objects that are orphaned, keys only. */
async function findOrphans(t: CleanupTarget, ids: Set<string>): Promise<IKeyValue[]> {
  const all = await rangePrefix(t.client, t.keys.nodeStatuses(), { keysOnly: true });
  const mine: Array<{ kv: IKeyValue; ref: ObjectRef }> = [];
  for (const kv of all.kvs) {
    const p = t.keys.parseStatusKey(kv.key.toString());
    if (p && 'node' in p.writer && ids.has(refId(p))) mine.push({ kv, ref: { kind: p.kind, name: p.name } });
  }
  if (mine.length === 0) return [];
  // read after the statuses: an object made since is newer than every status read (orphaned)
  const created = await createRevisions(t, [...new Map(mine.map((m) => [refId(m.ref), m.ref])).values()]);
  return mine.filter((m) => orphaned(m.ref.kind, Number(m.kv.mod_revision), created.get(refId(m.ref)) ?? 0)).map((m) => m.kv);
}

/** The objects' create_revisions (absent: left out), keys only, --max-txn-ops reads per transaction. */
async function createRevisions(t: CleanupTarget, refs: ObjectRef[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const per = t.limits.maxTxnOps;
  for (let i = 0; i < refs.length; i += per) {
    const part = refs.slice(i, i + per);
    const success = part.map((r) => ({ request_range: { key: Buffer.from(t.keys.object(r.kind, r.name)), keys_only: true } }));
    const res = await t.client.kv.txn({ compare: [], success, failure: [] });
    res.responses.forEach((r, j) => {
      const kv = r.response_range?.kvs?.[0];
      if (kv) out.set(refId(part[j]), Number(kv.create_revision));
    });
  }
  return out;
}

/** The deletes, each with its compare, in transactions that fit etcd's limits. */
function packDeletes(kvs: IKeyValue[], limits: EtcdLimits): IKeyValue[][] {
  const batches: IKeyValue[][] = [];
  let batch: IKeyValue[] = [];
  let budget = new TxnBudget(limits);
  for (const kv of kvs) {
    const next = budget.clone().compare(kv.key).op(kv.key);
    if (next.fits() || batch.length === 0) { budget = next; batch.push(kv); continue; }
    batches.push(batch);
    batch = [kv];
    budget = new TxnBudget(limits).compare(kv.key).op(kv.key);
  }
  if (batch.length) batches.push(batch);
  return batches;
}
