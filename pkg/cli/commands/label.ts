// `xctl label KIND NAME... k=v k2-`: kubectl's label command. Node labels choose which nodes a
// ClusterNetwork or MacvlanNet selects, and operators change them as they would with `kubectl
// label node` or `calicoctl label nodes`, not by writing a manifest of a Node the controller made.
// The edited objects go through apply's checks and warnings (a Node leaving a network says so)
// and are written together (one transaction when they fit), each pinned to the version read, so
// a concurrent change is never overwritten: what is not written is then read and edited again.
import type { AnyObject } from '../../api/types.js';
import { labelKeyProblem, labels as labelsSchema } from '../../api/fields.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { EXIT, UsageError } from '../exit.js';
import { ref } from '../format.js';
import type { Command } from 'commander';
import { KIND_HELP, type RegisterCommand } from '../command.js';
import { selectTargets, type SelectionOptions } from './selection.js';
import { parseBoolFlag, selectorOption } from '../flag-values.js';
import { dryRunOption, isDryRun, type DryRunStrategy } from './apply.js';
import { OverwriteRefusedError, readEdits, writeEdits } from './label-write.js';
import { notShownExit } from './get-read.js';

export interface LabelChanges { set: Record<string, string>; remove: string[] }
export interface LabelOptions extends SelectionOptions { overwrite?: boolean; dryRun?: boolean }

/** A word that changes a label (`k=v`, `k-`) rather than naming an object. */
const isChange = (w: string) => w.includes('=') || (w.endsWith('-') && w.length > 1);

/** `k=v` sets, `k-` removes; each key and value checked by the schema's own label rules, as apply checks them. */
export function parseLabelChanges(words: string[]): LabelChanges {
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    const [key, value] = eq < 0 ? [w.slice(0, -1), undefined] : [w.slice(0, eq), w.slice(eq + 1)];
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) throw new UsageError(`invalid label "${w}": invalid label key: ${keyProblem}`);
    const r = labelsSchema.safeParse({ k: value ?? '' });
    if (!r.success) throw new UsageError(`invalid label "${w}": ${r.error.issues[0].message}`);
    if (key in set || remove.includes(key)) throw new UsageError(`label "${key}" is given twice`);
    if (value === undefined) remove.push(key); else set[key] = value;
  }
  if (!words.length) throw new UsageError('at least one label update is required: KEY=VALUE to set, KEY- to remove');
  return { set, remove };
}

/** The object with the changes made, and what the line says: labeled, unlabeled, or not labeled (no change). */
export function relabel(o: AnyObject, ch: LabelChanges, overwrite: boolean): { object: AnyObject; action: string } {
  const before = o.metadata.labels ?? {};
  for (const [k, v] of Object.entries(ch.set)) {
    if (k in before && before[k] !== v && !overwrite) {
      throw new OverwriteRefusedError(`${ref(o)}: "${k}" already has a value (${before[k]}), and --overwrite is false`);
    }
  }
  const after = { ...before, ...ch.set };
  for (const k of ch.remove) delete after[k];
  const changed = JSON.stringify(Object.entries(after).sort()) !== JSON.stringify(Object.entries(before).sort());
  const action = !changed ? 'not labeled' : Object.keys(ch.set).some((k) => before[k] !== ch.set[k]) ? 'labeled' : 'unlabeled';
  return { object: { ...o, metadata: { ...o.metadata, labels: after } }, action };
}

export async function labelCommand(session: Session, io: CliIO, words: string[], opts: LabelOptions): Promise<number> {
  const firstChange = words.findIndex(isChange);
  const args = firstChange < 0 ? words : words.slice(0, firstChange);
  if (firstChange >= 0 && words.slice(firstChange).some((w) => !isChange(w))) throw new UsageError('give KIND NAME... first, then the label updates (KEY=VALUE, KEY-)');
  const changes = parseLabelChanges(firstChange < 0 ? [] : words.slice(firstChange));
  const { targets, selected } = await selectTargets(session, io, 'label', args, opts, 'usage: xctl label KIND NAME... | KIND/NAME... | KIND -l SELECTOR | KIND --all  KEY=VALUE... KEY-...');
  if (selected && !targets.length) { io.err('No resources found\n'); return EXIT.OK; }
  const edit = (o: AnyObject) => relabel(o, changes, !!opts.overwrite);
  // another writer's change between the read and the write: what is not written is read again (label-write.ts)
  const { edits, missing, deleting, undecodable } = await writeEdits(session, io, await readEdits(session, io, targets, edit), edit, !!opts.dryRun);
  for (const e of edits) io.out(`${ref(e.object)} ${e.action}${opts.dryRun && e.action !== 'not labeled' ? ' (dry run)' : ''}\n`);
  // as get: 1 when one does not decode, else 4 for one not found
  return missing ? notShownExit({ undecodable }) : deleting ? EXIT.CONFLICT : EXIT.OK;
}

export const registerLabel: RegisterCommand = (program, { io, run }) => {
  program.command('label')
    .description('add, change (--overwrite) or remove (KEY-) labels of objects')
    .argument('<kind-and-names...>', `${KIND_HELP} NAME... (or KIND/NAME..., or KIND with -l/--all), then KEY=VALUE... KEY-...`)
    .addOption(selectorOption())
    .option('--all', 'every object of the KINDs given')
    .option('--overwrite [bool]', 'change a label that already has another value', parseBoolFlag('--overwrite'))
    .addOption(dryRunOption('check and show what would change, write nothing (client and server both mean it; none: label)'))
    .action((words: string[], opts: Omit<LabelOptions, 'dryRun'> & { dryRun?: DryRunStrategy }, cmd: Command) =>
      run((s) => labelCommand(s, io, words, { ...opts, dryRun: isDryRun(opts.dryRun) }), cmd));
};
