// What apply and diff share: read and validate the manifests before touching etcd, then check
// them against what is stored.
import { storedKindsToCheck } from '../../api/validate-cross.js';
import type { AnyObject } from '../../api/types.js';
import { checkAgainstStore, InvalidBatchError, loadManifests, type LoadedObject } from '../../manifest/load.js';
import { ManifestError } from '../../manifest/errors.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { UsageError } from '../exit.js';

export async function loadBatch(io: CliIO, filenames: string[] | undefined): Promise<LoadedObject[]> {
  if (!filenames?.length) throw new UsageError('-f FILE|DIR|- is required');
  return loadManifests(filenames, io.stdin);
}

/** Batch validated against stored objects: overlaps, static IPs outside or taken, Node addresses. */
export async function checkedBatch(session: Session, loaded: LoadedObject[]): Promise<AnyObject[]> {
  const objects = loaded.map((l) => l.object);
  const kinds = storedKindsToCheck(objects);
  if (kinds.length) {
    const store = session.store();
    const lists = await Promise.all(kinds.map((k) => store.list(k.kind, { withoutStatus: !k.withStatus, controllerStatusOnly: k.controllerStatusOnly })));
    checkAgainstStore(loaded, lists.flatMap((l) => l.items));
  }
  return objects;
}

/**
 * loadBatch, then checkedBatch (apply, diff). A batch refused for its own problems is still
 * checked against the store (the objects that passed), so that one run reports every problem;
 * when the store cannot be read, the manifests' own problems are reported alone.
 */
export async function loadCheckedBatch(session: Session, io: CliIO, filenames: string[] | undefined): Promise<{ loaded: LoadedObject[]; objects: AnyObject[] }> {
  let loaded: LoadedObject[];
  try {
    loaded = await loadBatch(io, filenames);
  } catch (e) {
    if (!(e instanceof InvalidBatchError) || !e.valid.length) throw e;
    const more = await checkedBatch(session, e.valid).then(() => [], (x: unknown) => (x instanceof ManifestError ? x.issues : []));
    throw e.with(more);
  }
  return { loaded, objects: await checkedBatch(session, loaded) };
}
