import type { Kind, KindInfo } from '../../api/kinds.js';
import type { AnyObject } from '../../api/types.js';
import { whileEtcdAnswers } from '../watch-liveness.js';
import { selectorMatches, type LabelSelector } from '../../api/labels.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { EXIT, UsageError } from '../exit.js';
import { asList, columnWidths, isTable, ref, skippedLines, renderTable, tableOf, toJson, toYaml, watchTable, type Output, type OutputFormat } from '../format.js';
import { customColumnsOf, isCustomColumnsOutput, isGoTemplateOutput, isJsonPathOutput, MISSING_KEYS_FLAG_ONLY, outputWithTemplateFlag, TEMPLATE_FORMATS, templatePrinterOf } from '../output-templates.js';
import { notShownExit, readListed, readNamed } from './get-read.js';
import { getSeveralKinds } from './get-kinds.js';
import { eventsCommand, isEventsKind } from './events.js';
import type { Command } from 'commander';
import { KIND_HELP, type RegisterCommand } from '../command.js';
import { parseBoolFlag, selectorOption } from '../flag-values.js';
import { parseSelector } from '../label-selector.js';
import { namesByKind, type NamesOfKind } from './targets.js';

export interface GetOptions {
  output?: string; selector?: string[]; watch?: boolean;
  /** --no-headers sets it false: the table's rows without its header line */
  headers?: boolean;
  /** --show-labels: the tables' last column is the object's labels */
  showLabels?: boolean;
  /** --allow-missing-template-keys[=false]; unset is kubectl's default, true */
  allowMissingTemplateKeys?: boolean;
  /** kubectl's --template: -o go-template's (or jsonpath's) template given apart (output-templates.ts) */
  template?: string;
}

/** What `get -o` takes as a whole word (also what completion offers after it, with JSONPATH). */
export const GET_OUTPUTS = ['wide', 'yaml', 'json', 'name'] as const;

export function parseOutput(o: string | undefined): OutputFormat {
  if (o === undefined) return 'table';
  if ((GET_OUTPUTS as readonly string[]).includes(o)) return o as OutputFormat;
  if (isJsonPathOutput(o)) return 'jsonpath';
  if (isGoTemplateOutput(o)) return 'go-template';
  if (isCustomColumnsOutput(o)) return 'custom-columns';
  throw new UsageError(`unknown output format "${o}"; use wide, yaml, json, name, ${TEMPLATE_FORMATS}`);
}

/** -o and what goes with it: a jsonpath or go-template template is parsed here, before etcd is read, so that a typo costs no read. */
export function parseGetOutput(opts: Pick<GetOptions, 'output' | 'allowMissingTemplateKeys' | 'showLabels' | 'template'>): Output {
  const output = outputWithTemplateFlag(opts.output, opts.template);
  const format = parseOutput(output);
  if (opts.showLabels && format !== 'table' && format !== 'wide') throw new UsageError('--show-labels is for the table (and -o wide); -o custom-columns can name labels: LABELS:.metadata.labels');
  if (opts.showLabels) return { format, showLabels: true };
  const template = format === 'jsonpath' || format === 'go-template';
  // refused rather than ignored, as --for is: it would change nothing in what is printed
  if (opts.allowMissingTemplateKeys !== undefined && !template) throw new UsageError(MISSING_KEYS_FLAG_ONLY);
  if (format === 'custom-columns') return { format, columns: customColumnsOf(output!) };
  if (!template) return { format };
  return { format, template: templatePrinterOf(output!, opts.allowMissingTemplateKeys ?? true) };
}

/** `get KIND [NAME...]`, or several kinds (`cn,hs`, `no/a cn/b`): one table per kind (get-kinds.ts). */
export async function getCommand(session: Session, io: CliIO, groups: NamesOfKind[], opts: GetOptions): Promise<number> {
  const output = parseGetOutput(opts);
  const selector = parseSelector(opts.selector);
  if (groups.length > 1) return getSeveralKinds(session, io, groups, { ...output, selector, watch: opts.watch, headers: opts.headers !== false });
  return getOneKind(session, io, groups[0], { ...output, selector, watch: opts.watch, headers: opts.headers });
}

interface OneKindOptions extends Output { selector?: LabelSelector; watch?: boolean; headers?: boolean }

async function getOneKind(session: Session, io: CliIO, { info, names }: NamesOfKind, opts: OneKindOptions): Promise<number> {
  const { format, selector } = opts;
  // kubectl refuses it too: the selector would be silently ignored, showing a NAME it does not match
  if (selector && names.length) throw new UsageError('give NAMEs or a label selector (-l), not both');
  const fetched = names.length ? await readNamed(session, io, info.kind, names) : await readListed(session, io, info.kind, selector);
  const { items, revision, missing } = fetched;
  const table = isTable(format);
  const headers = opts.headers !== false;
  if (items.length === 0 && table) {
    // a missing name has said so already; an empty list says it here, as kubectl does
    if (!names.length) io.err(`No ${info.plural} found.\n`);
    if (!opts.watch || missing) return missing ? notShownExit(fetched) : EXIT.OK;
    // watching: the header comes with the first row, aligned to it (as kubectl prints it)
    return watchRows(session, io, info, { names, selector, revision, format, headers, columns: opts.columns, showLabels: opts.showLabels });
  }
  // NAMEs none of which exist: no object to print (each was said on stderr), as kubectl prints
  // none for a NAME not found, rather than an empty List that reads as "there are none"
  if (missing && items.length === 0) return notShownExit(fetched);
  const how = { names: names.length, watch: !!opts.watch, headers, template: opts.template, columns: opts.columns, showLabels: opts.showLabels };
  const widths = printObjects(io, info.kind, items, format, how);
  // a watch of names that do not exist would never print them: the missing ones end it
  if (missing) return notShownExit(fetched);
  if (!opts.watch) return EXIT.OK;
  return watchRows(session, io, info, { names, selector, revision, format, widths, headers: false, template: opts.template, columns: opts.columns, showLabels: opts.showLabels });
}

interface PrintHow { names: number; watch: boolean; headers: boolean; template?: Output['template']; columns?: Output['columns']; showLabels?: boolean }

/** The table (returns its column widths, which a watch's rows keep) or the documents: one object for a single NAME, else a List. */
function printObjects(io: CliIO, kind: Kind, items: AnyObject[], format: OutputFormat, how: PrintHow): number[] | undefined {
  if (isTable(format)) {
    const table = tableOf(kind, { format, columns: how.columns, showLabels: how.showLabels });
    const rows = [...(how.headers ? [table.header] : []), ...items.map(table.row)];
    const widths = columnWidths(rows);
    io.out(renderTable(rows, widths));
    return widths;
  }
  if (how.template) {
    io.out(templateText(how.template, items, how));
  } else if (format === 'name') {
    // KIND/NAME a line, for scripts: what get, describe, delete and wait take back
    for (const o of items) io.out(`${ref(o)}\n`);
  } else if (how.watch) {
    // a stream: one document per object and per change
    for (const o of items) io.out(format === 'json' ? toJson(o) : `---\n${toYaml(o)}`);
  } else if (how.names === 1 && items.length === 1) {
    io.out(format === 'json' ? toJson(items[0]) : toYaml(items[0]));
  } else {
    io.out(format === 'json' ? toJson(asList(items)) : toYaml(asList(items)));
  }
  return undefined;
}

/**
 * kubectl's input to the template: the object for one NAME, else the List `-o json` prints; a
 * watch runs it on each object (as kubectl's `get -w -o jsonpath|go-template` does).
 */
function templateText(render: (data: unknown) => string, items: AnyObject[], how: PrintHow): string {
  if (how.watch) return items.map(render).join('');
  return render(how.names === 1 && items.length === 1 ? items[0] : asList(items));
}

/** Prints each change as it happens, until interrupted; deleted objects print once more, as kubectl does. */
interface WatchFrom {
  names: string[];
  selector: LabelSelector | undefined;
  revision: number;
  format: OutputFormat;
  /** the listed table's column widths, which the rows keep; none: the first row sets them */
  widths?: number[];
  /** print the table's header with the first row (the list was empty) */
  headers: boolean;
  template?: Output['template'];
  columns?: Output['columns'];
  showLabels?: boolean;
}

/** How a watch prints one object: the template's text, a document, a name, or a table row. */
function watchPrinter(io: CliIO, info: KindInfo, from: WatchFrom): (o: AnyObject) => void {
  const { format, template } = from;
  const table = tableOf(info.kind, from);
  const rowText = watchTable(from.headers ? table.header : undefined, from.widths);
  return (o) => {
    if (template) io.out(template(o));
    else if (format === 'json') io.out(toJson(o));
    else if (format === 'name') io.out(`${ref(o)}\n`);
    else if (format === 'yaml') io.out(`---\n${toYaml(o)}`);
    else io.out(rowText(table.row(o)));
  };
}

async function watchRows(session: Session, io: CliIO, info: KindInfo, from: WatchFrom): Promise<number> {
  const { names, selector, revision } = from;
  const printOne = watchPrinter(io, info, from);
  // a template that fails on an object (an index out of range) ends the watch with its error,
  // exit 1, as kubectl's does, and so does etcd refusing the watch made again (the identity lost
  // its grants); the watch's callbacks must not throw, so the error is kept for below
  let failure: unknown;
  const failed = new AbortController();
  const fail = (e: unknown) => { if (!failed.signal.aborted) { failure = e; failed.abort(); } };
  const print = (o: AnyObject) => {
    if (failed.signal.aborted) return;
    try { printOne(o); } catch (e) { fail(e); }
  };
  const wanted = (o: AnyObject) => (names.length ? names.includes(o.metadata.name) : selectorMatches(selector, o.metadata.labels));
  const w = await session.store().watch(info.kind, revision, {
    onEvent: (e) => {
      if (wanted(e.object)) print(e.object);
    },
    // After a compaction while the watch was cut off, the changes came as events (printed
    // above), and keys newly not decoding through onSkipped: printing the list would repeat
    // every object. Only a watch whose start was compacted before it began prints the list.
    onRelist: (l, changesSent) => {
      if (changesSent) return;
      for (const o of l.items) if (wanted(o)) print(o);
      io.err(skippedLines(l.skipped));
    },
    onSkipped: (s) => io.err(skippedLines([s])),
    onError: (err) => io.err(`warning: watch: ${err.message}\n`),
    onRefused: fail,
  });
  try {
    await whileEtcdAnswers(session.client(), io, io.signal ? AbortSignal.any([io.signal, failed.signal]) : failed.signal);
  } finally {
    await w.close();
  }
  if (failed.signal.aborted) throw failure;
  return EXIT.OK;
}

export function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;   // runs until the process is killed
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export const registerGet: RegisterCommand = (program, { io, run }) => {
  program.command('get')
    .description('list objects of a kind, or show one')
    .argument('<kind>', `${KIND_HELP}; several: KIND,KIND...; or KIND/NAME...`)
    .argument('[names...]')
    .option('-o, --output <format>', "wide, yaml, json, name (KIND/NAME a line), jsonpath=TEMPLATE (kubectl's, e.g. jsonpath='{.items[*].metadata.name}'), go-template=TEMPLATE (Go's text/template, e.g. go-template='{{.metadata.name}}') or custom-columns=NAME:.metadata.name,IP:.status.ip; jsonpath-file=PATH, go-template-file=PATH and custom-columns-file=PATH read them from a file")
    .addOption(selectorOption())
    .option('-w, --watch', 'after listing, print objects as they change')
    .option('--no-headers', 'tables without their header line')
    .option('--show-labels', 'tables end with a LABELS column, each object\'s labels')
    .option('--for <kind/name>', 'get events: only those of this object')
    .option('--template <template>', "kubectl's: the template of -o go-template or -o jsonpath (the file of their -file forms) given apart; alone, -o go-template")
    .option('--allow-missing-template-keys [bool]', '-o jsonpath|go-template: a missing field prints nothing (go-template: <no value>) (default true, as kubectl); false: an error, exit 1', parseBoolFlag('--allow-missing-template-keys'))
    .action((kind: string, names: string[], opts: GetOptions & { for?: string }, cmd: Command) => {
      // an option that does not apply is refused, not ignored: the output would not be what was asked
      if (!isEventsKind(kind) && opts.for !== undefined) throw new UsageError('--for KIND/NAME is for "get events"; use get KIND NAME');
      // events are no kind of object (no table of theirs has NAME): listed on their own
      if (kind.includes(',') && kind.split(',').some(isEventsKind)) throw new UsageError(`"${kind}": events are listed on their own: xctl get events [--for KIND/NAME]`);
      return run((s) => (isEventsKind(kind)
        ? eventsCommand(s, io, names[0], opts)
        : getCommand(s, io, namesByKind('get', [kind, ...names]), opts)), cmd);
    });
};
