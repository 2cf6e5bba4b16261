// A transaction whose reply was lost may have committed: etcd3 sends a call again after a
// transport error (UNAVAILABLE, DEADLINE_EXCEEDED; pkg/etcd/client.ts, etcdFaultHandling),
// and the second send of a committed transaction fails its compares. The write is then
// planned again from what is stored, and that plan finds the write already done: nothing left
// to write. What the user is told must be what the first plan did, not "unchanged" for an
// object this very request created, nor "not found" for one it deleted. A create found stored
// with the uid this request gave it proves the transaction committed, also when another writer
// changed one of its objects since: it is counted as written (txn-writer.ts, replanRefused).
import { UidMismatchError, type ApplyChange, type DeleteResult } from './types.js';
import type { ObjectRef, Stored, WriteStep } from './write-plan.js';

/**
 * What an apply's step is planned again from: the manifest's object, but a create with the uid
 * it gave the object. A manifest's uid is no condition on a create (the object did not exist),
 * and the object this request created has the create's uid: checked against the manifest's, it
 * was refused as "deleted and made again since it was read" (exit 3) for the request's own write.
 */
export function wantedAgain<W extends { wanted: Stored }>(w: W, first: WriteStep<ApplyChange>): W {
  if (!w.wanted.metadata.uid || first.result.action !== 'created') return w;
  return { ...w, wanted: { ...w.wanted, metadata: { ...w.wanted.metadata, uid: first.result.object.metadata.uid } } };
}

/**
 * What a replan read as stored, paired with the objects of its run: `plan` hands it over
 * before it plans them (and before a refusal of one of them is thrown).
 */
export type OnStored = (stored: Array<Stored | undefined>) => void;

/**
 * An apply's run planned again (`plan`) from what the manifest wants (`wanted`), each create
 * checked against the uid it gave the object (wantedAgain), and reported as it was made
 * (ownApplyOutcome). A create of the run found stored with the uid it gave the object proves
 * that the run's transaction committed (a uid is random per create): `committed` is called then,
 * before a refusal of another of its objects is thrown (one another writer changed since). A
 * create that another writer overtook is refused as before, naming the uid the manifest carries
 * (the one at its metadata.uid line), not the create's, which no one saw.
 */
export async function replanApply<W extends { ref: ObjectRef; wanted: Stored }>(
  run: WriteStep<ApplyChange>[], wanted: (s: WriteStep<ApplyChange>) => W,
  plan: (part: W[], onStored: OnStored) => Promise<WriteStep<ApplyChange>[]>, committed: () => void,
): Promise<WriteStep<ApplyChange>[]> {
  const manifest = run.map(wanted);
  const onStored: OnStored = (stored) => { if (run.some((s, i) => ownCreateStored(s, stored[i]))) committed(); };
  try {
    return keepOwnOutcomes(run, await plan(manifest.map((w, i) => wantedAgain(w, run[i])), onStored), ownApplyOutcome);
  } catch (e) {
    throw e instanceof UidMismatchError ? withManifestUid(e, manifest) : e;
  }
}

/** Whether `stored` is the object the create `first` wrote: the uid it gave it. */
function ownCreateStored(first: WriteStep<ApplyChange>, stored: Stored | undefined): boolean {
  return first.result.action === 'created' && first.ops.length > 0 && !!stored?.metadata.uid && stored.metadata.uid === first.result.object.metadata.uid;
}

/** The refusal of a create's own uid (wantedAgain), said with the uid the manifest carries. */
function withManifestUid(e: UidMismatchError, manifest: Array<{ ref: ObjectRef; wanted: Stored }>): UidMismatchError {
  const uid = manifest.find((w) => w.ref.kind === e.kind && w.ref.name === e.objectName)?.wanted.metadata.uid;
  return uid && uid !== e.uid ? new UidMismatchError(e.kind, e.objectName, uid, e.stored) : e;
}

/**
 * An apply's step planned again: a create whose object is now stored with the uid this
 * request gave it was this request's own (a uid is random per create), and a change whose
 * replan has nothing left to write stays reported as made (the stored object is what it
 * wanted, and no one can tell a lost reply from another writer who wrote the same).
 */
export function ownApplyOutcome(first: WriteStep<ApplyChange>, again: WriteStep<ApplyChange>): WriteStep<ApplyChange> {
  const was = first.result;
  // its create, changed by another writer since, written again: this request made the object
  if (again.result.action === 'configured' && ownCreateStored(first, again.result.object)) return { ...again, result: { action: 'created', object: again.result.object } };
  if (again.ops.length || again.result.action !== 'unchanged') return again;
  if (was.action === 'created' && was.object.metadata.uid !== again.result.object.metadata.uid) return again;
  if (was.action === 'unchanged') return again;
  return { ...again, doneBefore: true, result: { action: was.action, object: again.result.object } };
}

/**
 * A delete planned again: an object this request deleted, or marked and saw go, is "not
 * found" now; it was deleted (by this request, or by another at the same time: either way the
 * user's object is gone, as asked).
 */
export function ownDeleteOutcome(first: WriteStep<DeleteResult>, again: WriteStep<DeleteResult>): WriteStep<DeleteResult> {
  // a mark this request wrote is found there, with nothing left to write
  if (first.result === 'marked' && first.ops.length && again.result === 'marked' && !again.ops.length) return { ...again, doneBefore: true };
  if (again.result !== 'notfound' || first.result === 'notfound') return again;
  // gone (maybe another of its name there now): the uid said deleted is the one read
  return { ...again, uid: first.uid, doneBefore: true, result: 'deleted' };
}

/**
 * What a delete plans from: the stored keys as read first (`firstRead`: id -> create_revision,
 * '0' for none, filled on the first call), and on a replan only those still the same key. One
 * deleted and made again since (another create_revision: the controller's HostSubnet for its
 * node), or made since the first read found none, counts as absent, so the delete leaves it
 * alone. A key's create_revision, not the object's uid: a key that does not decode has no uid,
 * and one overwritten with a value that does not decode (no uid now) is still the key read.
 */
export function heldToFirstRead<C extends { kv: { create_revision: string } }>(ids: string[], current: Array<C | undefined>, firstRead: Map<string, string>): Array<C | undefined> {
  return current.map((c, i) => {
    const created = String(c?.kv.create_revision ?? 0);
    const first = firstRead.get(ids[i]);
    if (first === undefined) firstRead.set(ids[i], created);
    return first === undefined || first === created ? c : undefined;
  });
}

/** Pairs each replanned step with the step it replaces (same order, same objects). */
export function keepOwnOutcomes<R>(first: WriteStep<R>[], again: WriteStep<R>[], own: (a: WriteStep<R>, b: WriteStep<R>) => WriteStep<R>): WriteStep<R>[] {
  return again.map((s, i) => own(first[i], s));
}
