// `get cn,hs,nic` and `get node/a cn/b`: several kinds in one get, printed as kubectl prints
// them (`kubectl get pods,svc`): one table per kind, each with its header, a blank line between,
// NAME written KIND/NAME so that a row says its kind; -o json|yaml one List of all of them.
import type { AnyObject } from '../../api/types.js';
import type { LabelSelector } from '../../api/labels.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { EXIT, UsageError } from '../exit.js';
import { asList, ref, renderTable, tableOf, toJson, toYaml, type Output } from '../format.js';
import { notShownExit, readListed, readNamed } from './get-read.js';
import type { NamesOfKind } from './targets.js';

export interface SeveralKindsOptions extends Output { selector?: LabelSelector; watch?: boolean; headers: boolean }

export async function getSeveralKinds(session: Session, io: CliIO, groups: NamesOfKind[], opts: SeveralKindsOptions): Promise<number> {
  // kubectl refuses a watch of several kinds too: one watch follows one kind's keys
  if (opts.watch) throw new UsageError(`-w watches one kind at a time; give one KIND (got ${groups.map((g) => g.info.short).join(',')})`);
  if (opts.selector && groups.some((g) => g.names.length)) throw new UsageError('give NAMEs or a label selector (-l), not both');
  let missing = 0, undecodable = 0;
  const lists: AnyObject[][] = [];
  for (const { info, names } of groups) {
    const fetched = names.length ? await readNamed(session, io, info.kind, names) : await readListed(session, io, info.kind, opts.selector);
    missing += fetched.missing;
    undecodable += fetched.undecodable ?? 0;
    lists.push(fetched.items);
  }
  const all = lists.flat();
  // NAMEs none of which exist print nothing, as for one kind (get.ts): each was said on stderr
  if (missing && all.length === 0) return notShownExit({ undecodable });
  // the template runs over the one List of every kind's objects, as kubectl's over `get pods,svc`
  if (opts.template) io.out(opts.template(asList(all)));
  else if (opts.format === 'name') io.out(all.map((o) => `${ref(o)}\n`).join(''));
  else if (opts.format === 'json') io.out(toJson(asList(all)));
  else if (opts.format === 'yaml') io.out(toYaml(asList(all)));
  else if (all.length) io.out(kindTables(lists, opts, opts.headers));
  // a kind with nothing is left out; nothing at all is said once, as kubectl says it
  else if (!missing) io.err('No resources found.\n');
  return missing ? notShownExit({ undecodable }) : EXIT.OK;
}

/**
 * One table per kind that has objects, each headed (unless --no-headers) and aligned on its own, a
 * blank line between headed tables; the kind's own tables name each row KIND/NAME, custom columns
 * print what they ask for.
 */
export function kindTables(lists: AnyObject[][], out: Pick<Output, 'format' | 'columns'>, headers: boolean): string {
  const tables = lists.filter((items) => items.length).map((items) => {
    const table = tableOf(items[0].kind, out);
    const rows = items.map((o) => { const row = table.row(o); if (!out.columns) row[0] = ref(o); return row; });
    return renderTable(headers ? [table.header, ...rows] : rows);
  });
  // kubectl separates the tables only when they have headers: without, the rows run on
  return tables.join(headers ? '\n' : '');
}
