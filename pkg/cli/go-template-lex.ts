// The tokens of a Go text/template (`xctl get -o go-template=`), as Go's text/template/parse
// lexer cuts them: text between actions, and inside `{{ }}` fields, variables, words, literals,
// `|`, `(`, `)`, `:=`, `=`, `,`. Trim markers (`{{- `, ` -}}`) trim the text beside them here,
// and comments (`{{/* */}}`) leave no token. Pure.
import { UsageError } from './exit.js';

/** A template that does not parse: what is wrong and where (an offset into the template). */
export class GoTemplateSyntaxError extends UsageError {
  constructor(readonly what: string, readonly pos: number) { super(what); }
}

/**
 * Where `pos` is, counted from 1 as the jsonpath errors count: `character 8` in a template of one
 * line, `line 2, character 3` in one of several (a go-template-file=).
 */
export function positionText(src: string, pos: number): string {
  const before = src.slice(0, pos);
  const line = before.split('\n').length;
  const char = pos - (before.lastIndexOf('\n') + 1) + 1;
  return src.includes('\n') ? `line ${line}, character ${char}` : `character ${char}`;
}

export type TokKind = 'text' | 'left' | 'right' | 'space' | 'field' | 'var' | 'word' | 'string' | 'number' | 'char'
  | 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign' | 'comma' | 'dot' | 'eof';
/**
 * `v`: the token's text (a string's without its quotes, unescaped); `pos`, `end`: where it starts
 * and ends in the template (for a quoted string, `v` is shorter than the source it came from).
 */
export interface Tok { k: TokKind; v: string; pos: number; end: number }

const SPACE = /[ \t\r\n]/;
const WORD_CHAR = /[\p{L}\p{N}_]/u;
const isSpace = (c: string | undefined) => c !== undefined && SPACE.test(c);

export function lexTemplate(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0, trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    const end = open < 0 ? src.length : open;
    const trimLeft = open >= 0 && src[open + 2] === '-' && isSpace(src[open + 3]);
    let text = src.slice(i, end);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
    if (text) toks.push({ k: 'text', v: text, pos: i, end });
    if (open < 0) break;
    const r = lexAction(src, open, trimLeft ? open + 4 : open + 2, toks);
    i = r.next; trimNext = r.trimRight;
  }
  toks.push({ k: 'eof', v: '', pos: src.length, end: src.length });
  return toks;
}

/** One action from its `{{` to its `}}`; where the text after it starts, and whether ` -}}` trims it. */
function lexAction(src: string, open: number, start: number, toks: Tok[]): { next: number; trimRight: boolean } {
  // a comment starts right after "{{" or "{{- ", as Go's lexer has it: "{{ /*" is no comment
  if (src.startsWith('/*', start)) return lexComment(src, open, start);
  let i = start;
  while (isSpace(src[i])) i++;
  toks.push({ k: 'left', v: '{{', pos: open, end: open + 2 });
  let parens = 0;
  for (;;) {
    const c = src[i];
    if (c === undefined) throw new GoTemplateSyntaxError('unclosed action: "{{" without its "}}"', open);
    if (isSpace(c)) {
      const s = i;
      while (isSpace(src[i])) i++;
      if (src.startsWith('-}}', i)) return closeAction(toks, i, parens, i + 3, true);
      toks.push({ k: 'space', v: src.slice(s, i), pos: s, end: i });
      continue;
    }
    if (src.startsWith('}}', i)) return closeAction(toks, i, parens, i + 2, false);
    if (c === '(') parens++;
    if (c === ')' && --parens < 0) throw new GoTemplateSyntaxError('unexpected right paren', i);
    i = lexOne(src, i, toks);
  }
}

function closeAction(toks: Tok[], at: number, parens: number, next: number, trimRight: boolean) {
  if (parens > 0) throw new GoTemplateSyntaxError('unclosed left paren', at);
  toks.push({ k: 'right', v: '}}', pos: at, end: at + 2 });
  return { next, trimRight };
}

function lexComment(src: string, open: number, at: number): { next: number; trimRight: boolean } {
  const close = src.indexOf('*/', at + 2);
  if (close < 0) throw new GoTemplateSyntaxError('unclosed comment', at);
  let i = close + 2;
  const trimRight = src[i] === ' ' && src.startsWith('-}}', i + 1);
  if (trimRight) i += 1;
  if (!src.startsWith(trimRight ? '-}}' : '}}', i)) throw new GoTemplateSyntaxError('comment ends before closing delimiter', close);
  return { next: i + (trimRight ? 3 : 2), trimRight };
}

const PUNCT: Record<string, TokKind> = { '|': 'pipe', '(': 'lparen', ')': 'rparen', ',': 'comma' };

/** One token inside an action, starting at `i`; returns where the next one starts. */
function lexOne(src: string, i: number, toks: Tok[]): number {
  const c = src[i];
  const push = (k: TokKind, end: number, v = src.slice(i, end)) => { toks.push({ k, v, pos: i, end }); return end; };
  if (PUNCT[c]) return push(PUNCT[c], i + 1);
  if (src.startsWith(':=', i)) return push('declare', i + 2);
  if (c === '=') return push('assign', i + 1);
  if (c === '"') { const end = quotedEnd(src, i, '"'); return push('string', end, unquote(src.slice(i, end), i)); }
  if (c === '`') {
    const end = src.indexOf('`', i + 1);
    if (end < 0) throw new GoTemplateSyntaxError('unterminated raw quoted string', i);
    return push('string', end + 1, src.slice(i + 1, end));
  }
  if (c === "'") { const end = quotedEnd(src, i, "'"); return push('char', end, charValue(src.slice(i, end), i)); }
  if (c === '$') return push('var', wordEnd(src, i + 1));
  if (c === '.' && /[0-9]/.test(src[i + 1] ?? '')) return push('number', numberEnd(src, i));
  if (c === '.') {
    const end = wordEnd(src, i + 1);
    return end === i + 1 ? push('dot', end) : push('field', end);
  }
  if (/[0-9+-]/.test(c)) {
    const end = numberEnd(src, i);
    if (end === i + 1 && !/[0-9]/.test(c)) throw new GoTemplateSyntaxError(`bad number syntax: "${c}"`, i);
    return push('number', end);
  }
  if (WORD_CHAR.test(c)) return push('word', wordEnd(src, i));
  throw new GoTemplateSyntaxError(`unrecognized character in action: ${JSON.stringify(c)}`, i);
}

function wordEnd(src: string, i: number): number {
  while (i < src.length && WORD_CHAR.test(src[i])) i++;
  return i;
}

function numberEnd(src: string, i: number): number {
  const m = /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)/.exec(src.slice(i));
  const end = i + (m ? m[0].length : 0);
  // `3x` is no number and no word: Go says so rather than reading two operands
  if (WORD_CHAR.test(src[end] ?? '') || src[end] === '.') throw new GoTemplateSyntaxError(`bad number syntax: "${src.slice(i, wordEnd(src, end + 1))}"`, i);
  return end;
}

function quotedEnd(src: string, i: number, q: string): number {
  for (let j = i + 1; j < src.length; j++) {
    if (src[j] === '\\') { j++; continue; }
    if (src[j] === '\n') break;
    if (src[j] === q) return j + 1;
  }
  throw new GoTemplateSyntaxError(q === '"' ? 'unterminated quoted string' : 'unterminated character constant', i);
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };

/** Go's strconv.Unquote of a "..." literal: \n, \t, \\, \", \xHH, \ooo, \uHHHH, \UHHHHHHHH. */
export function unquote(lit: string, pos: number): string {
  const body = lit.slice(1, -1);
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g, (_, e: string) => {
    if (ESCAPES[e] !== undefined) return ESCAPES[e];
    if (/^[xuU]/.test(e)) return String.fromCodePoint(parseInt(e.slice(1), 16));
    if (/^[0-7]{3}$/.test(e)) return String.fromCharCode(parseInt(e, 8));
    throw new GoTemplateSyntaxError(`invalid syntax in quoted string ${lit}: unknown escape \\${e}`, pos);
  });
}

function charValue(lit: string, pos: number): string {
  const s = unquote(lit.replace(/^'|'$/g, '"'), pos);
  if ([...s].length !== 1) throw new GoTemplateSyntaxError(`malformed character constant: ${lit}`, pos);
  return String(s.codePointAt(0));
}
