// Which objects a command names: `KIND NAME...` or `KIND/NAME...`, as kubectl takes them. The
// second is the form xctl itself prints (`node/host-1 created`, `get -o name`, the OBJECT
// column of events), so a line of its output can be pasted back into get, describe, delete
// or wait.
import { resolveKind, type Kind, type KindInfo } from '../../api/kinds.js';
import { UsageError } from '../exit.js';
import { loadReferences } from '../../manifest/load.js';
import type { CliIO } from '../io.js';
import { isManifestPath, manifestsWithoutFlag } from '../command.js';

/** uid: the incarnation, when the command read it with the name (a selection's list) */
export interface Target { kind: Kind; name: string; uid?: string }
export interface NamesOfKind { info: KindInfo; names: string[] }

const isSlashed = (arg: string) => arg.includes('/');

/** `KIND NAME...` (names may be none) or `KIND/NAME...` of a single kind. */
export function namesOfOneKind(command: string, args: string[]): NamesOfKind {
  const [first, ...rest] = args;
  if (!isSlashed(first)) {
    const info = resolveKind(first);
    const pasted = rest.find(isSlashed);
    if (pasted !== undefined) throw new UsageError(mixedForms(command, first, pasted));
    return { info, names: rest };
  }
  const targets = args.map(slashed);
  if (targets.some((t) => t.info.kind !== targets[0].info.kind)) {
    throw new UsageError(`${command} shows one kind at a time; run it once per kind`);
  }
  return { info: targets[0].info, names: targets.map((t) => t.name) };
}

/**
 * get's and describe's objects, grouped by kind in the order the kinds first appear:
 * `KIND[,KIND...]` (every object of each, kubectl's `get pods,svc`), `KIND NAME...`, or
 * `KIND/NAME...` of any kinds. NAMEs after several kinds are refused, as kubectl refuses them:
 * which kind's object each names could only be guessed.
 */
export function namesByKind(command: string, args: string[]): NamesOfKind[] {
  const [first, ...rest] = args;
  if (isSlashed(first)) {
    const groups = new Map<string, NamesOfKind>();
    for (const t of args.map(slashed)) {
      const g = groups.get(t.info.kind) ?? { info: t.info, names: [] };
      groups.set(t.info.kind, g);
      g.names.push(t.name);
    }
    return [...groups.values()];
  }
  const kinds = kindList(first);
  if (kinds.length === 1) return [namesOfOneKind(command, [first.split(',')[0], ...rest])];
  if (rest.length) {
    throw new UsageError(`you may only specify a single resource type with NAMEs: "${first}" is ${kinds.length} kinds, so which kind "${rest[0]}" is cannot be told; give KIND NAME..., or KIND/NAME... (e.g. "xctl ${command} ${kinds.map((k) => `${k.short}/${rest[0]}`).join(' ')}")`);
  }
  return kinds.map((info) => ({ info, names: [] }));
}

/** `cn,hs,nic`: each kind once, in the order given; an unknown one is named (with the closest kind), as for one KIND. */
function kindList(arg: string): KindInfo[] {
  const parts = arg.split(',');
  if (parts.some((p) => p === '')) throw new UsageError(`"${arg}": an empty KIND in the list; give KIND[,KIND...], e.g. cn,hs,nic`);
  const infos = parts.map(resolveKind);
  return infos.filter((k, i) => infos.findIndex((o) => o.kind === k.kind) === i);
}

/**
 * delete's objects: `KIND NAME...`, or `KIND/NAME...` of any kinds. An object named twice (a
 * repeated NAME, `no/a node/a`) is deleted once: the user means that object, and a second
 * delete of it in the same request could only report it gone.
 */
export function targetsOfAnyKind(command: string, args: string[]): Target[] {
  let all: Target[];
  if (args.every(isSlashed)) {
    all = args.map(slashed).map((t) => ({ kind: t.info.kind, name: t.name }));
  } else {
    const { info, names } = namesOfOneKind(command, args);
    all = names.map((name) => ({ kind: info.kind, name }));
  }
  const seen = new Set<string>();
  return all.filter((t) => !seen.has(`${t.kind}/${t.name}`) && seen.add(`${t.kind}/${t.name}`));
}

/**
 * A slashed argument after `KIND`: a pasted `KIND/NAME` gets the two commands it may have
 * meant; anything else is no name at all (names have no "/": api/fields.ts), and a hint built
 * from its parts would suggest a command that fails too.
 */
function mixedForms(command: string, first: string, pasted: string): string {
  const m = /^([^/]+)\/([^/]+)$/.exec(pasted);
  let kindOk = !!m;
  try { if (m) resolveKind(m[1]); } catch { kindOk = false; }
  if (m && kindOk) return `give KIND NAME... or KIND/NAME..., not both: "xctl ${command} ${first} ${m[2]}" or "xctl ${command} ${pasted}"`;
  return `"${pasted}" is not a NAME: a name has no "/" (give KIND NAME... or KIND/NAME..., e.g. "xctl ${command} ${first} NAME")`;
}

/** Exactly one object, for describe and wait. */
export function oneObject(command: string, args: string[]): { info: KindInfo; name: string } {
  const { info, names } = namesOfOneKind(command, args);
  if (names.length !== 1) throw new UsageError(`usage: xctl ${command} KIND NAME, or KIND/NAME`);
  return { info, name: names[0] };
}

function slashed(arg: string): { info: KindInfo; name: string } {
  const m = /^([^/]+)\/([^/]+)$/.exec(arg);
  if (!m) throw new UsageError(`"${arg}": expected KIND/NAME, e.g. node/host-1`);
  return { info: resolveKind(m[1]), name: m[2] };
}

/**
 * delete's and wait's objects: `KIND NAME...`, `KIND/NAME...`, or (`-f`) those the manifests
 * name, of each document only what names the object; `usage` when neither is given.
 */
export async function namedOrInManifests(io: CliIO, command: string, args: string[], filenames: string[] | undefined, usage: string): Promise<Target[]> {
  if (filenames?.length) {
    if (args.length) throw new UsageError('give either KIND NAME or -f, not both');
    return loadReferences(filenames, io.stdin);
  }
  const paths = args.filter(isManifestPath);
  if (paths.length) throw manifestsWithoutFlag(command, paths);
  const targets = args.length ? targetsOfAnyKind(command, args) : [];
  if (targets.length === 0) throw new UsageError(usage);
  return targets;
}
