// A delete held to a check the caller made before it (types.ts, DeleteGuard): the check read
// etcd at one revision, and the transaction that deletes what it allowed compares that nothing
// it read was created or changed since. Without this, a key written between the check and the
// delete (a ContainerNic applied on the network being deleted) went unseen. etcd compares a
// key range as a whole: every key in [key, range_end) must pass, and an empty range compares as
// one absent key (mod_revision 0), which passes "Mod < revision + 1" as no change
// (test/integration/xctl-delete-in-use-race.test.ts checks both on a real etcd).
import type { ICompare } from 'etcd3';
import { prefixEnd, type Keys } from './keys.js';
import { ConflictError, type DeleteGuard } from './types.js';
import type { Kind } from '../api/index.js';
import type { ObjectRef, WriteStep } from './write-plan.js';

const refId = (r: ObjectRef) => `${r.kind}/${r.name}`;

/** "Not written after `revision`": over every key from `key` to `rangeEnd`, or `key` alone. */
function unchangedSince(revision: number, key: string, rangeEnd?: Buffer): ICompare {
  return { key: Buffer.from(key), ...(rangeEnd ? { range_end: rangeEnd } : {}), target: 'Mod', result: 'Less', mod_revision: String(revision + 1) };
}

/** The compares a guarded delete of `ref` carries: `kinds`' whole key ranges, and its own key. */
export function guardCompares(keys: Keys, kinds: readonly Kind[], ref: ObjectRef, since: number): ICompare[] {
  const ranges = kinds.map((k) => unchangedSince(since, keys.objects(k), prefixEnd(keys.objects(k))));
  return [...ranges, unchangedSince(since, keys.object(ref.kind, ref.name))];
}

/** A guard as one delete holds it: the revision moves each time the check runs again. */
export class HeldGuard {
  private since: number;
  private readonly ids: Set<string>;

  constructor(private readonly keys: Keys, private readonly guard: DeleteGuard) {
    this.since = guard.revision;
    this.ids = new Set(guard.refs.map(refId));
  }

  private guards(step: WriteStep<unknown>): boolean {
    return step.ops.length > 0 && this.ids.has(refId(step.ref));
  }

  /**
   * The step with the guard's compares when it writes a guarded object: the kinds' whole key
   * ranges, and the object's own key (the check may have read it before its step did, or found
   * it absent). A step that writes nothing needs no guard.
   */
  hold<R>(step: WriteStep<R>): WriteStep<R> {
    if (!this.guards(step)) return step;
    return { ...step, compares: [...step.compares, ...guardCompares(this.keys, this.guard.kinds, step.ref, this.since)] };
  }

  /**
   * Before a failed transaction is planned again: when it held the guard, its compares may be
   * what failed, so the check runs again (and refuses by throwing) and the guard moves to the
   * revision it read at.
   */
  async renewAfter(run: WriteStep<unknown>[]): Promise<void> {
    if (run.some((s) => this.guards(s))) this.since = await this.guard.recheck();
  }

  /**
   * The error for a guarded transaction that kept failing; undefined for one without the guard.
   * It names every guarded object of the transaction, which wrote nothing: naming the first
   * alone told a user who deleted several networks that only that one was kept.
   */
  conflict(run: WriteStep<unknown>[]): ConflictError | undefined {
    const [held, ...others] = run.filter((s) => this.guards(s));
    if (!held) return undefined;
    const kinds = this.guard.kinds.join(' and ');
    return new ConflictError(held.ref.kind, held.ref.name, `it, or the ${kinds} objects its delete was checked against, kept changing while it was being deleted; ` +
      `it was not deleted${norWere(others.map((s) => s.ref))}`, 'run the delete again');
  }
}

/** How many of the other objects kept are named; the rest are counted, as xctl's in-use refusal does. */
const NAMED = 5;

/** ", nor were a/x and b/y" (then "and N more"): the other guarded objects of the failed transaction. */
function norWere(refs: ObjectRef[]): string {
  if (!refs.length) return '';
  const names = refs.slice(0, NAMED).map((r) => `${r.kind.toLowerCase()}/${r.name}`);
  const more = refs.length - names.length;
  const list = more ? `${names.join(', ')} and ${more} more` : names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return `, nor were ${list}, held to the same check in the same transaction`;
}
