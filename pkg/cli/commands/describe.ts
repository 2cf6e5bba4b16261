import type { Condition } from '../../api/fields.js';
import type { KindInfo } from '../../api/kinds.js';
import type { NodeConditions } from '../../store/merge.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { EXIT } from '../exit.js';
import { agoText, humanAge, renderTable, toHumanYaml } from '../format.js';
import type { Command } from 'commander';
import { KIND_HELP, type RegisterCommand } from '../command.js';
import { describeEvents } from './events.js';
import { boundNode } from '../../store/merge.js';
import { readOneWithHidden } from './get.js';
import { oneObject } from './targets.js';

/** kubectl-describe-like: identity, spec, status, then the conditions as a table. */
export async function describeCommand(session: Session, io: CliIO, { info, name }: { info: KindInfo; name: string }): Promise<number> {
  const { object: o, hidden } = await readOneWithHidden(session, io, info.kind, name);
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
  io.out(await describeEvents(session, io, { kind: o.kind, name: m.name, uid: m.uid }, boundNode(o)));
  return EXIT.OK;
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
    .description('show an object: spec, status and conditions')
    .argument('<kind>', `${KIND_HELP}; or KIND/NAME`)
    .argument('[name]')
    .action((kind: string, name: string | undefined, _opts: unknown, cmd: Command) =>
      run((s) => describeCommand(s, io, oneObject('describe', name === undefined ? [kind] : [kind, name])), cmd));
};
