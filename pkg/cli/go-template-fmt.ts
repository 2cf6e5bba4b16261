// How Go's fmt prints the values a go-template sees, for `{{.x}}`, print, println and printf.
// The data is what kubectl gives its templates: JSON decoded with k8s.io/apimachinery's json, a
// whole number an int64 (printed as digits), any other a float64 (Go's %v: shortest digits, an
// exponent from 1e+06 up or below 1e-04), maps printed `map[k:v ...]` with sorted keys, arrays
// `[a b]`, null `<nil>`. Pure.

/** A float64 constant written with a point or an exponent (`{{3.0}}`): Go keeps it a float, though whole. */
export class Float64 { constructor(readonly v: number) {} }

import { formatFloat } from './go-template-float.js';

export type GoKind = 'invalid' | 'nil' | 'bool' | 'int' | 'float' | 'string' | 'map' | 'slice';

/** undefined is Go's invalid value (a missing key), null a nil interface (JSON null). */
export function kindOf(v: unknown): GoKind {
  if (v === undefined) return 'invalid';
  if (v === null) return 'nil';
  if (v instanceof Float64) return 'float';
  switch (typeof v) {
    case 'boolean': return 'bool';
    case 'string': return 'string';
    // an int64 when the JSON number is one (apimachinery's json.Unmarshal), else a float64
    case 'number': return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? 'int' : 'float';
    default: return Array.isArray(v) ? 'slice' : 'map';
  }
}

export const numberOf = (v: unknown): number => (v instanceof Float64 ? v.v : (v as number));

const TYPE_NAMES: Record<GoKind, string> = {
  invalid: '<nil>', nil: '<nil>', bool: 'bool', int: 'int64', float: 'float64', string: 'string',
  map: 'map[string]interface {}', slice: '[]interface {}',
};
/** The Go type a value has in kubectl's decoded data, as Go's errors name it. */
export const typeName = (v: unknown): string => TYPE_NAMES[kindOf(v)];

/** Go's %v of a float64: strconv's shortest digits, %e when the exponent is < -4 or >= 6 (1234567 is 1.234567e+06). */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  return formatFloat(n, 'g', -1);
}

/** fmt's %v: what `{{.x}}` prints for a value that is there, and print's operands. */
export function formatV(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid': case 'nil': return '<nil>';
    case 'int': return String(v);
    case 'float': return goFloat(numberOf(v));
    case 'string': return v as string;
    case 'bool': return String(v);
    case 'slice': return `[${(v as unknown[]).map(formatV).join(' ')}]`;
    default: return `map[${sortedKeys(v as object).map((k) => `${k}:${formatV((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
}

/** A map's keys in Go's order for string keys (fmtsort: byte order), for printing and range. */
export function sortedKeys(m: object): string[] {
  return Object.keys(m).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** fmt.Sprint: operands one after another, a space between two when neither is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatV(a);
  });
  return out;
}

/** fmt.Sprintln: operands separated by spaces, then a newline. */
export const sprintln = (args: unknown[]): string => `${args.map(formatV).join(' ')}\n`;

interface Spec { minus: boolean; plus: boolean; zero: boolean; sharp: boolean; space: boolean; width?: number; prec?: number; verb: string }

/** Where Sprintf is: in its format, at which argument; `reordered` by an [n]; `good`, the [n] of this directive. */
interface Cursor { f: string; i: number; arg: number; args: unknown[]; reordered: boolean; good: boolean }

/** fmt.Sprintf, as Go's doPrintf reads its format: flags, [n] argument indexes, a width or *, a precision or .*, the verb. */
export function sprintf(format: string, args: unknown[]): string {
  const c: Cursor = { f: format, i: 0, arg: 0, args, reordered: false, good: true };
  let out = '';
  while (c.i < format.length) {
    const pct = format.indexOf('%', c.i);
    if (pct < 0) { out += format.slice(c.i); break; }
    out += format.slice(c.i, pct);
    c.i = pct + 1;
    const d = directive(c);
    out += d.text;
    if (d.last) break;
  }
  // as Go: arguments left over are said, unless an [n] made the order the format's own
  if (!c.reordered && c.arg < args.length) out += `%!(EXTRA ${args.slice(c.arg).map((a) => (kindOf(a) === 'nil' || a === undefined ? '<nil>' : `${typeName(a)}=${formatV(a)}`)).join(', ')})`;
  return out;
}

const NO_VERB = { text: '%!(NOVERB)', last: true };

/** One directive, from after its "%"; `last` when the format ends in it. */
function directive(c: Cursor): { text: string; last?: boolean } {
  const s: Spec = { minus: false, plus: false, zero: false, sharp: false, space: false, verb: '' };
  for (; c.i < c.f.length && '#0+- '.includes(c.f[c.i]); c.i++) setFlag(s, c.f[c.i]);
  c.good = true;
  let pre = '', afterIndex = argIndex(c);
  const width = widthOrPrecision(c, afterIndex);
  if (width === 'overflow') return NO_VERB;
  if (width.bad) pre += '%!(BADWIDTH)';
  if (width.n !== undefined && width.n < 0) Object.assign(s, { width: -width.n, minus: true, zero: false });
  else s.width = width.n;
  if (width.star) afterIndex = false;
  if (c.i + 1 < c.f.length && c.f[c.i] === '.') {
    c.i++;
    if (afterIndex) c.good = false;
    const prec = widthOrPrecision(c, argIndex(c));
    if (prec === 'overflow') return { ...NO_VERB, text: pre + NO_VERB.text };
    if (prec.bad || (prec.n ?? 0) < 0) pre += '%!(BADPREC)';
    else s.prec = prec.n ?? 0;
    afterIndex = prec.star ? false : afterIndex;
  }
  if (!afterIndex) argIndex(c);
  if (c.i >= c.f.length) return { text: pre + NO_VERB.text, last: true };
  s.verb = String.fromCodePoint(c.f.codePointAt(c.i)!);
  c.i += s.verb.length;
  return { text: pre + verbText(c, s) };
}

function setFlag(s: Spec, flag: string): void {
  if (flag === '#') s.sharp = true;
  else if (flag === '0') s.zero = !s.minus;
  else if (flag === '+') s.plus = true;
  else if (flag === '-') { s.minus = true; s.zero = false; }
  else s.space = true;
}

function verbText(c: Cursor, s: Spec): string {
  if (s.verb === '%') return '%';
  if (!c.good) return `%!${s.verb}(BADINDEX)`;
  if (c.arg >= c.args.length) return `%!${s.verb}(MISSING)`;
  // %+v and %#v are Go's struct-field and Go-syntax forms: for this data, %v without the flag
  if (s.verb === 'v') { s.plus = false; s.sharp = false; }
  return formatArg(c.args[c.arg++], s);
}

/**
 * A width (or precision): digits, or `*`, the next argument, an integer. Go reads at most 7 digits
 * ("crazy long" past 1e6): more loses the rest of the format. An [n] before digits is a bad index.
 */
function widthOrPrecision(c: Cursor, afterIndex: boolean): 'overflow' | { n?: number; bad?: boolean; star?: boolean } {
  if (c.f[c.i] === '*') {
    c.i++;
    if (c.arg >= c.args.length) return { bad: true, star: true };
    const v = c.args[c.arg++];
    const ok = kindOf(v) === 'int' && Math.abs(v as number) <= 1e6;
    return ok ? { n: v as number, star: true } : { bad: true, star: true };
  }
  const m = /^\d*/.exec(c.f.slice(c.i))![0];
  if (tooLong(m)) return 'overflow';
  c.i += m.length;
  if (afterIndex && m) c.good = false;
  return { n: m ? Number(m) : undefined };
}

/** `[n]`: the next argument is the n-th (from 1); a bad n makes the verb print BADINDEX. Whether one was read. */
function argIndex(c: Cursor): boolean {
  if (c.f[c.i] !== '[') return false;
  c.reordered = true;
  const close = c.f.indexOf(']', c.i + 1);
  if (close < 0) { c.good = false; c.i++; return false; }
  const text = c.f.slice(c.i + 1, close);
  c.i = close + 1;
  if (!/^\d+$/.test(text) || tooLong(text)) { c.good = false; return false; }
  const n = Number(text) - 1;
  if (n < 0 || n >= c.args.length) { c.good = false; return true; }
  c.arg = n;
  return true;
}

function tooLong(digits: string): boolean {
  let n = 0;
  for (const d of digits) { if (n > 1e6) return true; n = n * 10 + Number(d); }
  return false;
}

/** One argument; `inside`, an element of an array or a map, where Go prints a nil as <nil> whatever the verb. */
function formatArg(v: unknown, s: Spec, inside = false): string {
  const k = kindOf(v);
  // %T: the Go type of the whole argument, as kubectl's decoded data has it (a template's constant 1 is an int there, int64 here)
  if (s.verb === 'T' && !inside) return pad(typeName(v), s, 'none');
  if (k === 'slice') return `[${(v as unknown[]).map((e) => formatArg(e, s, true)).join(' ')}]`;
  if (k === 'map') return `map[${sortedKeys(v as object).map((key) => `${formatArg(key, s, true)}:${formatArg((v as Record<string, unknown>)[key], s, true)}`).join(' ')}]`;
  if (inside && (k === 'nil' || k === 'invalid')) return pad('<nil>', s, 'left');
  const text = scalarText(v, k, s);
  if (text === undefined) return badVerb(v, s.verb);
  // an integer's zeros are its digits' (intText); a float's go after its sign
  return pad(text, s, k === 'float' ? 'after-sign' : k === 'int' && INT_BASES[s.verb] ? 'none' : 'left');
}

function scalarText(v: unknown, k: GoKind, s: Spec): string | undefined {
  const verb = s.verb;
  if (k === 'invalid' || k === 'nil') return verb === 'v' ? '<nil>' : undefined;
  if (verb === 'v' && k === 'float') return floatText(numberOf(v), 'g', s);
  if (k === 'int' && INT_BASES[verb]) return intText(numberOf(v), s);
  if (verb === 'v') return k === 'string' && s.prec !== undefined ? [...(v as string)].slice(0, s.prec).join('') : signed(k === 'float' ? goFloat(numberOf(v)) : formatV(v), v, k, s);
  if (k === 'string') {
    const str = s.prec !== undefined ? [...(v as string)].slice(0, s.prec).join('') : (v as string);
    if (verb === 's') return str;
    if (verb === 'q') return goQuote(str);
    if (verb === 'x' || verb === 'X') { const h = Buffer.from(str).toString('hex'); return verb === 'X' ? h.toUpperCase() : h; }
    return undefined;
  }
  if (k === 'bool') return verb === 't' ? String(v) : undefined;
  const n = numberOf(v);
  if (k === 'int') {
    if (verb === 'c') return String.fromCodePoint(n);
    if (verb === 'U') return unicodeText(n, s);
    if (verb === 'q') return `'${goQuote(String.fromCodePoint(n)).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
    return undefined;
  }
  if (verb === 'f' || verb === 'F') return floatText(n, 'f', s);
  if (verb === 'e' || verb === 'E' || verb === 'g' || verb === 'G') {
    const t = floatText(n, verb.toLowerCase() as 'e' | 'g', s);
    return verb === 'E' || verb === 'G' ? t.toUpperCase() : t;
  }
  return undefined;
}

const INT_BASES: Record<string, number | undefined> = { d: 10, v: 10, b: 2, o: 8, O: 8, x: 16, X: 16 };

/** Go's fmtInteger: a precision is the least number of digits (zero padding is one, inside the sign), # adds 0x, 0X, 0b or 0. */
function intText(n: number, s: Spec): string {
  let digits = Math.abs(n).toString(INT_BASES[s.verb]);
  if (s.verb === 'X') digits = digits.toUpperCase();
  const sign = n < 0 ? '-' : s.plus ? '+' : s.space ? ' ' : '';
  const least = s.prec ?? (s.zero && !s.minus && s.width !== undefined ? s.width - sign.length : 0);
  // Go prints no digit for 0 with a precision of 0: `%.0d` is only padding
  if (s.prec === 0 && n === 0) return '';
  digits = digits.padStart(least, '0');
  const prefix = s.verb === 'O' ? '0o' : !s.sharp ? '' : ({ x: '0x', X: '0X', b: '0b', o: digits[0] === '0' ? '' : '0' } as Record<string, string>)[s.verb] ?? '';
  return sign + prefix + digits;
}

/** %U: U+0068, at least four hex digits; %#U adds the character when it prints. */
function unicodeText(n: number, s: Spec): string {
  const text = `U+${n.toString(16).toUpperCase().padStart(Math.max(s.prec ?? 0, 4), '0')}`;
  const c = n >= 0 && n <= 0x10ffff ? String.fromCodePoint(n) : '';
  return s.sharp && c && !/[\p{C}\p{Z}]/u.test(c.replace(' ', 'x')) ? `${text} '${c}'` : text;
}

/** %e %f %g (and %v, as %g) of a float64: Go's digits, its sign flags. */
function floatText(n: number, fmt: 'e' | 'f' | 'g', s: Spec): string {
  if (!Number.isFinite(n)) return signed(goFloat(n), n, 'float', s);
  return signed(formatFloat(n, fmt, s.prec ?? (fmt === 'g' ? -1 : 6)), n, 'float', s);
}
const signed = (t: string, v: unknown, k: GoKind, s: Spec): string => ((k === 'int' || k === 'float') && numberOf(v) >= 0 && !t.startsWith('-') ? (s.plus ? '+' : s.space ? ' ' : '') + t : t);
const badVerb = (v: unknown, verb: string): string => (v === undefined || v === null ? `%!${verb}(<nil>)` : `%!${verb}(${typeName(v)}=${formatV(v)})`);

/** To the width: spaces after with `-`; with `0`, zeros before (after a number's sign), as Go pads any verb. */
function pad(text: string, s: Spec, zeros: 'none' | 'left' | 'after-sign'): string {
  const len = [...text].length;
  if (s.width === undefined || len >= s.width) return text;
  const fill = s.width - len;
  if (s.minus) return text + ' '.repeat(fill);
  if (s.zero && zeros === 'left') return '0'.repeat(fill) + text;
  if (s.zero && zeros === 'after-sign') {
    const sign = /^[+\- ]/.test(text) ? text[0] : '';
    return sign + '0'.repeat(fill) + text.slice(sign.length);
  }
  return ' '.repeat(fill) + text;
}

const QUOTE_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"' };

/** Go's strconv.Quote: printable characters as they are, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    if (QUOTE_ESCAPES[c]) out += QUOTE_ESCAPES[c];
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (/[\p{C}\p{Z}]/u.test(c) && c !== ' ') out += cp > 0xffff ? `\\U${cp.toString(16).padStart(8, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return `${out}"`;
}
