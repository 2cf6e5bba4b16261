// The store names an object it refuses to write by kind and name; the user wrote it somewhere.
// These map such refusals back to the file, document and line of the object, in the form
// every manifest problem is reported (manifest/errors.ts), keeping the error's exit code.
import { objectIssue, type LoadedObject } from '../../manifest/load.js';
import { formatIssue, ManifestError, type ManifestIssue } from '../../manifest/errors.js';
import { PartialWriteError, TooLargeError } from '../../store/txn-writer.js';
import { BeingDeletedError, SetOnceError, StaleResourceVersionError, UidMismatchError, type ConflictError } from '../../store/types.js';
import { CliError, EXIT } from '../exit.js';

/**
 * The store's error with the object's location when it names one object of the batch. A
 * write that stopped midway keeps its progress (what was committed stays) and gets its
 * cause located. Anything else passes through. `writes`: false for diff, which never writes,
 * so its refusals do not end with "nothing was written" (as its invalid manifests do not).
 */
export function locateWriteError(e: unknown, loaded: LoadedObject[], writes = true): unknown {
  if (e instanceof PartialWriteError) return new PartialWriteError(e.progress, located(e.cause, loaded, false) ?? e.cause, e.inFlight);
  return located(e, loaded, writes) ?? e;
}

/**
 * TooLargeError (and SetOnceError, a set-once field changed by another writer after xctl's check): a ManifestError (exit 2); found when the batch is packed, before anything is
 * written, or (inside a PartialWriteError) when a later transaction is planned again after a
 * conflict and the object has grown meanwhile. StaleResourceVersionError: a conflict (exit 3) at the
 * manifest's metadata.resourceVersion; UidMismatchError: one at its metadata.uid; BeingDeletedError: a conflict (exit 3) at its metadata.name;
 * `nothingWritten` when no transaction was committed.
 */
function located(e: unknown, loaded: LoadedObject[], nothingWritten: boolean): Error | undefined {
  if (e instanceof TooLargeError) {
    const issue = objectIssue(loaded, { kind: e.kind, name: e.objectName }, [], `does not fit one etcd transaction (${e.excess})`);
    return issue && new ManifestError([issue]);
  }
  if (e instanceof SetOnceError) {
    const issues = e.issues.map((i) => objectIssue(loaded, { kind: e.kind, name: e.objectName }, i.path, i.message));
    return issues.every((i) => i !== undefined) ? new ManifestError(issues as ManifestIssue[]) : undefined;
  }
  const conflict = (path: string[], why: string): CliError | undefined => {
    const issue = objectIssue(loaded, { kind: (e as ConflictError).kind, name: (e as ConflictError).objectName }, path, why);
    return issue && new CliError(EXIT.CONFLICT, `conflict: ${formatIssue(issue)}${nothingWritten ? '\nnothing was written' : ''}`);
  };
  if (e instanceof StaleResourceVersionError) return conflict(['metadata', 'resourceVersion'], staleWhy(e));
  if (e instanceof UidMismatchError) {
    return conflict(['metadata', 'uid'], `the object was deleted and made again since it was read (uid ${e.uid}; stored: ${e.stored}); remove metadata.uid to apply to the object stored now`);
  }
  if (e instanceof BeingDeletedError) {
    return conflict(['metadata', 'name'], `is being deleted (it waits for its finalizers: ${e.finalizers.join(', ')}); apply it again once it is gone: ${BeingDeletedError.waitCommand(e.kind, e.objectName)}`);
  }
  return undefined;
}

/** What a stale resourceVersion means for the user and what to do about it. */
function staleWhy(e: StaleResourceVersionError): string {
  if (e.stored === undefined) {
    return `the object no longer exists (deleted since resourceVersion ${e.resourceVersion}); remove metadata.resourceVersion to create it again`;
  }
  return `the object has been modified since resourceVersion ${e.resourceVersion} (stored: ${e.stored}); get it again and reapply your change`;
}
