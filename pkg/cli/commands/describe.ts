import type { Condition } from '../../api/fields.js';
import type { KindInfo } from '../../api/kinds.js';
import type { LabelSelector } from '../../api/labels.js';
import type { NodeConditions } from '../../store/merge.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { EXIT, UsageError } from '../exit.js';
import { selectorOption } from '../flag-values.js';
import { parseSelector } from '../label-selector.js';
import { agoText, humanAge, renderTable, skippedLines, toHumanYaml } from '../format.js';
import type { Command } from 'commander';
import { KIND_HELP, type RegisterCommand } from '../command.js';
import { describeEvents, eventsOnce } from './events.js';
import type { DecodedEvents } from '../../events/read.js';
import { boundNode } from '../../store/merge.js';
import { notShownExit, shown, UndecodableObjectError } from './get-read.js';
import { namesByKind, type NamesOfKind } from './targets.js';
import { NotFoundError, type ReadResult } from '../../store/types.js';
import type { AnyObject } from '../../api/types.js';

/**
 * `describe KIND [NAME_PREFIX...]`, `describe KIND,KIND...`, `describe KIND/NAME...`, `describe
 * KIND -l k=v`: each object in turn, separated as kubectl separates them (two blank lines); a KIND
 * without NAMEs is every object of it (`kubectl describe pods`). As kubectl's, a NAME that names
 * no object describes every object whose name begins with it (`describe nic web` for web-1 and
 * web-2); one that matches none is said on stderr and the others are still described, exit 4.
 * One whose own key does not decode (untrusted data) is said too, and the others still
 * described, exit 1 (as get's readNamed).
 */
export async function describeCommand(session: Session, io: CliIO, groups: NamesOfKind[], selectorArgs?: string[]): Promise<number> {
  const selector = parseSelector(selectorArgs);
  if (selector && groups.some((g) => g.names.length)) throw new UsageError('give NAMEs or a label selector (-l), not both');
  let described = 0, missing = 0, undecodable = 0;
  const tell = (outcome: Outcome): boolean => {
    if (outcome === 'described') described++;
    // it exists but cannot be shown: not found by prefix either, as get takes it
    if (outcome === 'undecodable') { missing++; undecodable++; }
    return outcome !== 'absent';
  };
  const events = eventsOnce(session);
  for (const { info, names } of groups) {
    const listed = memo(() => namesOf(session, io, info, selector));
    const asked = names.length ? names : await listed();
    const read = await readAll(session, info, asked);
    const eventsAt = () => events(read.revision);
    for (const [i, name] of asked.entries()) {
      if (tell(await describeRead(session, io, info, name, read.results[i], described, eventsAt))) continue;
      // one listed a moment ago and deleted since is no error: it is simply not there to describe
      if (!names.length) continue;
      const prefixed = (await listed()).filter((n) => n.startsWith(name));
      const readPrefixed = await readAll(session, info, prefixed);
      for (const [j, n] of prefixed.entries()) tell(await describeRead(session, io, info, n, readPrefixed.results[j], described, () => events(readPrefixed.revision)));
      if (!prefixed.length) { missing++; io.err(`error: ${new NotFoundError(info.kind, name).message}\n`); }
    }
  }
  if (!described && !missing) io.err(groups.length === 1 ? `No ${groups[0].info.plural} found.\n` : 'No resources found.\n');
  return missing ? notShownExit({ undecodable }) : EXIT.OK;
}

type Outcome = 'described' | 'absent' | 'undecodable';

/** The named objects read whole, all together (store/read-named.ts): a few requests, not a few each; and the revision they were read at. */
const readAll = async (session: Session, info: KindInfo, names: string[]): Promise<{ results: ReadResult[]; revision?: number }> =>
  (names.length ? session.store().readNamed(names.map((name) => ({ kind: info.kind, name }))) : { results: [] });

/**
 * Describes the object read if it exists and decodes (after the separator when others came
 * before); else says which it is not. `events`: every event, read once for the command.
 */
async function describeRead(session: Session, io: CliIO, info: KindInfo, name: string, read: ReadResult, before: number, events: () => Promise<DecodedEvents>): Promise<Outcome> {
  try {
    const { object, hidden } = shown(io, info.kind, name, read);
    if (before) io.out('\n\n');
    describeOne(io, object, hidden, await events());
    return 'described';
  } catch (e) {
    if (e instanceof NotFoundError) return 'absent';
    if (!(e instanceof UndecodableObjectError)) throw e;
    io.err(`error: ${e.message}\n`);
    return 'undecodable';
  }
}

const memo = <T>(f: () => Promise<T>): (() => Promise<T>) => { let p: Promise<T> | undefined; return () => (p ??= f()); };

/** Every object of a kind (the selector's), by name (each is then read whole, with what describe shows beyond get's merged view). */
async function namesOf(session: Session, io: CliIO, info: KindInfo, selector: LabelSelector | undefined): Promise<string[]> {
  const list = await session.store().list(info.kind, { withoutStatus: true, labelSelector: selector });
  io.err(skippedLines(list.skipped));
  return list.items.map((o) => o.metadata.name).sort();
}

/** kubectl-describe-like: identity, spec, status, then the conditions as a table. */
function describeOne(io: CliIO, o: AnyObject, hidden: NodeConditions | undefined, events: DecodedEvents): void {
  const m = o.metadata;
  const kv = (r: Record<string, string> | undefined) => (r && Object.keys(r).length ? Object.entries(r).map(([k, v]) => `${k}=${v}`).join('\n              ') : '<none>');
  const lines = [
    `Name:         ${m.name}`,
    `Kind:         ${o.kind}`,
    `Labels:       ${kv(m.labels)}`,
    `Annotations:  ${kv(m.annotations)}`,
    `UID:          ${m.uid ?? '<none>'}`,
    `Generation:   ${m.generation ?? '<none>'}`,
    `Version:      ${m.resourceVersion ?? '<none>'}`,
    `Created:      ${m.creationTimestamp ? `${m.creationTimestamp} (${agoText(m.creationTimestamp)})` : '<unknown>'}`,
  ];
  if (m.deletionTimestamp) lines.push(`Deleting:     since ${m.deletionTimestamp}, waiting for finalizers ${(m.finalizers ?? []).join(', ')}`);
  else if (m.finalizers?.length) lines.push(`Finalizers:   ${m.finalizers.join(', ')}`);
  io.out(lines.join('\n') + '\n');
  io.out(`Spec:\n${indent(toHumanYaml(o.spec))}`);
  const { conditions, ...status } = (o.status ?? {}) as { conditions?: Condition[] } & Record<string, unknown>;
  io.out(`Status:\n${Object.keys(status).length ? indent(toHumanYaml(status)) : '  <none>\n'}`);
  io.out(`Conditions:\n${conditionTable(conditions ?? [], hidden)}`);
  io.out(describeEvents(io, events, { kind: o.kind, name: m.name, uid: m.uid }, boundNode(o)));
}

/**
 * The merged view's conditions, then the bound node's own that it hides (a deleting object's,
 * under the controller's Terminating), each typed `<Type> (node <name>)`: all that anyone
 * reports on the object, as kubectl's describe shows all conditions.
 */
function conditionTable(conditions: Condition[], hidden: NodeConditions | undefined): string {
  const all = [...conditions, ...(hidden?.conditions ?? []).map((c) => ({ ...c, type: `${c.type} (node ${hidden!.node})` }))];
  if (!all.length) return '  <none>\n';
  const rows = [['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'], ...all.map((c) => [c.type, c.status, c.reason ?? '', c.lastTransitionTime ? humanAge(c.lastTransitionTime) : '', c.message ?? ''])];
  return indent(renderTable(rows));
}

function indent(text: string): string {
  return text.replace(/\n$/, '').split('\n').map((l) => `  ${l}`).join('\n') + '\n';
}

export const registerDescribe: RegisterCommand = (program, { io, run }) => {
  program.command('describe')
    .description('show objects: spec, status, conditions and events (every object of KIND without NAMEs)')
    .argument('<kind>', `${KIND_HELP}; several: KIND,KIND...; or KIND/NAME...`)
    .argument('[names...]', 'none: every object of the kind; a NAME no object has: those whose names begin with it')
    .addOption(selectorOption())
    .action((kind: string, names: string[], opts: { selector?: string[] }, cmd: Command) =>
      run((s) => describeCommand(s, io, namesByKind('describe', [kind, ...names]), opts.selector), cmd));
};
