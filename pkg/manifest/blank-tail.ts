// The empty lines at the end of a part of the text, kept from the YAML parser. The lexer and
// parser make a token of every line break and keep each in the syntax tree of the document it
// ends: one object followed by 16 MiB of empty lines took about 13 s of CPU and 1.7 GB to read
// (16 million newline tokens), where the object alone takes milliseconds.
//
// Only lines with nothing on them (not even a space or a `#`) are cut, and only where they can
// mean nothing: a line of spaces after a literal block scalar (`|`) is part of its value when
// it is indented deeper than the value, a `#` line can be a quoted or top-level block scalar's
// text, and with keep chomping (`|+`, `>+`) the empty lines at the end are part of the value.

/** a block scalar's header with the keep indicator: `|+`, `>+`, `|2+` (and `|+2`) */
const KEEP_CHOMPING = /[|>][1-9]?\+/g;

/**
 * The parts of one text, in order, with whether each may keep its empty tail: one search for
 * keep chomping over the whole text, however many parts ask (each asking from where the last
 * one started would search on to the text's end each time).
 */
export function blankTails(text: string): (start: number, end: number) => number {
  let keep = -1;   // the first keep indicator at or after the last part's start; Infinity: none
  return (start, end) => {
    const tail = blankTailStart(text, start, end);
    if (tail === end) return end;
    if (keep < start) {
      KEEP_CHOMPING.lastIndex = start;
      keep = KEEP_CHOMPING.exec(text)?.index ?? Infinity;
    }
    return keep < end ? end : tail;
  };
}

/**
 * Where the empty lines ("\n" or "\r\n" alone) that end [start, end) begin: just after the line
 * break of the part's last line that holds anything; `end` when there are none. A part of
 * empty lines only keeps them all (it is not a part to parse).
 */
export function blankTailStart(text: string, start: number, end: number): number {
  let at = end;
  while (at > start && text.charCodeAt(at - 1) === 10) {
    let lineStart = at - 1;
    if (lineStart > start && text.charCodeAt(lineStart - 1) === 13) lineStart--;
    // the line [lineStart, at) is empty when a line break (or the part's start) comes before it
    if (lineStart > start && text.charCodeAt(lineStart - 1) !== 10) break;
    if (lineStart === start) return end;
    at = lineStart;
  }
  return at;
}
