// The parser of `xctl get -o jsonpath=TEMPLATE`: kubectl's JSONPath template language
// (k8s.io/client-go/util/jsonpath), the subset docs/xctl.md lists. Written after kubectl's
// parser so that a template copied from a kubectl script means the same thing here: text
// outside `{...}` is kept as is, `@` and `$` are both the current object (kubectl's `$` is
// not the root), `[*]` is the whole slice, `..name` recursive descent. Pure: no I/O.
import { UsageError } from '../errors.js';

/** One step of a path: what it takes from each value it is given. */
export type Step =
  | { t: 'field'; name: string }
  /** `.*`: every value of an object, every element of an array */
  | { t: 'wildcard' }
  /** `..`: the value and every object and array under it (a field follows) */
  | { t: 'recursive' }
  /** `[n]`, `[a:b]`, `[a:b:c]`, `[*]`; `derivedEnd`: `[n]`, whose end n+1 was not written */
  | { t: 'slice'; start?: number; end?: number; step?: number; derivedEnd: boolean }
  | { t: 'filter'; left: Step[]; op: FilterOp; right: Step[] }
  /** `[0,2]`, `['a','b']`: each member (an index, a slice or a key) in turn, as kubectl's union */
  | { t: 'union'; members: Step[] }
  /** a quoted string, a number or true/false inside an action */
  | { t: 'literal'; value: string | number | boolean };

export type FilterOp = '==' | '!=' | '<' | '>' | '<=' | '>=' | 'exists';
const FILTER_OPS = new Set(['==', '!=', '<', '>', '<=', '>=']);

export type Segment =
  | { t: 'text'; text: string }
  | { t: 'action'; steps: Step[] }
  | { t: 'range'; steps: Step[]; body: Segment[] };

export interface Template { source: string; segments: Segment[] }

/** A template that does not parse (a usage error: it came from -o): `position` is 1-based, in characters of the template. */
export class JsonPathSyntaxError extends UsageError {
  constructor(readonly why: string, readonly position: number) {
    super(`${why} at character ${position}`, 'InvalidJsonPath');
  }
}

const fail = (reason: string, at: number): never => { throw new JsonPathSyntaxError(reason, at + 1); };

/**
 * The template's text and actions, `{range X}...{end}` nested. A range left open runs to the
 * template's end, as kubectl runs it; an `{end}` with no range open is refused here (kubectl
 * finds it only while printing, after the objects were read).
 */
export function parseTemplate(source: string): Template {
  const root: Segment[] = [];
  const open: Segment[][] = [root];
  let i = 0;
  while (i < source.length) {
    const brace = source.indexOf('{', i);
    const textEnd = brace < 0 ? source.length : brace;
    if (textEnd > i) open[open.length - 1].push({ t: 'text', text: source.slice(i, textEnd) });
    if (brace < 0) break;
    const action = parseAction(source, brace);
    const body = open[open.length - 1];
    if (action.keyword === 'end') {
      if (open.length === 1) fail('{end} without a {range} to end', brace);
      open.pop();
    } else if (action.keyword === 'range') {
      const range: Segment = { t: 'range', steps: action.steps, body: [] };
      body.push(range);
      open.push(range.body);
    } else {
      body.push({ t: 'action', steps: action.steps });
    }
    i = action.next;
  }
  return { source, segments: root };
}

interface Action { steps: Step[]; keyword?: 'range' | 'end'; next: number }

/** The action opened at `brace`, up to its `}`: `next` is the index after it. */
function parseAction(src: string, brace: number): Action {
  const scan = new Scanner(src, brace + 1, src.length, brace);
  const steps = scan.steps(true);
  const first = scan.keywords[0];
  for (const k of scan.keywords.slice(1)) fail(`"${k.word}" must open its action`, k.at);
  if (first?.word === 'end' && steps.length) fail('{end} takes nothing after it', first.at);
  return { steps, keyword: first?.word as Action['keyword'], next: scan.pos };
}

const isSpace = (c: string) => c === ' ' || c === '\t';
const isEol = (c: string) => c === '\n' || c === '\r';
const isAlnum = (c: string) => c === '_' || /^[\p{L}\p{Nd}]$/u.test(c);
/** What ends a field name (kubectl's isTerminator); a backslash takes the next character as it is. */
const isTerminator = (c: string | undefined) => c === undefined || isSpace(c) || isEol(c) || '.,[]$@{}'.includes(c);

/** Reads steps from `pos` to `limit` (a filter's operand) or to the action's `}`. */
class Scanner {
  keywords: Array<{ word: string; at: number }> = [];
  constructor(readonly src: string, public pos: number, readonly limit: number, readonly opened: number) {}

  /** `closing`: an action, which must end with `}`; else the text up to `limit`. */
  steps(closing: boolean): Step[] {
    const out: Step[] = [];
    for (;;) {
      const c = this.pos < this.limit ? this.src[this.pos] : undefined;
      if (c === undefined || isEol(c)) {
        if (!closing) return out;
        fail('unclosed action: "{" without its "}"', this.opened);
      }
      if (closing && c === '}') { this.pos++; return out; }
      const step = this.step(c as string, out);
      if (step) out.push(step);
    }
  }

  /** The step at `pos` (whose first character is `c`), or none for what only moves on (spaces, @). */
  private step(c: string, sofar: Step[]): Step | undefined {
    const at = this.pos;
    if (this.src.startsWith('[?(', at)) return this.filter();
    if (this.src.startsWith('..', at)) {
      if (sofar[sofar.length - 1]?.t === 'recursive') fail('".." twice in a row', at);
      // `..name`: the second dot starts the field, as kubectl reads it; `..[0]` goes on at the `[`
      this.pos += isAlnum(this.src[at + 2] ?? '') ? 1 : 2;
      return { t: 'recursive' };
    }
    this.pos++;
    if (isSpace(c) || c === '@' || c === '$') return undefined;
    if (c === '.') return this.field();
    if (c === '[') return this.bracket(at);
    if (c === '"' || c === "'") return { t: 'literal', value: this.quoted(at, c) };
    if (c === '+' || c === '-' || /\d/.test(c)) return this.number(at);
    if (isAlnum(c)) return this.identifier(at);
    return fail(`unexpected character ${JSON.stringify(c)} in action`, at);
  }

  /** `.name` (`\.` keeps a dot in the name, as in kubectl: `.labels.xnet\.io/role`), `.*`. */
  private field(): Step {
    let name = '';
    while (!isTerminator(this.peek())) {
      if (this.src[this.pos] === '\\' && this.pos + 1 < this.limit) this.pos++;
      name += this.src[this.pos++];
    }
    return name === '*' && this.src[this.pos - 2] !== '\\' ? { t: 'wildcard' } : { t: 'field', name };
  }

  private peek(): string | undefined { return this.pos < this.limit ? this.src[this.pos] : undefined; }

  private identifier(at: number): Step | undefined {
    while (!isTerminator(this.peek())) this.pos++;
    const word = this.src.slice(at, this.pos);
    if (word === 'true' || word === 'false') return { t: 'literal', value: word === 'true' };
    if (word !== 'range' && word !== 'end') fail(`unknown word "${word}" (only range, end, true and false)`, at);
    this.keywords.push({ word, at });
    return undefined;
  }

  private number(at: number): Step {
    if ('+-'.includes(this.src[at])) this.pos = at + 1;
    while (this.pos < this.limit && /[\d.]/.test(this.src[this.pos])) this.pos++;
    const text = this.src.slice(at, this.pos);
    if (!/^[+-]?(\d+|\d+\.\d*|\.\d+)$/.test(text)) fail(`not a number: ${text}`, at);
    return { t: 'literal', value: Number(text) };
  }

  /** A quoted string from `at` (its opening quote): the string, its escapes (\n, \t...) applied. */
  private quoted(at: number, quote: string): string {
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '\n') fail('unterminated quoted string', at);
      this.pos++;
      if (c === '\\') this.pos++;
      else if (c === quote) return unquote(this.src.slice(at + 1, this.pos - 1), at);
    }
  }

  /** `[...]`: an index, a slice, `[*]`, a quoted key (`['xnet.io/role']`: dots and all), or a union of them. */
  private bracket(at: number): Step {
    const close = closingBracket(this.src, at + 1, this.limit);
    if (close < 0) fail('unterminated "[": no "]"', at);
    this.pos = close + 1;
    const inner = this.src.slice(at + 1, close);
    const members = unionMembers(inner);
    if (members.length === 1) return bracketMember(inner.trim(), at);
    // each member is named at its own character, so a bad one among many is found at once
    return { t: 'union', members: members.map(({ text, offset }) => {
      const trimmed = text.trim();
      if (!trimmed) fail(`empty member in the union "[${inner}]"`, at + 1 + offset);
      return bracketMember(trimmed, at + 1 + offset + (text.length - text.trimStart().length));
    }) };
  }

  /** `[?(LEFT OP RIGHT)]` or `[?(PATH)]` (present): each operand a path or a literal. */
  private filter(): Step {
    const at = this.pos;
    const close = filterEnd(this.src, at + 3, this.limit, at);
    if (this.src[close + 1] !== ']') fail('filter without its "]" after ")"', close);
    this.pos = close + 2;
    const text = this.src.slice(at + 3, close);
    const m = /^([^!<>=]+)([!<>=]+)(.+)$/s.exec(text);
    if (!m) return { t: 'filter', left: this.operand(at + 3, close), op: 'exists', right: [] };
    const opAt = at + 3 + m[1].length;
    if (!FILTER_OPS.has(m[2])) fail(`unknown filter operator "${m[2]}" (==, !=, <, >, <=, >=)`, opAt);
    return { t: 'filter', left: this.operand(at + 3, opAt), op: m[2] as FilterOp, right: this.operand(opAt + m[2].length, close) };
  }

  private operand(from: number, to: number): Step[] {
    const sub = new Scanner(this.src, from, to, from);
    const steps = sub.steps(false);
    if (sub.keywords.length) fail(`"${sub.keywords[0].word}" in a filter`, sub.keywords[0].at);
    if (!steps.length && !/[@$]/.test(this.src.slice(from, to))) fail('empty operand in filter', from);
    return steps;
  }
}

/** One member of `[...]`: a quoted key, `*`, an index or a slice; `at` is where errors point. */
function bracketMember(text: string, at: number): Step {
  const key = /^(['"])(.*)\1$/s.exec(text);
  if (key) return { t: 'field', name: unquote(key[2], at) };
  return slice(text === '*' ? ':' : text, at);
}

/** `[...]`'s content split at the commas outside quotes (kubectl's union), each with its offset. */
function unionMembers(inner: string): Array<{ text: string; offset: number }> {
  const out: Array<{ text: string; offset: number }> = [];
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '"' || c === "'") {
      for (i++; i < inner.length && inner[i] !== c; i++) if (inner[i] === '\\') i++;
    } else if (c === ',') {
      out.push({ text: inner.slice(start, i), offset: start });
      start = i + 1;
    }
  }
  out.push({ text: inner.slice(start), offset: start });
  return out;
}

/** The index of the `]` closing a `[` whose content starts at `from`, quotes skipped; -1: none. */
function closingBracket(src: string, from: number, limit: number): number {
  for (let i = from; i < limit; i++) {
    const c = src[i];
    if (c === '\n') return -1;
    if (c === ']') return i;
    if (c === '"' || c === "'") {
      for (i++; i < limit && src[i] !== c; i++) if (src[i] === '\\') i++;
    }
  }
  return -1;
}

/** The index of the `)` that ends a filter opened at `at`: the first outside a quoted string. */
function filterEnd(src: string, from: number, limit: number, at: number): number {
  let quote: string | undefined;
  for (let i = from; i < limit; i++) {
    const c = src[i];
    if (c === '\n') break;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ')') return i;
  }
  return fail('unterminated filter: "[?(" without its ")]"', at);
}

/** `n`, `a:b`, `a:b:c` with any part left out; `[n]` is the slice n to n+1, as in kubectl. */
function slice(text: string, at: number): Step {
  const m = /^(-?\d*)(?::(-?\d*))?(?::(-?\d*))?$/.exec(text);
  if (!m) return fail(`invalid array index "${text}"`, at);
  const num = (s: string | undefined) => (s === undefined || s === '' ? undefined : Number(s));
  if (!text.includes(':')) {
    const start = num(m[1]) ?? 0;
    return { t: 'slice', start, end: start + 1, derivedEnd: true };
  }
  return { t: 'slice', start: num(m[1]), end: num(m[2]), step: num(m[3]), derivedEnd: false };
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', '"': '"', "'": "'", '/': '/' };

/** A quoted string's content with Go's escapes (what kubectl applies): \n \t \\ \" \xHH \uHHHH... */
function unquote(body: string, at: number): string {
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/gs, (_, e: string) => {
    if (e.length === 1) return ESCAPES[e] ?? fail(`unknown escape "\\${e}" in a quoted string`, at);
    const code = e[0] === 'x' || e[0] === 'u' || e[0] === 'U' ? parseInt(e.slice(1), 16) : parseInt(e, 8);
    return String.fromCodePoint(code);
  });
}
