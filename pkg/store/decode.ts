// Everything the store reads from etcd is untrusted input (docs/security.md): each value is
// decoded against its kind's schema, the same zod schemas `xctl apply` validates with. A key
// that does not decode is skipped and reported, never thrown from a watch listener.
import type { IKeyValue } from 'etcd3';
import type { ZodTypeAny, z } from 'zod';
import { kindInfo, macvlanNodeStatus, type AnyObject, type Kind, type MacvlanNodeStatus, type Status } from '../api/index.js';
import { formatIssuePath } from '../api/field-path.js';
import { StoreError } from './types.js';
export type { SkippedKey } from './types.js';

export type { Status };

export class UndecodableError extends StoreError {
  constructor(readonly key: string, readonly detail: string) {
    super('Undecodable', `${key}: ${detail}`);
  }
}

export function parseJson(key: string, value: string): unknown {
  try { return JSON.parse(value); } catch (e) {
    throw new UndecodableError(key, `not JSON (${(e as Error).message})`);
  }
}

interface Issue { path: PropertyKey[]; message: string; code?: string; issues?: Issue[] }

/**
 * An issue's message; for a record key or value that does not decode, the nested one that says
 * which rule it breaks ("invalid label key: ..."), not zod's "Invalid key in record".
 */
function messageOf(i: Issue): string {
  if ((i.code === 'invalid_key' || i.code === 'invalid_element') && i.issues?.length) return i.issues.map((x) => x.message).join('; ');
  return i.message;
}

function issues(err: { issues: Issue[] }): string {
  return err.issues.slice(0, 3).map((i) => `${formatIssuePath(i.path, '(value)')}: ${messageOf(i)}`).join('; ');
}

/**
 * Any key's value against `schema` (events, observed-state reports, ...): its decoded value,
 * or why it does not decode, in the words every reader reports it with.
 */
export function decodeKey<S extends ZodTypeAny>(schema: S, key: string, value: string): { value: z.infer<S> } | { error: string } {
  try {
    const r = schema.safeParse(parseJson(key, value));
    return r.success ? { value: r.data } : { error: issues(r.error) };
  } catch (e) {
    if (e instanceof UndecodableError) return { error: e.detail };
    throw e;
  }
}

/**
 * An object key's value as the merged view's base: schema-checked (defaults filled), its
 * kind and name those of the key, resourceVersion the key's mod_revision.
 */
export function decodeObject(kind: Kind, name: string, key: string, value: string, modRevision: string | number): AnyObject {
  return decodeParsedObject(kind, name, key, parseJson(key, value), modRevision);
}

/** A stored object key, decoded (UndecodableError names the key when it does not). */
export function storedObject(kind: Kind, name: string, kv: IKeyValue): AnyObject {
  return decodeObject(kind, name, kv.key.toString(), kv.value.toString(), String(kv.mod_revision));
}

/** decodeObject of a value already parsed as JSON (`raw` is left as it is). */
export function decodeParsedObject(kind: Kind, name: string, key: string, raw: unknown, modRevision: string | number): AnyObject {
  const r = kindInfo(kind).schema.safeParse(raw);
  if (!r.success) throw new UndecodableError(key, issues(r.error));
  const o = r.data as AnyObject & { status?: unknown };
  if (o.kind !== kind || o.metadata.name !== name) throw new UndecodableError(key, `holds ${o.kind} "${o.metadata.name}", not ${kind} "${name}"`);
  delete o.status;
  o.metadata.resourceVersion = String(modRevision);
  return o;
}

/** One writer's status part (controller's or a node's), schema-checked. */
export function decodeStatus(kind: Kind, key: string, value: string): Status {
  return decodeParsedStatus(kind, key, parseJson(key, value));
}

/** decodeStatus of a value already parsed as JSON (`raw` is left as it is). */
export function decodeParsedStatus(kind: Kind, key: string, raw: unknown): Status {
  const r = kindInfo(kind).status.safeParse(raw);
  if (!r.success) throw new UndecodableError(key, issues(r.error));
  return r.data as Status;
}

/** Any key's value against `schema`, or UndecodableError naming the key (for orSkip). */
export function decodeKeyOf<S extends ZodTypeAny>(schema: S, key: string, value: string): z.infer<S> {
  const r = schema.safeParse(parseJson(key, value));
  if (!r.success) throw new UndecodableError(key, issues(r.error));
  return r.data;
}

/**
 * A MacvlanNet's node part kept in `node`'s index (keys.macvlanPart). Its entry must name that
 * node: its agent hands out the addresses it lists, and one naming another node (a restored or
 * hand-edited key) lists that node's pre-claims. Such a part does not decode.
 */
export function decodeMacvlanPart(node: string, key: string, value: string): MacvlanNodeStatus {
  const part = decodeKeyOf(macvlanNodeStatus, key, value);
  if (part.name !== node) throw new UndecodableError(key, `its entry names node ${JSON.stringify(part.name)}, not ${JSON.stringify(node)} whose index holds it`);
  return part;
}

/** Runs `f`; an UndecodableError becomes a skipped key (and undefined), anything else is thrown. */
export function orSkip<T>(skipped: Map<string, string>, key: string, f: () => T): T | undefined {
  try {
    const v = f();
    skipped.delete(key);
    return v;
  } catch (e) {
    if (!(e instanceof UndecodableError)) throw e;
    skipped.set(key, e.detail);
    return undefined;
  }
}
