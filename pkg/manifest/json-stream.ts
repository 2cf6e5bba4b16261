// A JSON stream: several JSON values one after another, with only whitespace between them
// (what `xctl get -w -o json` and `jq -c '.items[]'` print; kubectl reads it as documents).
// YAML reads such a text as one document and fails on every token after the first value, so
// the text is cut into one span per value first, and each span is parsed on its own.

/** Where one top-level value of the text starts and ends (end exclusive). */
export interface Span { start: number; end: number }

const WHITESPACE = /\s/;

/** The end of the value opened at `start` (a `{` or `[`), or the text's end when it never closes. */
function valueEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '{' || c === '[') {
      depth++;
    } else if ((c === '}' || c === ']') && --depth === 0) {
      return i + 1;
    }
  }
  return text.length;
}

/**
 * One span per value when `text` is two or more objects or arrays separated by whitespace
 * alone; undefined otherwise (one value, or anything else between values, such as YAML's
 * `---`): such a text is read as YAML, of which a single JSON value is a document. A value
 * that never closes runs to the end of the text, so its own parse names where it opened.
 */
export function jsonStreamSpans(text: string): Span[] | undefined {
  const spans: Span[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && WHITESPACE.test(text[i])) i++;
    if (i >= text.length) break;
    if (text[i] !== '{' && text[i] !== '[') return undefined;
    const end = valueEnd(text, i);
    spans.push({ start: i, end });
    i = end;
  }
  return spans.length > 1 ? spans : undefined;
}
