// Validation beyond what a zod schema says on its own: the document envelope (apiVersion,
// kind), readable messages for zod's issues, and the rules that relate fields of one object
// (field-rules.ts); rules that relate objects to each other are in validate-cross.ts.
// Everything here is pure so the same checks serve xctl, the controller and unit tests.
import type { z } from 'zod';
import { KINDS, type KindInfo } from './kinds.js';
import { decodedFieldRuleIssues, fieldRuleIssues } from './field-rules.js';
import { derivedDockerNetworkIssues } from './docker-network.js';
import type { FieldIssue, FieldPath } from './field-issue.js';
import { API_VERSION, type AnyObject } from './types.js';
import { name as objectName } from './fields.js';
import { closest, suggestion } from './suggest.js';
import { valueHint, type ManifestSyntax } from './value-hints.js';
import { PROTO_KEY, protoKeyIssues } from './proto-keys.js';
import { formatPath } from './field-path.js';

export type { FieldIssue, FieldPath };
export { formatPath };
export { LEADING_ZERO_NUMBER, type ManifestSyntax } from './value-hints.js';

/** How the manifest was written, for the hints that say how to mend a value (value-hints.ts). */
export interface ValidateOptions { syntax?: ManifestSyntax }
export { fieldRuleIssues };

export interface ValidationResult {
  /** the object with defaults applied and without status; set only when issues is empty */
  object?: AnyObject;
  info?: KindInfo;
  issues: FieldIssue[];
}

/**
 * Validates one manifest document. status is dropped first: it belongs to the system, and
 * `get -o yaml | apply -f -` must round-trip whatever the agents wrote there.
 */
export function validateObject(raw: unknown, opts: ValidateOptions = {}): ValidationResult {
  const head = validateHead(raw);
  const { info } = head;
  if (!isPlainObject(raw) || !info) return { issues: head.issues };
  const { status: _ignored, ...rest } = raw;
  const issues = [...head.issues, ...protoKeyIssues(rest)];
  const parsed = info.schema.safeParse(rest);
  if (!parsed.success) {
    // a wrong apiVersion is already named above; the schema's literal would name it again;
    // a "__proto__" key too, where a fixed-field object calls it unknown
    const versionNamed = issues.some((i) => i.path[0] === 'apiVersion');
    const named = (i: FieldIssue) => (versionNamed && i.path[0] === 'apiVersion') || i.path[i.path.length - 1] === PROTO_KEY;
    // one by one: push(...xs) takes xs as arguments, and 150 000 bad label keys overflow the stack
    for (const i of zodIssues(parsed.error.issues, rest, info.schema, opts.syntax)) if (!named(i)) issues.push(i);
    // the rules across fields whose fields are fine still run: one run shows every problem
    issues.push(...decodedFieldRuleIssues(info, rest));
    return { issues: dedupe(issues), info };
  }
  if (issues.length) return { issues, info };
  const object = parsed.data as AnyObject;
  const ruleIssues = [...fieldRuleIssues(object), ...derivedDockerNetworkIssues(object)];
  return ruleIssues.length ? { issues: ruleIssues, info } : { object, info, issues: [] };
}

/** The document's apiVersion and kind: what every command that reads a manifest needs first. */
function validateHead(raw: unknown): { info?: KindInfo; issues: FieldIssue[] } {
  if (!isPlainObject(raw)) {
    return { issues: [{ path: [], message: `a manifest document must be a mapping with apiVersion, kind, metadata and spec; got ${describeValue(raw)}` }] };
  }
  const issues: FieldIssue[] = [];
  if (raw.apiVersion === undefined) issues.push({ path: ['apiVersion'], message: `is required (use ${API_VERSION})` });
  else if (raw.apiVersion !== API_VERSION) issues.push({ path: ['apiVersion'], message: `must be ${API_VERSION}, got ${JSON.stringify(raw.apiVersion)}` });
  const info = typeof raw.kind === 'string' ? KINDS.find((k) => k.kind === raw.kind) : undefined;
  if (!info) issues.push({ path: ['kind'], message: unknownKindMessage(raw.kind) });
  return { info, issues };
}

/**
 * What `delete -f` needs of a document: apiVersion, kind and metadata.name, checked as apply
 * checks them, and nothing else (as kubectl): a manifest applied under an older xctl, whose
 * labels or spec a newer one refuses, still deletes what it made.
 */
export function validateReference(raw: unknown, opts: ValidateOptions = {}): { ref?: { kind: AnyObject['kind']; name: string }; issues: FieldIssue[] } {
  const { info, issues } = validateHead(raw);
  if (!info || !isPlainObject(raw)) return { issues };
  const meta = raw.metadata;
  const parsed = objectName.safeParse(isPlainObject(meta) ? meta.name : undefined);
  if (!isPlainObject(meta)) issues.push({ path: ['metadata'], message: meta === undefined ? 'is required (a mapping with name)' : `must be a mapping with name; got ${describeValue(meta)}` });
  else if (!parsed.success) issues.push(...zodIssues(parsed.error.issues, meta.name, objectName, opts.syntax).map((i) => ({ ...i, path: ['metadata', 'name', ...i.path] })));
  return issues.length ? { issues } : { ref: { kind: info.kind as AnyObject['kind'], name: parsed.data as string }, issues };
}

function unknownKindMessage(kind: unknown): string {
  const expected = KINDS.map((k) => k.kind).join(', ');
  if (kind === undefined) return `is required (one of ${expected})`;
  if (typeof kind === 'string') {
    const ci = KINDS.find((k) => k.kind.toLowerCase() === kind.toLowerCase() || k.plural === kind.toLowerCase() || k.short === kind.toLowerCase());
    if (ci) return `unknown kind ${JSON.stringify(kind)}; did you mean ${ci.kind}? (kinds are case-sensitive in manifests)`;
  }
  return `unknown kind ${JSON.stringify(kind)}; expected one of ${expected}`;
}

// ---------------------------------------------------------------- zod issues, made readable

function zodIssues(zi: z.core.$ZodIssue[], raw: unknown, schema: z.ZodTypeAny, syntax: ManifestSyntax = 'yaml'): FieldIssue[] {
  const out: FieldIssue[] = [];
  const misspelled = misspelledFields(zi, raw, schema);
  for (const i of oneIssuePerBound(zi, raw)) {
    const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (i.code === 'unrecognized_keys') {
      const allowed = allowedKeys(schema, path);
      for (const key of i.keys) {
        if (path.length === 1 && path[0] === 'metadata' && key === 'namespace') {
          out.push({ path: [...path, key], message: 'unknown field: xnet objects are cluster-wide and have no namespace; remove it' });
          continue;
        }
        const hint = allowed.length ? suggestion(key, allowed) : '';
        out.push({ path: [...path, key], message: `unknown field${hint}` + (allowed.length ? `; allowed here: ${allowed.join(', ')}` : '') });
      }
      continue;
    }
    if (i.code === 'invalid_type' && valueAt(raw, path) === undefined) {
      if (!misspelled.has(pathKey(i))) out.push({ path, message: `is required (${i.expected})` });
      continue;
    }
    if (i.code === 'invalid_key' || i.code === 'invalid_element') {
      // the interesting message is the nested one (e.g. the label-key regex's)
      const inner = i.issues.map((x) => x.message).join('; ').replace(/^Invalid input: /, '');
      // ("invalid label key: ..." says which already)
      out.push({ path, message: /^invalid label/.test(inner) ? inner : `${i.code === 'invalid_key' ? 'key' : 'value'}: ${inner}` });
      continue;
    }
    out.push({ path, message: plainMessage(i) + valueHint(i, valueAt(raw, path), syntax) });
  }
  return out;
}

const pathKey = (i: z.core.$ZodIssue) => i.path.map(String).join('\u0000');

/**
 * The absent fields an unknown key was meant to be (as pathKey): `cdir:` for a required `cidr`
 * is one fault, said at the misspelled key (its line) with the name it was meant to be, not
 * again as the field it was meant for being absent.
 */
function misspelledFields(zi: z.core.$ZodIssue[], raw: unknown, schema: z.ZodTypeAny): Set<string> {
  const meantFor = new Set<string>();
  for (const i of zi) {
    if (i.code !== 'unrecognized_keys') continue;
    const allowed = allowedKeys(schema, i.path.filter((p): p is string | number => typeof p !== 'symbol'));
    for (const key of i.keys) {
      const meant = allowed.length ? closest(key, allowed) : undefined;
      if (meant !== undefined && valueAt(raw, [...i.path, meant] as FieldPath) === undefined) meantFor.add([...i.path, meant].map(String).join('\u0000'));
    }
  }
  return meantFor;
}

/**
 * One issue where zod reports several for the same fault: int() checks the safe-integer range
 * beside the schema's own bounds (`hostPrefix: 1e100` broke both, "must be <= 9007199254740991"
 * first), so only the tightest bound of each side is kept; and an empty string that breaks its
 * min(1) breaks its pattern too, so it is only "must not be empty".
 */
function oneIssuePerBound(zi: z.core.$ZodIssue[], raw: unknown): z.core.$ZodIssue[] {
  const tightest = new Map<string, z.core.$ZodIssue>();
  for (const i of zi) {
    if (i.code !== 'too_big' && i.code !== 'too_small') continue;
    const k = `${pathKey(i)}\u0000${i.code}`;
    const cur = tightest.get(k);
    const tighter = !cur || (i.code === 'too_big' ? Number(i.maximum) < Number((cur as typeof i).maximum) : Number(i.minimum) > Number((cur as typeof i).minimum));
    if (tighter) tightest.set(k, i);
  }
  const emptied = new Set(zi.filter((i) => i.code === 'too_small' && i.origin === 'string' && valueAt(raw, i.path as FieldPath) === '').map(pathKey));
  return zi.filter((i) => {
    if (i.code === 'too_big' || i.code === 'too_small') return tightest.get(`${pathKey(i)}\u0000${i.code}`) === i;
    return !emptied.has(pathKey(i));
  });
}

/** zod's default wording, rephrased the way the rest of xctl's messages read; custom messages are kept. */
function plainMessage(i: z.core.$ZodIssue): string {
  const m = i.message;
  if (i.code === 'too_big' && /^Too big/.test(m)) {
    if (i.origin === 'number' || i.origin === 'int') return `must be ${i.inclusive === false ? '<' : '<='} ${String(i.maximum)}`;
    if (i.origin === 'string') return `must be at most ${String(i.maximum)} characters`;
    if (i.origin === 'array') return `must have at most ${String(i.maximum)} entries`;
  }
  if (i.code === 'too_small' && /^Too small/.test(m)) {
    if (i.origin === 'number' || i.origin === 'int') return `must be ${i.inclusive === false ? '>' : '>='} ${String(i.minimum)}`;
    if (i.origin === 'string') return Number(i.minimum) === 1 ? 'must not be empty' : `must be at least ${String(i.minimum)} characters`;
    if (i.origin === 'array') return `must have at least ${String(i.minimum)} entries`;
  }
  if (i.code === 'invalid_value' && /^Invalid (option|input)/.test(m)) {
    return i.values.length === 1 ? `must be ${JSON.stringify(i.values[0])}` : `must be one of ${i.values.map((v) => String(v)).join(', ')}`;
  }
  if (i.code === 'invalid_type' && /^Invalid input: expected \w+, received -?\w+$/.test(m)) {
    const [, want, got] = /expected (\w+), received (-?\w+)/.exec(m)!;
    // YAML's .inf, -.inf and .nan reach here as numbers zod will not take
    const yaml = new Map([['Infinity', '.inf'], ['-Infinity', '-.inf'], ['NaN', '.nan']]).get(got);
    if (yaml) return `must be a finite number, not ${yaml}`;
    const a = (w: string) => `${/^[aeiou]/.test(w) ? 'an' : 'a'} ${w}`;
    return `must be ${want === 'int' ? 'an integer' : want === 'array' ? 'a list' : a(want)}, not ${a(got)}`;
  }
  return m.replace(/^Invalid input: /, '');
}

function dedupe(issues: FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = formatPath(i.path) + '\u0000' + i.message;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function valueAt(raw: unknown, path: FieldPath): unknown {
  let cur: unknown = raw;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

// zod v4 keeps a schema's structure in _zod.def; walking it lets an "unknown field" message
// list the fields that are allowed at that spot.
type Def = { type: string; shape?: Record<string, unknown>; innerType?: unknown; element?: unknown; valueType?: unknown; in?: unknown };
function defOf(s: unknown): Def | undefined {
  return (s as { _zod?: { def?: Def } })?._zod?.def;
}
function unwrap(s: unknown): unknown {
  for (let d = defOf(s); d && (d.type === 'optional' || d.type === 'default' || d.type === 'nullable' || d.type === 'prefault' || d.type === 'pipe'); d = defOf(s)) {
    s = d.type === 'pipe' ? d.in : d.innerType;
  }
  return s;
}
function allowedKeys(schema: unknown, path: FieldPath): string[] {
  let s = unwrap(schema);
  for (const p of path) {
    const d = defOf(s);
    if (!d) return [];
    if (d.type === 'object' && typeof p === 'string') s = unwrap(d.shape?.[p]);
    else if (d.type === 'array') s = unwrap(d.element);
    else if (d.type === 'record') s = unwrap(d.valueType);
    else return [];
  }
  const d = defOf(s);
  return d?.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}

/**
 * A network a NIC or HostSubnet names that no object has, with the closest name there is (a
 * typo): the controller's and the agent's status messages alike.
 */
export function missingNetworkMessage(kind: 'ClusterNetwork' | 'MacvlanNet', name: string, existing: Iterable<string>): string {
  return `${kind} "${name}" does not exist${suggestion(name, [...existing])}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'an empty document';
  if (Array.isArray(v)) return 'a list';
  return `a ${typeof v}`;
}
