// Which objects delete, label and wait act on: those named (`KIND NAME...`, `KIND/NAME...`),
// those in manifests (`-f`), or, as kubectl selects them, every object of a kind (`--all`) or
// those whose labels match (`-l app=web`, `-l 'app in (web,db),!canary'`). A selection is read
// once, when the command starts: an object made after that is not acted on, as in kubectl.
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { UsageError } from '../exit.js';
import { skippedLines } from '../format.js';
import { parseSelector } from '../label-selector.js';
import { namedOrInManifests, namesByKind, type Target } from './targets.js';

export interface SelectionOptions { filename?: string[]; selector?: string[]; all?: boolean }

/** The objects named, in the manifests, or selected; `selected` when -l or --all chose them. */
export interface Selection { targets: Target[]; selected: boolean }

export async function selectTargets(session: Session, io: CliIO, command: string, args: string[], opts: SelectionOptions, usage: string): Promise<Selection> {
  const selector = parseSelector(opts.selector);
  // `-l ''` (or `-l "$UNSET"`) would select every object, as it does for get: for a command that
  // changes them that must be said with --all, as kubectl refuses it
  if (selector?.length === 0) throw new UsageError(`an empty label selector (-l '') names no objects to ${command}: give key=value, or --all for every object of the KIND`);
  if (!selector && !opts.all) return { targets: await namedOrInManifests(io, command, args, opts.filename, usage), selected: false };
  const kinds = kindsToSelect(command, args, opts, selector !== undefined);
  const targets: Target[] = [];
  for (const kind of kinds) {
    const list = await session.store().list(kind, { labelSelector: selector, withoutStatus: true });
    io.err(skippedLines(list.skipped));
    for (const o of list.items) targets.push({ kind, name: o.metadata.name, uid: o.metadata.uid });
  }
  return { targets, selected: true };
}

/**
 * The kinds `-l` or `--all` selects in: `KIND[,KIND...]` and nothing more. Names beside a
 * selection are refused, as kubectl refuses them: whether the command meant the names or the
 * selection could only be guessed, and for delete a wrong guess cannot be undone.
 */
function kindsToSelect(command: string, args: string[], opts: SelectionOptions, bySelector: boolean) {
  const how = bySelector ? 'a label selector (-l)' : '--all';
  if (bySelector && opts.all) throw new UsageError('give --all or a label selector (-l), not both');
  if (opts.filename?.length) throw new UsageError(`give -f or ${how}, not both`);
  if (args.length === 0) throw new UsageError(`${how} selects objects of a KIND: e.g. xctl ${command} nic ${bySelector ? '-l app=web' : '--all'}`);
  const groups = namesByKind(command, args);
  if (args.length > 1 || groups.some((g) => g.names.length)) throw new UsageError(`give NAMEs or ${how}, not both`);
  return groups.map((g) => g.info.kind);
}
