// The store names an object it refuses to write by kind and name; the user wrote it somewhere.
// These map such refusals back to the file, document and line of the object, in the form
// every manifest problem is reported (manifest/errors.ts), keeping the error's exit code.
import { objectIssue, type LoadedObject } from '../../manifest/load.js';
import { ManifestError } from '../../manifest/errors.js';
import { TooLargeError } from '../../store/txn-writer.js';

/**
 * The store's error with the object's location when it names one object of the batch:
 * TooLargeError becomes a ManifestError (exit 2, "nothing was written": the batch is packed
 * before its first transaction). Anything else passes through.
 */
export function locateWriteError(e: unknown, loaded: LoadedObject[]): unknown {
  if (e instanceof TooLargeError) {
    const issue = objectIssue(loaded, { kind: e.kind, name: e.objectName }, [], `does not fit one etcd transaction (${e.excess})`);
    return issue ? new ManifestError([issue]) : e;
  }
  return e;
}
