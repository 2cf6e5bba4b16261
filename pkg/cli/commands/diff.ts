import type { AnyObject } from '../../api/types.js';
import type { ApplyChange, ReadResult, Store } from '../../store/types.js';
import { sortKeys } from '../../api/key-order.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { CliError, EXIT, exitCodeFor } from '../exit.js';
import { ref, skippedLines, toYaml } from '../format.js';
import { textDiff } from '../diff.js';
import { loadCheckedBatch } from './batch.js';
import { locateWriteError } from './locate.js';
import type { Command } from 'commander';
import { fileOption, refuseArguments, type RegisterCommand } from '../command.js';

export interface DiffOptions { filename?: string[] }

/**
 * What apply would change, judged by the store itself (a dry-run apply), shown as a line diff
 * of the parts apply writes: labels, annotations and spec. Exit 1 when anything would change.
 */
export async function diffCommand(session: Session, io: CliIO, opts: DiffOptions): Promise<number> {
  try {
    return await diff(session, io, opts);
  } catch (e) {
    // exit 1 means "differs" here, so no failure may use it (as kubectl diff)
    // (the error it stands for kept as its cause, so that xctl words it as it would: an identity etcd refuses)
    if (exitCodeFor(e) === EXIT.FAILED) throw new CliError(EXIT.USAGE, (e as Error).message, e);
    throw e;
  }
}

async function diff(session: Session, io: CliIO, opts: DiffOptions): Promise<number> {
  const { loaded, objects, leaving } = await loadCheckedBatch(session, io, opts.filename);
  const store = session.store();
  // a refusal names the object's place in the manifests, as apply's does
  const changes = await store.applyAll(objects, { dryRun: 'plan' }).catch((e: unknown) => { throw locateWriteError(e, loaded, false); });
  let differs = false;
  const lives = await liveObjects(store, objects, changes);
  for (const [i, c] of changes.entries()) {
    if (c.action === 'unchanged') continue;
    differs = true;
    const wanted = objects[i];
    const { object: live, skipped } = lives.get(i) ?? { skipped: [] };
    const before = live ? toYaml(applied(live)) : '';
    // one whose key does not decode is there, and apply writes over it: not "(does not exist)"
    io.err(skippedLines(skipped));
    // what apply would store (labels of xnet's own prefix it keeps included), not the manifest as written
    const after = toYaml(applied(c.object));
    io.out(`--- ${ref(wanted)} ${live ? `(live, resourceVersion ${live.metadata.resourceVersion})` : skipped.length ? '(live, does not decode: apply writes over it)' : '(does not exist)'}\n`);
    io.out(`+++ ${ref(wanted)} (manifest)\n`);
    io.out(textDiff(before, after));
  }
  // what apply would take away or hold up (a Node leaving a network), as apply says it
  for (const w of leaving) io.err(`Warning: ${w.text}\n`);
  return differs ? EXIT.FAILED : EXIT.OK;
}

/**
 * The stored object of each change that configures one, by its index: all in one read (a few for
 * more than one transaction takes), not a round trip each; what diff shows of it (metadata, spec)
 * is in its object key alone.
 */
async function liveObjects(store: Store, objects: AnyObject[], changes: ApplyChange[]): Promise<Map<number, ReadResult>> {
  const configured = [...changes.keys()].filter((i) => changes[i].action === 'configured');
  const read = await store.readMany(configured.map((i) => ({ kind: objects[i].kind, name: objects[i].metadata.name })));
  return new Map(configured.map((i, j) => [i, read[j]]));
}

/** The parts of an object that apply writes, with keys sorted so order never shows as a change. */
export function applied(o: AnyObject): unknown {
  const metadata: Record<string, unknown> = { name: o.metadata.name };
  if (o.metadata.labels && Object.keys(o.metadata.labels).length) metadata.labels = o.metadata.labels;
  if (o.metadata.annotations && Object.keys(o.metadata.annotations).length) metadata.annotations = o.metadata.annotations;
  return sortKeys({ metadata, spec: o.spec });
}

export const registerDiff: RegisterCommand = (program, { io, run }) => {
  program.command('diff')
    .description('show what apply would change; exit 1 when something differs')
    .addOption(fileOption())
    .allowExcessArguments(true)
    .action((opts: DiffOptions, cmd: Command) => {
      refuseArguments('diff', cmd);
      return run((s) => diffCommand(s, io, opts), cmd);
    });
};
