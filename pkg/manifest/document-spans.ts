// Empty documents, counted without the YAML parser. A `---` line costs the parser and composer
// about 4 µs as a document of its own: 16 MiB of them (4 million documents, no object) took
// 16-30 s of CPU before xctl said "no objects found". A `---` line at the start of a line
// always starts a new document in YAML, even inside a quoted scalar or a flow collection, so
// the text can be cut before each one without changing what any document means (but for an
// unclosed quote, single or double, which the yaml package reads on past it: that document is
// refused either way, and the ones after it are now read too); a part that holds only `---`/`...`
// lines, blank lines and comments is counted, not parsed.
import { blankTails } from './blank-tail.js';

/**
 * A part of the text: documents to parse, or (`empty` set) only so many empty documents. A part
 * to parse ends before the empty lines that end it (blank-tail.ts); `blankUntil` is then where
 * they end, what the parser would have reached at the end of its input.
 */
export interface DocumentSpan { start: number; end: number; empty?: number; blankUntil?: number }

/**
 * `---` at the start of the text or after a "\n": not the multiline ^, which also matches after
 * a CR alone and after U+2028/U+2029, none of which ends a line for the yaml package (a `---`
 * after one is text of its line: cut there, a block scalar lost it and the documents after it
 * were numbered one too many). `$` without the m flag: only the end of the text.
 */
const DOCUMENT_START = /(?<![^\n])---(?=[ \t\r\n]|$)/g;
/** a `---` line with nothing on it but a comment */
const START_LINE = /---(?:[ \t]+(?:#[^\n]*)?)?(?:\r?\n|$)/y;
/** a blank, comment or `...` line (a `#` starts a comment at the line's start or after a space) */
const EMPTY_LINE = /(?:(\.\.\.)(?=[ \t\r\n]|$))?[ ]*(?:(?<=^|\s)#[^\n]*)?(?:\r?\n|$)/y;

/**
 * How many (empty) documents the part [start, end) holds when it holds nothing else, as the
 * yaml package counts them: a `---` opens one, a `...` closes the open one or, when none is
 * open, is an empty document of its own. Undefined when the part holds anything else.
 * Line by line: one expression over a run of millions of lines overflows its stack.
 */
function emptyDocuments(text: string, start: number, end: number): number | undefined {
  START_LINE.lastIndex = start;
  const opened = START_LINE.test(text);
  let at = opened ? START_LINE.lastIndex : start;
  let ends = 0;
  while (at < end) {
    EMPTY_LINE.lastIndex = at;
    const m = EMPTY_LINE.exec(text);
    if (!m || EMPTY_LINE.lastIndex === at) return undefined;
    if (m[1]) ends++;
    at = EMPTY_LINE.lastIndex;
  }
  return opened ? 1 + Math.max(0, ends - 1) : ends;
}

/**
 * The text cut before each `---` line into parts to parse (adjacent ones joined, so a text
 * without empty documents is one part) and parts of empty documents only (joined too, their
 * counts added). A text with a directive line (`%YAML`, `%TAG`, which belong to the document
 * after them) is not cut: it is one part.
 */
export function documentSpans(text: string): DocumentSpan[] {
  const tails = blankTails(text);
  // a part to parse ends before its empty tail, and the part after it is parsed on its own
  const cutTail = (span: DocumentSpan) => {
    const end = tails(span.start, span.end);
    if (end < span.end) Object.assign(span, { end, blankUntil: span.end });
  };
  if (/^%/m.test(text)) {
    const whole: DocumentSpan = { start: 0, end: text.length };
    cutTail(whole);
    return [whole];
  }
  const spans: DocumentSpan[] = [];
  const add = (start: number, end: number) => {
    if (end <= start) return;
    const empty = emptyDocuments(text, start, end);
    const last = spans[spans.length - 1];
    if (last && last.blankUntil === undefined && (last.empty === undefined) === (empty === undefined)) {
      last.end = end;
      if (empty !== undefined) last.empty! += empty;
    } else {
      spans.push(empty === undefined ? { start, end } : { start, end, empty });
    }
    if (empty === undefined) cutTail(spans[spans.length - 1]);
  };
  let start = 0;
  for (const m of text.matchAll(DOCUMENT_START)) {
    add(start, m.index);
    start = m.index;
  }
  add(start, text.length);
  return spans;
}

/** a `---` or `...` line: where a document starts, or where one ends (as DOCUMENT_START, at a line's start) */
const DOCUMENT_MARKER = /(?<![^\n])(---|\.\.\.)(?=[ \t\r\n]|$)/g;

/**
 * Where the next document starts after `offset` (in a document that is not read on): at the
 * first `---` line after it, or on the line after the first `...` line, which ends the document
 * as YAML says (the next is bare, or opens with its own `---`); undefined when there is none.
 */
export function nextDocumentStart(text: string, offset: number): number | undefined {
  const marker = new RegExp(DOCUMENT_MARKER.source, 'g');
  marker.lastIndex = text.lastIndexOf('\n', offset) + 1;
  for (let m = marker.exec(text); m; m = marker.exec(text)) {
    if (m.index <= offset) continue;
    if (m[1] === '---') return m.index;
    const lineEnd = text.indexOf('\n', m.index);
    return lineEnd < 0 ? undefined : lineEnd + 1;
  }
  return undefined;
}
