// How get and describe read objects: the named ones (each missing one said on stderr, the rest
// still shown, as kubectl does) or a kind's list (keys that do not decode said on stderr).
import type { Kind } from '../../api/kinds.js';
import type { AnyObject } from '../../api/types.js';
import type { LabelSelector } from '../../api/labels.js';
import { NotFoundError } from '../../store/types.js';
import type { NodeConditions } from '../../store/merge.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { CliError, EXIT } from '../exit.js';
import { skippedLines } from '../format.js';

export interface Fetched { items: AnyObject[]; revision: number; missing: number }

/** The named objects that exist, in the order given; each missing one is named on stderr and the rest still print, as kubectl does. */
export async function readNamed(session: Session, io: CliIO, kind: Kind, names: string[]): Promise<Fetched> {
  const revision = await session.store().revision();
  const items: AnyObject[] = [];
  let missing = 0;
  for (const name of names) {
    try {
      items.push(await readOne(session, io, kind, name));
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
      missing++;
      io.err(`error: ${e.message}\n`);
    }
  }
  return { items, revision, missing };
}

export async function readListed(session: Session, io: CliIO, kind: Kind, selector: LabelSelector | undefined): Promise<Fetched> {
  const list = await session.store().list(kind, { labelSelector: selector });
  // A key that does not decode is not the list's failure: the good objects print, and one
  // line per bad key says what was left out (exit 0).
  io.err(skippedLines(list.skipped));
  return { items: list.items, revision: list.revision, missing: 0 };
}

/**
 * One object for `get KIND NAME` and `describe`: a line per key of it that does not decode
 * (a status part left out, exit 0); when the object's own key does not decode there is nothing
 * to show (exit 1: `xctl apply` a good one over it, or `xctl delete` it).
 */
export async function readOne(session: Session, io: CliIO, kind: Kind, name: string): Promise<AnyObject> {
  return (await readOneWithHidden(session, io, kind, name)).object;
}

/** readOne, with the bound node's conditions its merged view hides (describe shows them too). */
export async function readOneWithHidden(session: Session, io: CliIO, kind: Kind, name: string): Promise<{ object: AnyObject; hidden?: NodeConditions }> {
  const { object, skipped, hidden } = await session.store().read(kind, name);
  io.err(skippedLines(skipped));
  if (object) return { object, hidden };
  if (skipped.length) throw new CliError(EXIT.FAILED, `${kind} "${name}" does not decode (above); apply a good one over it or delete it`);
  throw new NotFoundError(kind, name);
}

