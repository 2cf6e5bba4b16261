// `xctl get events [--for KIND/NAME] [-o wide|json|yaml|name|jsonpath=TEMPLATE|go-template=TEMPLATE|custom-columns=SPEC] [-w]` and the Events section of describe.
import { resolveKind, type Kind } from '../../api/kinds.js';
import { eventsAbout, listEvents, readAllEvents, watchEvents, type DecodedEvents, type ListedEvent } from '../../events/read.js';
import { fromEtcdError } from '../../etcd/errors.js';
import { EtcdCompactedError } from '../../errors.js';
import { boundNode } from '../../store/merge.js';
import { printable } from '../../printable.js';
import { whileEtcdAnswers } from '../watch-liveness.js';
import type { InvolvedObject } from '../../events/types.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { EXIT, UsageError } from '../exit.js';
import { customColumnsOf, isCustomColumnsOutput, isTemplateOutput, MISSING_KEYS_FLAG_ONLY, outputWithTemplateFlag, TEMPLATE_FORMATS, templatePrinterOf } from '../output-templates.js';
import { columnWidths, humanAge, ref, renderTable, skippedLines, toJson, toYaml, watchTable } from '../format.js';
import type { Columns } from '../custom-columns.js';

export const EVENT_NAMES = ['events', 'event', 'ev'];
/** What `get events -o` takes as a whole word (also what completion offers after it, with JSONPATH). */
const EVENT_OUTPUTS = ['wide', 'json', 'yaml', 'name'] as const;
export const isEventsKind = (kind: string) => EVENT_NAMES.includes(kind.toLowerCase());

export interface EventsOptions {
  for?: string; output?: string; watch?: boolean;
  /** get's -l: events carry no labels, so a selector is refused rather than ignored */
  selector?: string[];
  /** --no-headers sets it false */
  headers?: boolean;
  /** -o jsonpath|go-template: --allow-missing-template-keys[=false] (get.ts) */
  allowMissingTemplateKeys?: boolean;
  /** kubectl's --template (get.ts) */
  template?: string;
  /** get's --show-labels: refused, as -l is (events carry no labels) */
  showLabels?: boolean;
}

/** A table's columns; `floor`, rows whose widths a watch's columns are at least (USUAL_ROW). */
type EventsPrint = { format: 'table'; columns: Columns; floor: string[][] } | { format: 'json' } | { format: 'yaml' } | { format: 'name' }
  | { format: 'template'; render: (data: unknown) => string };

/** -o for events; a template (jsonpath or go-template) or custom columns are parsed before etcd is read, as get KIND's are. */
function eventsOutput(opts: EventsOptions): EventsPrint {
  const o = outputWithTemplateFlag(opts.output, opts.template);
  const template = o !== undefined && isTemplateOutput(o);
  if (opts.allowMissingTemplateKeys !== undefined && !template) throw new UsageError(MISSING_KEYS_FLAG_ONLY);
  if (template) return { format: 'template', render: templatePrinterOf(o, opts.allowMissingTemplateKeys ?? true) };
  if (o === undefined || o === 'wide') { const columns = o ? WIDE : TABLE; return { format: 'table', columns, floor: [columns.header, columns.row(USUAL)] }; }
  if (isCustomColumnsOutput(o)) return { format: 'table', columns: customColumnsOf(o), floor: [] };
  if (!(EVENT_OUTPUTS as readonly string[]).includes(o)) throw new UsageError(`unknown output format "${o}" for events; use wide, json, yaml, name, ${TEMPLATE_FORMATS}`);
  return { format: o } as EventsPrint;
}

/** KIND/NAME with KIND in any of its spellings. */
export function parseFor(arg: string | undefined): InvolvedObject | undefined {
  if (arg === undefined) return undefined;
  const m = /^([^/]+)\/([^/]+)$/.exec(arg);
  if (!m) throw new UsageError(`--for ${arg}: expected KIND/NAME, e.g. containernic/test-eth1`);
  return { kind: resolveKind(m[1]).kind, name: m[2] };
}

/**
 * The object --for names as it is now: with its uid, so that only this incarnation's events
 * are listed (read.ts, eventFor). None there (deleted, or its key does not decode): every
 * event of that name, what happened to the one that was.
 */
async function current(session: Session, obj: InvolvedObject): Promise<{ obj: InvolvedObject; node?: string }> {
  const o = (await session.store().read(obj.kind as Kind, obj.name)).object;
  const uid = o?.metadata.uid;
  return { obj: uid ? { ...obj, uid } : obj, node: o && boundNode(o) };
}

/**
 * One stderr line per node whose agent wrote events about an object bound to another node,
 * left out of its listing (read.ts, fromItsNode): `xctl get events` without --for shows them.
 */
export function otherLines(obj: InvolvedObject, node: string | undefined, others: ReadonlyMap<string, number>): string {
  return [...others].map(([from, n]) => `warning: ${n} event(s) about ${printable(obj.kind.toLowerCase())}/${printable(obj.name)} written by agent/${printable(from)}, not by its node's agent (${printable(node ?? '')}), not shown; xctl get events shows them\n`).join('');
}

const source = (e: ListedEvent) => (e.source.node ? `agent/${e.source.node}` : e.source.component);
const object = (e: ListedEvent) => `${e.involvedObject.kind.toLowerCase()}/${e.involvedObject.name}`;
const TABLE: Columns = {
  header: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'COUNT', 'SOURCE', 'MESSAGE'],
  row: (o) => { const e = o as ListedEvent; return [humanAge(e.lastTimestamp), e.type, e.reason, object(e), String(e.count), source(e), e.message]; },
};
/** kubectl's -o wide adds FIRST SEEN and NAME; MESSAGE stays last, where a long one does not push the others apart. */
const WIDE: Columns = {
  header: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'COUNT', 'SOURCE', 'FIRST SEEN', 'NAME', 'MESSAGE'],
  row: (o) => { const e = o as ListedEvent; return [humanAge(e.lastTimestamp), e.type, e.reason, object(e), String(e.count), source(e), humanAge(e.firstTimestamp), e.metadata.name, e.message]; },
};

/**
 * A usual event: the columns of a watch are at least as wide as its row, so that the rows it
 * prints after the first line up with it more often (a table printed row by row cannot know them all).
 */
const USUAL = {
  metadata: { name: `${'x'.repeat(20)}.${'0'.repeat(16)}` }, type: 'Warning', reason: 'RouteConflict', count: 999,
  involvedObject: { kind: 'ContainerNic', name: 'x'.repeat(20) }, source: { component: 'agent', node: 'host-10' },
  lastTimestamp: new Date(Date.now() - 12 * 60_000).toISOString(), firstTimestamp: new Date(Date.now() - 12 * 60_000).toISOString(), message: '',
};

export async function eventsCommand(session: Session, io: CliIO, name: string | undefined, opts: EventsOptions): Promise<number> {
  if (name !== undefined) throw new UsageError('get events takes no NAME; use --for KIND/NAME');
  if (opts.selector?.length) throw new UsageError('get events takes no label selector (-l): events carry no labels; use --for KIND/NAME');
  if (opts.showLabels) throw new UsageError('get events takes no --show-labels: events carry no labels');
  const how = eventsOutput(opts);
  const named = parseFor(opts.for);
  const cur = named && await current(session, named);
  const list = await listEvents(session.client(), undefined, cur?.obj, cur?.node);
  io.err(skippedLines(list.skipped));
  if (cur) io.err(otherLines(cur.obj, cur.node, list.others));
  const print = printListed(io, list.items, how, opts);
  if (!opts.watch) return EXIT.OK;
  // ended by the user (io.signal) or by an etcd that stopped answering (whileEtcdAnswers)
  const ac = new AbortController();
  const onAbort = () => ac.abort();
  io.signal?.addEventListener('abort', onAbort, { once: true });
  if (io.signal?.aborted) ac.abort();
  // the watch follows the name: an object made again meanwhile is what one watches for
  const watching = watchEvents(session.client(), undefined, list.revision, named, {
    onEvent: (e) => print(e),
    onSkipped: (s) => io.err(skippedLines([s])),
    onOther: (e) => io.err(otherLines(named!, cur?.node, new Map([[e.source.node!, 1]]))),
  }, ac.signal, cur?.node);
  try {
    await Promise.race([watching, whileEtcdAnswers(session.client(), io, ac.signal)]);
  } finally {
    io.signal?.removeEventListener('abort', onAbort);
    ac.abort();
    await watching.catch(() => undefined);
  }
  return EXIT.OK;
}

/**
 * Prints the listed events; returns how a watch prints each later one. An empty table says so on
 * stderr, and a watch's header then comes with its first row, aligned to it, as `get KIND -w`
 * prints it (a header printed at once could only guess the widths of rows not yet seen).
 */
function printListed(io: CliIO, items: ListedEvent[], how: EventsPrint, opts: EventsOptions): (e: ListedEvent) => void {
  if (how.format === 'template') {
    // kubectl's input: the List -o json prints; a watch runs the template on each event
    io.out(opts.watch ? items.map(how.render).join('') : how.render({ apiVersion: 'v1', kind: 'List', items }));
    return (e) => io.out(how.render(e));
  }
  if (how.format === 'json') {
    // a List, as `get KIND -o json` prints it; a watch prints one document per event
    io.out(opts.watch ? items.map((e) => toJson(e)).join('') : toJson({ apiVersion: 'v1', kind: 'List', items }));
    return (e) => io.out(toJson(e));
  }
  if (how.format === 'yaml') {
    io.out(opts.watch ? items.map((e) => `---\n${toYaml(e)}`).join('') : toYaml({ apiVersion: 'v1', kind: 'List', items }));
    return (e) => io.out(`---\n${toYaml(e)}`);
  }
  if (how.format === 'name') {
    // the object's name is what a node wrote: printed as the table prints it, never raw
    io.out(items.map((e) => `${printable(ref(e))}\n`).join(''));
    return (e) => io.out(`${printable(ref(e))}\n`);
  }
  return printTable(io, items, how, opts.headers !== false);
}

/** The table (the events' own, wide, or the user's columns), and how a watch prints each later row. */
function printTable(io: CliIO, items: ListedEvent[], how: Extract<EventsPrint, { format: 'table' }>, headers: boolean): (e: ListedEvent) => void {
  const { header, row } = how.columns;
  const rows = items.map(row);
  if (!rows.length) io.err('No events found.\n');
  // the listing's widths (at least the header's and a usual row's) serve the rows a watch prints later
  const widths = rows.length ? columnWidths([header, ...rows, ...how.floor]) : undefined;
  if (rows.length) io.out(renderTable(headers ? [header, ...rows] : rows, widths));
  const rowText = watchTable(headers ? header : undefined, widths, [header, ...how.floor]);
  return (e) => io.out(rowText(row(e)));
}

/**
 * Every event, read once for a whole `describe` (a listing per object was one request each: 80
 * objects, 80 listings of every event), at the revision of the objects it describes, or the
 * revision of the moment when etcd compacted that one away. Objects read at a later revision
 * (the next kind of `describe no/a nic/b`, a NAME taken as a prefix) get a listing of their own
 * when the one held is older, so an event written between the reads is shown beside them.
 */
export function eventsOnce(session: Session): (revision?: number) => Promise<DecodedEvents> {
  let read: Promise<DecodedEvents> | undefined;
  return async (revision) => {
    const held = read && await read;
    if (held && (revision === undefined || held.revision >= revision)) return held;
    read = readAllEvents(session.client(), undefined, revision).catch((e: unknown) => {
      if (revision === undefined || !(fromEtcdError(e) instanceof EtcdCompactedError)) throw e;
      return readAllEvents(session.client(), undefined);
    });
    return read;
  };
}

/**
 * describe's last section: the object's events, newest last: those of its incarnation (obj.uid)
 * and those that name none (read.ts, eventFor), of `all` (eventsOnce). An event key that does
 * not decode may have been about this object: each is named on stderr.
 */
export function describeEvents(io: CliIO, all: DecodedEvents, obj: InvolvedObject, node?: string): string {
  const { items, skipped, others } = eventsAbout(all, obj, node);
  io.err(skippedLines(skipped));
  io.err(otherLines(obj, node, others));
  if (!items.length) return 'Events:       <none>\n';
  const rows = [['TYPE', 'REASON', 'AGE', 'COUNT', 'FROM', 'MESSAGE'],
    ...items.map((e) => [e.type, e.reason, humanAge(e.lastTimestamp), String(e.count), e.source.node ? `agent/${e.source.node}` : e.source.component, e.message])];
  return `Events:\n${renderTable(rows).replace(/\n$/, '').split('\n').map((l) => `  ${l}`).join('\n')}\n`;
}
