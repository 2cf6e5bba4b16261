// How get and describe read objects: the named ones (each missing one said on stderr, the rest
// still shown, as kubectl does) or a kind's list (keys that do not decode said on stderr).
import type { Kind } from '../../api/kinds.js';
import type { AnyObject } from '../../api/types.js';
import type { LabelSelector } from '../../api/labels.js';
import { NotFoundError, type ReadResult } from '../../store/types.js';
import type { NodeConditions } from '../../store/merge.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { CliError, EXIT } from '../exit.js';
import { skippedLines } from '../format.js';

/** `missing`: NAMEs not shown, not found or their object's key not decoding (`undecodable` of them) */
export interface Fetched { items: AnyObject[]; revision: number; missing: number; undecodable?: number }

/** An object whose own key does not decode: nothing of it to show (exit 1). */
export class UndecodableObjectError extends CliError {
  constructor(kind: Kind, name: string) { super(EXIT.FAILED, `${kind} "${name}" does not decode (above); apply a good one over it or delete it`); }
}

/** The exit code of a get whose NAMEs were not all shown: 1 when one does not decode, else 4 (not found). */
export const notShownExit = (f: Pick<Fetched, 'undecodable'>): number => (f.undecodable ? EXIT.FAILED : EXIT.NOT_FOUND);

/**
 * The named objects that exist, in the order given; each missing one is named on stderr and the
 * rest still print, as kubectl does. So is one whose key does not decode: it is untrusted data,
 * said and skipped, not the end of the others.
 */
export async function readNamed(session: Session, io: CliIO, kind: Kind, names: string[]): Promise<Fetched> {
  // all NAMEs in one read (a fixed number of requests, one revision), each then told in turn
  const { results, revision } = await session.store().readNamed(names.map((name) => ({ kind, name })));
  const items: AnyObject[] = [];
  let missing = 0, undecodable = 0;
  results.forEach((r, i) => {
    try {
      items.push(shown(io, kind, names[i], r).object);
    } catch (e) {
      if (!(e instanceof NotFoundError) && !(e instanceof UndecodableObjectError)) throw e;
      missing++;
      if (e instanceof UndecodableObjectError) undecodable++;
      io.err(`error: ${e.message}\n`);
    }
  });
  return { items, revision, missing, undecodable };
}

export async function readListed(session: Session, io: CliIO, kind: Kind, selector: LabelSelector | undefined): Promise<Fetched> {
  const list = await session.store().list(kind, { labelSelector: selector });
  // A key that does not decode is not the list's failure: the good objects print, and one
  // line per bad key says what was left out (exit 0).
  io.err(skippedLines(list.skipped));
  return { items: list.items, revision: list.revision, missing: 0 };
}

/**
 * A read object as `get KIND NAME` and `describe` show it: a line per key of it that does not
 * decode (a status part left out, exit 0); absent, or its own key not decoding (nothing to show,
 * exit 1: apply a good one over it or delete it), thrown.
 */
export function shown(io: CliIO, kind: Kind, name: string, { object, skipped, hidden }: ReadResult): { object: AnyObject; hidden?: NodeConditions } {
  io.err(skippedLines(skipped));
  if (object) return { object, hidden };
  if (skipped.length) throw new UndecodableObjectError(kind, name);
  throw new NotFoundError(kind, name);
}
