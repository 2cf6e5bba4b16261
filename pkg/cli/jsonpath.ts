// `xctl get -o jsonpath=TEMPLATE`: kubectl's JSONPath templates run over the object (one NAME)
// or the List that `-o json` prints, printed as kubectl prints them, so that a script written
// against kubectl's output reads xctl's. The parser is jsonpath-parse.ts; this runs a parsed
// template. Pure: no I/O.
import { XnetError } from '../errors.js';
import { parseTemplate, type Segment, type Step, type Template } from './jsonpath-parse.js';

export { parseTemplate, JsonPathSyntaxError, type Template } from './jsonpath-parse.js';

/** A template that parsed but could not run on this data (an index out of range, a field missing and not allowed). */
export class JsonPathExecError extends XnetError {
  constructor(message: string) { super('JsonPathFailed', message); }
}

export interface ExecOptions {
  /**
   * A field or key that is not there yields nothing (kubectl's --allow-missing-template-keys,
   * true by default); false: it is an error naming it. Indexes out of range are errors either
   * way, as in kubectl.
   */
  allowMissingKeys: boolean;
}

/** The template's text for `data`: all of it, or a JsonPathExecError and nothing (kubectl prints nothing either). */
export function executeTemplate(t: Template, data: unknown, opts: ExecOptions): string {
  return run(t.segments, data, opts);
}

/** The values of a template of one action (`{.status.ip}`), unprinted: custom-columns joins them its own way. */
export function templateResults(t: Template, data: unknown, opts: ExecOptions = { allowMissingKeys: true }): unknown[] {
  const [s] = t.segments;
  if (t.segments.length !== 1 || s.t !== 'action') throw new JsonPathExecError('expected one field path');
  return evalSteps(s.steps, [data], opts);
}

/** Parses and runs at once (tests, and any caller with one object). */
export function jsonPath(template: string, data: unknown, opts: ExecOptions = { allowMissingKeys: true }): string {
  return executeTemplate(parseTemplate(template), data, opts);
}

function run(segments: Segment[], data: unknown, opts: ExecOptions): string {
  let out = '';
  for (const s of segments) {
    if (s.t === 'text') out += s.text;
    // several results of one action: a space between them, as kubectl prints them
    else if (s.t === 'action') out += evalSteps(s.steps, [data], opts).map(printed).join(' ');
    // the body runs once per result, each its current object (`{.metadata.name}` in `{range .items[*]}`)
    else for (const item of evalSteps(s.steps, [data], opts)) out += run(s.body, item, opts);
  }
  return out;
}

function evalSteps(steps: Step[], input: unknown[], opts: ExecOptions): unknown[] {
  return steps.reduce((values, step) => evalStep(step, values, opts), input);
}

function evalStep(step: Step, input: unknown[], opts: ExecOptions): unknown[] {
  switch (step.t) {
    case 'field': return field(step.name, input, opts);
    case 'wildcard': return input.flatMap(children);
    case 'recursive': return input.flatMap(descendants);
    case 'slice': return input.filter((v) => v !== null).flatMap((v) => sliced(step, v));
    case 'filter': return input.filter((v) => v !== null).flatMap((v) => filtered(step, v, opts));
    // kubectl's order: the first member over every value, then the next
    case 'union': return step.members.flatMap((m) => evalStep(m, input, opts));
    // kubectl: a string stands once, whatever it is given; a number or a boolean once per value
    case 'literal': return typeof step.value === 'string' ? [step.value] : input.map(() => step.value);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A key of each object given; nothing found in any is an error unless missing keys are allowed (kubectl's rule). */
function field(name: string, input: unknown[], opts: ExecOptions): unknown[] {
  const found = input.filter((v) => isObject(v) && Object.prototype.hasOwnProperty.call(v, name)).map((v) => (v as Record<string, unknown>)[name]);
  // nothing given, nothing to find: `{.items[*].spec}` on an empty list is no error
  if (!found.length && input.length && !opts.allowMissingKeys) throw new JsonPathExecError(`${name} is not found`);
  return found;
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  return isObject(v) ? Object.values(v) : [];
}

/** The value and every non-empty object and array under it, parents first, as kubectl's `..` walks them. */
function descendants(v: unknown): unknown[] {
  const kids = children(v);
  return kids.length ? [v, ...kids.flatMap(descendants)] : [];
}

/** kubectl's slice: negative bounds count from the end once; out of range is an error, not clipped. */
function sliced(s: Extract<Step, { t: 'slice' }>, v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new JsonPathExecError(`${typeName(v)} is not array or slice`);
  const len = v.length;
  let start = s.start ?? 0;
  if (start < 0) start += len;
  let end = s.end ?? len;
  if (end < 0 || (end === 0 && s.derivedEnd)) end += len;
  // nothing asked for (`[0:0]`, `[*]` of an empty array) is nothing, whatever the length
  if (start === end) return [];
  if (start < 0 || start >= len) throw new JsonPathExecError(`array index out of bounds: index ${start}, length ${len}`);
  if (end < 0 || end > len) throw new JsonPathExecError(`array index out of bounds: index ${end - 1}, length ${len}`);
  if (start > end) throw new JsonPathExecError(`starting index ${start} is greater than ending index ${end}`);
  const step = s.step ?? 1;
  if (step <= 0) throw new JsonPathExecError('step must be > 0');
  return v.slice(start, end).filter((_, i) => i % step === 0);
}

/** The elements of an array for which the filter holds; one without the field compared is left out (kubectl). */
function filtered(f: Extract<Step, { t: 'filter' }>, v: unknown, opts: ExecOptions): unknown[] {
  if (!Array.isArray(v)) throw new JsonPathExecError(`${typeName(v)} is not array or slice and cannot be filtered`);
  return v.filter((el) => {
    if (f.op === 'exists') return present(f.left, el, opts);
    const left = operand(f.left, el, opts);
    const right = left === NONE ? NONE : operand(f.right, el, opts);
    return left !== NONE && right !== NONE && compare(f.op, left, right);
  });
}

/** `[?(@.x)]`: whether the path finds anything; a missing field is just absent, even when missing keys are errors. */
function present(steps: Step[], el: unknown, opts: ExecOptions): boolean {
  try {
    return evalSteps(steps, [el], opts).length > 0;
  } catch (e) {
    if (e instanceof JsonPathExecError) return false;
    throw e;
  }
}

const NONE = Symbol('none');

function operand(steps: Step[], el: unknown, opts: ExecOptions): unknown {
  const values = evalSteps(steps, [el], opts);
  if (values.length > 1) throw new JsonPathExecError('can only compare one element at a time');
  return values.length ? values[0] : NONE;
}

/** Go template's comparison, which kubectl uses: same-typed strings, numbers or booleans only. */
function compare(op: string, a: unknown, b: unknown): boolean {
  for (const x of [a, b]) {
    if (!['string', 'number', 'boolean'].includes(typeof x)) throw new JsonPathExecError('invalid type for comparison');
  }
  if (typeof a !== typeof b) throw new JsonPathExecError('incompatible types for comparison');
  if (op === '==') return a === b;
  if (op === '!=') return a !== b;
  if (typeof a === 'boolean') throw new JsonPathExecError('invalid type for comparison');
  const [x, y] = [a as string | number, b as string | number];
  return op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y;
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  return isObject(v) ? 'map' : typeof v;
}

/**
 * A result as kubectl prints it: a string as it is, an object or array as compact JSON (its keys
 * sorted and <, >, & escaped, as Go's encoder writes them), null as Go prints a nil: `<nil>`.
 */
export function printed(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '<nil>';
  if (typeof v !== 'object') return String(v);
  return JSON.stringify(v, sortedKeys).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]]));
}
