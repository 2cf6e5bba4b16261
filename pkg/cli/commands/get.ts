import { resolveKind, type Kind, type KindInfo } from '../../api/kinds.js';
import type { AnyObject } from '../../api/types.js';
import { matchLabels } from '../../api/labels.js';
import { NotFoundError } from '../../store/types.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { CliError, EXIT, UsageError } from '../exit.js';
import { asList, columnWidths, skippedLines, renderTable, tableHeader, tableRow, toJson, toYaml, type OutputFormat } from '../format.js';
import { eventsCommand, isEventsKind } from './events.js';
import type { Command } from 'commander';
import { KIND_HELP, collect, type RegisterCommand } from '../command.js';

export interface GetOptions { output?: string; selector?: string[]; watch?: boolean }

export function parseOutput(o: string | undefined): OutputFormat {
  if (o === undefined) return 'table';
  if (o === 'wide' || o === 'yaml' || o === 'json') return o;
  throw new UsageError(`unknown output format "${o}"; use wide, yaml or json`);
}

/** -l k=v[,k2=v2] (repeatable): every pair must match, as kubectl's equality selectors. */
export function parseSelector(args: string[] | undefined): Record<string, string> | undefined {
  if (!args?.length) return undefined;
  const sel: Record<string, string> = {};
  for (const part of args.flatMap((a) => a.split(',')).map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^=!\s]+)==?([^=\s]*)$/.exec(part);
    if (!m) throw new UsageError(`invalid label selector "${part}"; use key=value[,key=value]`);
    sel[m[1]] = m[2];
  }
  return sel;
}

const matches = (o: AnyObject, sel: Record<string, string> | undefined) =>
  matchLabels(sel, o.metadata.labels);

export async function getCommand(session: Session, io: CliIO, kindArg: string, name: string | undefined, opts: GetOptions): Promise<number> {
  const info = resolveKind(kindArg);
  const format = parseOutput(opts.output);
  const selector = parseSelector(opts.selector);
  const store = session.store();
  let items: AnyObject[];
  let revision: number;
  if (name) {
    revision = await store.revision();
    items = [await readOne(session, io, info.kind, name)];
  } else {
    const list = await store.list(info.kind, { labelSelector: selector });
    items = list.items;
    revision = list.revision;
    // A key that does not decode is not the list's failure: the good objects print, and one
    // line per bad key says what was left out (exit 0).
    io.err(skippedLines(list.skipped));
  }
  const wide = format === 'wide';
  let widths: number[] | undefined;
  if (format === 'table' || wide) {
    if (items.length === 0 && !opts.watch) {
      io.err(`No ${info.plural} found.\n`);
      return EXIT.OK;
    }
    const rows = [tableHeader(info.kind, wide), ...items.map((o) => tableRow(o, wide))];
    widths = columnWidths(rows);
    io.out(renderTable(rows, widths));
  } else if (opts.watch) {
    // a stream: one document per object and per change
    for (const o of items) io.out(format === 'json' ? toJson(o) : `---\n${toYaml(o)}`);
  } else {
    const doc = name ? items[0] : asList(items);
    io.out(format === 'json' ? toJson(doc) : toYaml(doc));
  }
  if (!opts.watch) return EXIT.OK;
  return watchRows(session, io, info, name, selector, revision, format, widths);
}

/**
 * One object for `get KIND NAME` and `describe`: a line per key of it that does not decode
 * (a status part left out, exit 0); when the object's own key does not decode there is nothing
 * to show (exit 1: `xctl apply` a good one over it, or `xctl delete` it).
 */
export async function readOne(session: Session, io: CliIO, kind: Kind, name: string): Promise<AnyObject> {
  const { object, skipped } = await session.store().read(kind, name);
  io.err(skippedLines(skipped));
  if (object) return object;
  if (skipped.length) throw new CliError(EXIT.FAILED, `${kind} "${name}" does not decode (above); apply a good one over it or delete it`);
  throw new NotFoundError(kind, name);
}

/** Prints each change as it happens, until interrupted; deleted objects print once more, as kubectl does. */
async function watchRows(session: Session, io: CliIO, info: KindInfo, name: string | undefined, selector: Record<string, string> | undefined,
  revision: number, format: OutputFormat, widths: number[] | undefined): Promise<number> {
  const print = (o: AnyObject) => {
    if (format === 'json') io.out(toJson(o));
    else if (format === 'yaml') io.out(`---\n${toYaml(o)}`);
    else io.out(renderTable([tableRow(o, format === 'wide')], widths));
  };
  const w = await session.store().watch(info.kind, revision, {
    onEvent: (e) => {
      if (name ? e.object.metadata.name === name : matches(e.object, selector)) print(e.object);
    },
    onRelist: (l) => {
      for (const o of l.items) if (name ? o.metadata.name === name : matches(o, selector)) print(o);
      io.err(skippedLines(l.skipped));
    },
    onSkipped: (s) => io.err(skippedLines([s])),
    onError: (err) => io.err(`warning: watch: ${err.message}\n`),
  });
  try {
    await untilAborted(io.signal);
  } finally {
    await w.close();
  }
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
    .argument('<kind>', KIND_HELP)
    .argument('[name]')
    .option('-o, --output <format>', 'wide, yaml or json')
    .option('-l, --selector <k=v>', 'label selector, k=v[,k=v]; repeatable', collect)
    .option('-w, --watch', 'after listing, print objects as they change')
    .option('--for <kind/name>', 'get events: only those of this object')
    .action((kind: string, name: string | undefined, opts: GetOptions & { for?: string }, cmd: Command) => run((s) => (isEventsKind(kind)
      ? eventsCommand(s, io, name, opts)
      : getCommand(s, io, kind, name, opts)), cmd));
};
