// The functions a go-template calls: Go's builtins that make sense over JSON (index, slice, len, not,
// print, printf, println, eq, ne, lt, le, gt, ge; and/or are go-template-exec.ts's, as their
// arguments are evaluated only as far as needed) and kubectl's exists and base64decode. Each takes its
// arguments evaluated, undefined for a missing value, and throws a FuncError Go's way. Pure.
import { XnetError } from '../errors.js';
import { formatV, kindOf, numberOf, sprint, sprintf, sprintln, typeName, type GoKind } from './go-template-fmt.js';

/** Why a call failed; the evaluator says `error calling NAME: ` before it, as Go does. */
export class FuncError extends XnetError {
  constructor(message: string) { super('GoTemplateCallFailed', message); }
}

type Fn = (args: unknown[]) => unknown;
interface Builtin { fn: Fn; min: number; max?: number }

const FUNCS: Record<string, Builtin> = {
  index: { fn: ([item, ...keys]) => index(item, keys), min: 1 },
  slice: { fn: ([item, ...bounds]) => slice(item, bounds), min: 1 },
  len: { fn: ([v]) => length(v), min: 1, max: 1 },
  not: { fn: ([v]) => !truth(v), min: 1, max: 1 },
  print: { fn: sprint, min: 0 },
  println: { fn: sprintln, min: 0 },
  printf: { fn: ([f, ...rest]) => sprintf(stringArg(f), rest), min: 1 },
  eq: { fn: ([a, ...bs]) => eq(a, bs), min: 1 },
  ne: { fn: ([a, b]) => !eq(a, [b]), min: 2, max: 2 },
  lt: { fn: ([a, b]) => lt(a, b), min: 2, max: 2 },
  le: { fn: ([a, b]) => lt(a, b) || eq(a, [b]), min: 2, max: 2 },
  gt: { fn: ([a, b]) => !(lt(a, b) || eq(a, [b])), min: 2, max: 2 },
  ge: { fn: ([a, b]) => !lt(a, b), min: 2, max: 2 },
  base64decode: { fn: ([v]) => base64decode(stringArg(v)), min: 1, max: 1 },
  exists: { fn: ([item, ...keys]) => exists(item, keys), min: 1 },
};

/** Every function name a template may call (the parser refuses others, as Go's does). */
export const FUNCTION_NAMES: ReadonlySet<string> = new Set([...Object.keys(FUNCS), 'and', 'or']);

/** Calls `name` with its arguments; the wrong number of them is Go's "wrong number of args" error. */
export function callFunction(name: string, args: unknown[]): unknown {
  const b = FUNCS[name];
  if (args.length < b.min || (b.max !== undefined && args.length > b.max)) {
    const want = b.max === b.min ? `${b.min}` : `at least ${b.min}`;
    throw new WrongArgs(`wrong number of args for ${name}: want ${want} got ${args.length}`);
  }
  return b.fn(args);
}

/** Not a failure of the function but of its call: Go says it without "error calling". */
export class WrongArgs extends XnetError {
  constructor(message: string) { super('GoTemplateCallFailed', message); }
}

/** Go's truth: false, 0, "", nil, a missing value, an empty map or array are false. */
export function truth(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'invalid': case 'nil': return false;
    case 'bool': return v as boolean;
    case 'int': case 'float': return numberOf(v) !== 0;
    case 'string': return (v as string).length > 0;
    case 'slice': return (v as unknown[]).length > 0;
    default: return Object.keys(v as object).length > 0;
  }
}

function stringArg(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) throw new WrongArgs('invalid value; expected string');
  throw new WrongArgs(`wrong type for value; expected string; got ${typeName(v)}`);
}

function index(item: unknown, keys: unknown[]): unknown {
  if (item === undefined || item === null) throw new FuncError('index of untyped nil');
  let v: unknown = item;
  for (const key of keys) {
    if (v === null) throw new FuncError('index of nil pointer');
    const k = kindOf(v);
    if (k === 'slice' || k === 'string') {
      const list = k === 'string' ? Buffer.from(v as string) : (v as unknown[]);
      const i = indexArg(key, list.length);
      if (i === list.length) throw new FuncError(`index out of range: ${i}`);
      v = list[i];
    } else if (k === 'map') {
      if (typeof key !== 'string') throw new FuncError(`value has type ${typeName(key)}; should be string`);
      // a missing key is Go's zero value for the map's element type, nil: `<no value>` when printed
      v = Object.hasOwn(v as object, key) ? (v as Record<string, unknown>)[key] : null;
    } else {
      throw new FuncError(`can't index item of type ${typeName(v)}`);
    }
  }
  return v;
}

/** An index of an array or a string, 0 to `cap`, as Go's indexArg checks it. */
function indexArg(key: unknown, cap: number): number {
  if (kindOf(key) !== 'int') throw new FuncError(key === undefined || key === null ? 'cannot index slice/array with nil' : `cannot index slice/array with type ${typeName(key)}`);
  const i = key as number;
  if (i < 0 || i > cap) throw new FuncError(`index out of range: ${i}`);
  return i;
}

/** Go's slice: `slice x 1 2` is x[1:2] of an array or a string (its bytes); three bounds only for an array. */
function slice(item: unknown, bounds: unknown[]): unknown {
  const k = kindOf(item);
  if (k === 'invalid' || k === 'nil') throw new FuncError('slice of untyped nil');
  if (bounds.length > 3) throw new FuncError(`too many slice indexes: ${bounds.length}`);
  if (k === 'string' && bounds.length === 3) throw new FuncError('cannot 3-index slice a string');
  if (k !== 'string' && k !== 'slice') throw new FuncError(`can't slice item of type ${typeName(item)}`);
  const list = k === 'string' ? Buffer.from(item as string) : (item as unknown[]);
  const idx = [0, list.length];
  // an array decoded from JSON has no room past its length: its capacity is its length here
  bounds.forEach((b, i) => { idx[i] = indexArg(b, list.length); });
  for (let i = 1; i < bounds.length; i++) if (idx[i - 1] > idx[i]) throw new FuncError(`invalid slice index: ${idx[i - 1]} > ${idx[i]}`);
  const part = list.slice(idx[0], idx[1]);
  return Buffer.isBuffer(part) ? part.toString('utf8') : part;
}

/** kubectl's exists: whether `index` would find something there (not null), never an error. */
function exists(item: unknown, keys: unknown[]): boolean {
  let v = item;
  for (const key of keys) {
    const k = kindOf(v);
    if ((k === 'slice' || k === 'string') && kindOf(key) === 'int') {
      const list = k === 'string' ? Buffer.from(v as string) : (v as unknown[]);
      if ((key as number) < 0 || (key as number) >= list.length) return false;
      v = list[key as number];
    } else if (k === 'map' && typeof key === 'string') {
      v = (v as Record<string, unknown>)[key];
    } else {
      return false;
    }
  }
  return v !== undefined && v !== null;
}

function length(v: unknown): number {
  const k = kindOf(v);
  if (k === 'string') return Buffer.byteLength(v as string);
  if (k === 'slice') return (v as unknown[]).length;
  if (k === 'map') return Object.keys(v as object).length;
  if (k === 'invalid' || k === 'nil') throw new FuncError('len of nil pointer');
  throw new FuncError(`len of type ${typeName(v)}`);
}

/** A kind for comparing: ints and floats compare by value (Go refuses int against float; xctl does not, as its jsonpath). */
const cmpKind = (v: unknown): GoKind => { const k = kindOf(v); return k === 'float' ? 'int' : k; };
const BASIC = new Set<GoKind>(['bool', 'int', 'string']);

/** Go's eq: `a` equal to any of `bs`; nil and a missing value equal each other; a map or an array is not comparable. */
function eq(a: unknown, bs: unknown[]): boolean {
  if (!bs.length) throw new FuncError('missing argument for comparison');
  const ka = cmpKind(a);
  for (const b of bs) {
    const kb = cmpKind(b);
    if (ka !== kb) {
      const absent = (k: GoKind) => k === 'invalid' || k === 'nil';
      if (absent(ka) && absent(kb)) return true;
      if (!absent(ka) && !absent(kb)) throw new FuncError(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
      continue;
    }
    if (!BASIC.has(ka) && ka !== 'invalid' && ka !== 'nil') throw new FuncError(`non-comparable type ${formatV(b)}: ${typeName(b)}`);
    if (ka === 'invalid' || ka === 'nil' || (ka === 'int' ? numberOf(a) === numberOf(b) : a === b)) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const ka = cmpKind(a), kb = cmpKind(b);
  if (ka !== 'int' && ka !== 'string') throw new FuncError('invalid type for comparison');
  if (kb !== 'int' && kb !== 'string' && kb !== 'bool') throw new FuncError('invalid type for comparison');
  if (ka !== kb) throw new FuncError(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
  if (ka === 'int') return numberOf(a) < numberOf(b);
  // Go compares strings byte by byte
  return Buffer.compare(Buffer.from(a as string), Buffer.from(b as string)) < 0;
}

/** kubectl's base64decode: standard base64 with its padding, as Go's StdEncoding reads it (newlines ignored). */
function base64decode(s: string): string {
  const text = s.replace(/[\r\n]/g, '');
  const bad = /[^A-Za-z0-9+/=]/.exec(text);
  const at = bad ? bad.index : text.length % 4 ? text.length - (text.length % 4) : /=[^=]/.exec(text)?.index;
  if (at !== undefined) throw new FuncError(`base64 decode failed: illegal base64 data at input byte ${at}`);
  return Buffer.from(text, 'base64').toString('utf8');
}
