// What one object's create/update/apply or delete writes, planned against the stored key
// (pure: the caller reads, the txn writer commits). Each step carries the compares that pin
// the key to the revision the plan saw, so a concurrent writer makes its transaction fail.
import { randomUUID } from 'node:crypto';
import type { IKeyValue, ICompare, IRequestOp } from 'etcd3';
import { kindInfo, type AnyObject, type Kind } from '../api/index.js';
import { sameJson } from '../api/key-order.js';
import { setOnceIssues } from '../api/set-once.js';
import { indexNode, type Keys } from './keys.js';
import { guardCompares } from './delete-guard.js';
import { IN_USE_BY_KINDS, isInUseChecked } from '../api/network-users.js';
import { AlreadyExistsError, BeingDeletedError, NotFoundError, SetOnceError, StaleResourceVersionError, UidMismatchError, type ApplyChange, type DeleteResult } from './types.js';
import { MANAGED_BY_LABEL } from '../api/managed-by.js';

export type Stored = Omit<AnyObject, 'status'>;
export type WriteMode = 'create' | 'update' | 'apply';

export interface ObjectRef { kind: Kind; name: string }

/** One object's part of a transaction; no ops means nothing to write. */
export interface WriteStep<R> {
  ref: ObjectRef;
  compares: ICompare[];
  ops: IRequestOp[];
  /**
   * the object goes: its node statuses are deleted after the transaction (status-cleanup.ts),
   * not in it, so that its size does not grow with the number of nodes reporting on it
   */
  removes?: boolean;
  /**
   * planned again after its transaction was refused, its write was found done as this request
   * wanted it (own-writes.ts): most likely by that transaction, committed with its answer lost
   */
  doneBefore?: boolean;
  /** a delete's: the uid of the incarnation it deletes or marks (the one a wait for it waits for) */
  uid?: string;
  /**
   * apply's: the delete's step for what it stores (markedStep): packSteps refuses a step whose
   * mark does not fit one transaction, so that what apply stores, delete can mark
   */
  marked?: WriteStep<DeleteResult>;
  result: R;
}

// key order never counts (labels, annotations and matchLabels keep the manifest's order)
const same = (a: unknown, b: unknown) => sameJson(a ?? null, b ?? null);
const unpinned = (kv: IKeyValue): ICompare => ({ key: kv.key, target: 'Mod', result: 'Equal', mod_revision: kv.mod_revision });

/** A stored object: its key as read and its decoded value (resourceVersion set). */
export interface Current { kv: IKeyValue; obj: AnyObject }

function withoutVersion<T extends { metadata: object }>(o: T): T {
  const out = { ...o, metadata: { ...o.metadata } };
  delete (out.metadata as { resourceVersion?: string }).resourceVersion;
  return out;
}

const del = (key: string): IRequestOp => ({ request_delete_range: { key: Buffer.from(key) } });

/**
 * The delete's step for what apply stores (planDelete, with the in-use check's compares where
 * `xctl delete` holds it to that check): an object with finalizers is marked, its values put
 * again with a deletionTimestamp. Apply refuses an object whose mark does not fit (packSteps):
 * one as large as a transaction could be applied and then never deleted, also with --force.
 * None for an object without finalizers (its delete only deletes keys) and for writes other
 * than apply's (a controller's update of what is stored).
 */
function markedStep(keys: Keys, obj: Stored, mode: WriteMode): WriteStep<DeleteResult> | undefined {
  if (mode !== 'apply' || !obj.metadata.finalizers?.length || obj.metadata.deletionTimestamp) return undefined;
  const ref = { kind: obj.kind, name: obj.metadata.name };
  // the revision a compare names counts for nothing in the request's size
  const kv = { key: Buffer.from(keys.object(ref.kind, ref.name)), mod_revision: '0' } as IKeyValue;
  const step = planDelete(keys, ref, { kv, obj: obj as AnyObject });
  return isInUseChecked(ref.kind) ? { ...step, compares: [...step.compares, ...guardCompares(keys, IN_USE_BY_KINDS, ref, 0)] } : step;
}

/** An object's keys in the index of `node` (keys.ts, INDEXED_KINDS): its copy and the controller's status. */
function indexCopies(keys: Keys, { kind, name }: ObjectRef, node: string): string[] {
  return [keys.indexed(node, keys.object(kind, name)), keys.controllerStatus(kind, name, node)!];
}

/**
 * The object key, the controller's status key (and, for an object of an indexed kind, its
 * keys in the bound node's index): what removing an object deletes (node statuses aside).
 * A Node's own report goes in the same transaction: the controller makes a Node for every
 * report it sees without one (controller/nodes.ts, joining), so a report left for the cleanup
 * after the transaction made the Node again, with its HostSubnets, when the agent had stopped
 * within its lease TTL (test/integration/host-lifecycle.test.ts). So does its agent's
 * observed-state report (verify/report.ts): left, a Node made again within that report's lease
 * showed in `xctl verify` what a stopped agent last found (a running one writes it again).
 */
export function removalOps(keys: Keys, ref: ObjectRef, old?: AnyObject): IRequestOp[] {
  const node = indexNode(old);
  const report = ref.kind === 'Node' ? [keys.status('Node', ref.name, { node: ref.name }), keys.nodeObserved(ref.name)] : [];
  return [keys.object(ref.kind, ref.name), keys.status(ref.kind, ref.name, { controller: true }), ...report, ...(node ? indexCopies(keys, ref, node) : [])].map(del);
}

/**
 * Puts the object's value, and its copy in the index of the node it is bound to; when it moved
 * to another node, the old node's keys go (that agent no longer sees it, and the controller
 * writes the status anew in the new node's index).
 */
function objectPuts(keys: Keys, obj: Stored, old?: AnyObject): IRequestOp[] {
  const ref = { kind: obj.kind, name: obj.metadata.name };
  const value = Buffer.from(JSON.stringify(obj));
  const key = keys.object(ref.kind, ref.name);
  const node = indexNode(obj as AnyObject);
  const was = indexNode(old);
  return [
    { request_put: { key: Buffer.from(key), value } },
    ...(node ? [{ request_put: { key: Buffer.from(keys.indexed(node, key)), value } }] : []),
    ...(was && was !== node ? indexCopies(keys, ref, was).map(del) : []),
  ];
}

/**
 * Finalizers belong to controllers: create (a program) may set them up front; apply (a user,
 * xctl) creates the object with its kind's own (kinds.ts, createdWith) and no others.
 */
function createdFinalizers(wanted: Stored, mode: WriteMode): string[] | undefined {
  if (mode === 'create') return wanted.metadata.finalizers;
  const own = kindInfo(wanted.kind).createdWith;
  return own ? [...own] : undefined;
}

/** An empty list or map is the same as none: `labels: {}` is stored as no labels, and is no change against them. */
function dropEmpty(m: Stored['metadata']): void {
  for (const k of ['labels', 'annotations', 'finalizers'] as const) {
    const v = m[k];
    if (v === undefined || Object.keys(v).length === 0) delete m[k];
  }
}

function planCreate(keys: Keys, wanted: Stored, mode: WriteMode): WriteStep<ApplyChange> {
  const { kind, metadata: { name } } = wanted;
  if (mode === 'update') throw new NotFoundError(kind, name);
  const created = {
    ...wanted,
    metadata: { ...wanted.metadata, uid: randomUUID(), generation: 1, creationTimestamp: new Date().toISOString() },
  } as Stored;
  created.metadata.finalizers = createdFinalizers(wanted, mode);
  dropEmpty(created.metadata);
  delete created.metadata.deletionTimestamp;
  const key = Buffer.from(keys.object(kind, name));
  const ops = objectPuts(keys, created);
  return {
    ref: { kind, name },
    compares: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
    ops,
    marked: markedStep(keys, created, mode),
    result: { action: 'created', object: created as AnyObject },
  };
}

/**
 * The labels xnet sets itself: `xnet.io/managed-by`, which marks what the controller made. Before,
 * every stored label of the prefix `xnet.io/` was kept, so a user's own `xnet.io/rack` could not
 * be taken away: apply kept it, and `xctl label node n xnet.io/rack-` said "unlabeled", exit 0,
 * warned that the node left its networks, and removed nothing.
 */
const SYSTEM_LABELS: ReadonlySet<string> = new Set([MANAGED_BY_LABEL]);

/**
 * The manifest's labels, plus the stored labels xnet sets that it does not name: a hand-written
 * manifest of a HostSubnet the controller made (to pin its bridge, say) must not take away the
 * label that makes it the controller's, or deleting its Node would leave it behind. kubectl apply
 * too leaves alone the labels it never set. A manifest may still set such a label to another value.
 */
function withSystemLabels(stored: Record<string, string> | undefined, wanted: Record<string, string> | undefined): Record<string, string> | undefined {
  const kept = Object.entries(stored ?? {}).filter(([k]) => SYSTEM_LABELS.has(k) && !(wanted && Object.hasOwn(wanted, k)));
  return kept.length ? { ...wanted, ...Object.fromEntries(kept) } : wanted;
}

/** How an apply writes: `labelsAsGiven` (xctl label): the labels exactly as the object names them, xnet's own included. */
export interface PlanOptions { labelsAsGiven?: boolean }

/** The stored object with the wanted spec, labels, annotations (and, for update, finalizers). */
function nextVersion(old: AnyObject, wanted: Stored, mode: WriteMode, o: PlanOptions): Stored {
  const next = {
    ...old,
    spec: wanted.spec,
    metadata: {
      ...old.metadata,
      labels: mode === 'apply' && !o.labelsAsGiven ? withSystemLabels(old.metadata.labels, wanted.metadata.labels) : wanted.metadata.labels,
      annotations: wanted.metadata.annotations,
      // apply leaves system-managed finalizers alone; update (controllers) sets them
      finalizers: mode === 'update' ? wanted.metadata.finalizers : old.metadata.finalizers,
    },
  } as Stored;
  dropEmpty(next.metadata);
  delete (next.metadata as { resourceVersion?: string }).resourceVersion;
  if (!same(old.spec, next.spec)) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
  return next;
}

function planChange(keys: Keys, wanted: Stored, rv: string | undefined, { kv, obj: old }: Current, mode: WriteMode, o: PlanOptions): WriteStep<ApplyChange> {
  const { kind, metadata: { name } } = wanted;
  const ref = { kind, name };
  if (mode === 'create') throw new AlreadyExistsError(kind, name);
  // before anything else: an edit of another incarnation is no edit of this one, changed or not
  const uid = wanted.metadata.uid;
  if (uid && uid !== old.metadata.uid) throw new UidMismatchError(kind, name, uid, String(old.metadata.uid));
  const next = nextVersion(old, wanted, mode, o);
  const deleting = !!old.metadata.deletionTimestamp && mode === 'apply';
  // the last finalizer went: the object goes with it
  const goes = !!next.metadata.deletionTimestamp && !next.metadata.finalizers?.length;
  // Already as wanted: nothing is written, so a carried resourceVersion cannot lose an update
  // and is not checked. Re-running an apply that carries one (after it stopped midway, or
  // after it succeeded) thus converges instead of finding its own writes stale.
  if (!deleting && !goes && same(withoutVersion(old), next)) return { ref, compares: [], ops: [], result: { action: 'unchanged', object: old } };
  if (rv !== undefined && rv !== old.metadata.resourceVersion) {
    throw new StaleResourceVersionError(kind, name, rv, String(old.metadata.resourceVersion));
  }
  // getting it again would not help: it goes once its finalizers are done (kubectl's "object is being deleted")
  if (deleting) throw new BeingDeletedError(kind, name, old.metadata.finalizers ?? []);
  // held here too, against the version this step's compare pins: xctl checked it with a read
  // that a concurrent writer may have overtaken, and other writers do not check at all
  const setOnce = setOnceIssues(old, wanted);
  if (setOnce.length) throw new SetOnceError(kind, name, setOnce);
  if (goes) return { ref, compares: [unpinned(kv)], ops: removalOps(keys, ref, old), removes: true, result: { action: 'configured', object: next as AnyObject } };
  const ops = objectPuts(keys, next, old);
  return { ref, compares: [unpinned(kv)], ops, marked: markedStep(keys, next, mode), result: { action: 'configured', object: next as AnyObject } };
}

/** Create, update or apply of one normalized object, given its stored key (undefined: absent). */
export function planWrite(keys: Keys, wanted: Stored, rv: string | undefined, cur: Current | undefined, mode: WriteMode, o: PlanOptions = {}): WriteStep<ApplyChange> {
  if (cur) return planChange(keys, wanted, rv, cur, mode, o);
  // A resourceVersion names a stored version that is gone: the object was deleted since it was
  // read. Creating it anew would bring back what someone removed (Kubernetes refuses it too).
  if (rv !== undefined && mode !== 'create') throw new StaleResourceVersionError(wanted.kind, wanted.metadata.name, rv, undefined);
  return planCreate(keys, wanted, mode);
}

/**
 * Delete of one object: an object with finalizers is marked (deletionTimestamp) and goes when
 * they are gone; otherwise it goes now, with its controller status (its nodes' statuses follow).
 * With a uid, only that incarnation: one made again under the name since it was read (an xctl
 * selection) is another object, not found, so that it is left alone and no wait is held to
 * the wrong one.
 */
export function planDelete(keys: Keys, ref: ObjectRef, cur: Current | undefined, rv?: string, uid?: string): WriteStep<DeleteResult> {
  if (!cur || (uid !== undefined && cur.obj.metadata.uid !== uid)) return { ref, compares: [], ops: [], result: 'notfound' };
  const { kv, obj } = cur;
  if (rv && rv !== String(kv.mod_revision)) {
    throw new StaleResourceVersionError(ref.kind, ref.name, rv, String(kv.mod_revision));
  }
  const { uid: planned } = obj.metadata;
  if (!obj.metadata.finalizers?.length) return { ref, uid: planned, compares: [unpinned(kv)], ops: removalOps(keys, ref, obj), removes: true, result: 'deleted' };
  if (obj.metadata.deletionTimestamp) return { ref, uid: planned, compares: [], ops: [], result: 'marked' };
  const marked = withoutVersion({ ...obj, metadata: { ...obj.metadata, deletionTimestamp: new Date().toISOString() } });
  return { ref, uid: planned, compares: [unpinned(kv)], ops: objectPuts(keys, marked, obj), result: 'marked' };
}
