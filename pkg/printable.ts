// Text that others wrote into etcd (a node's status, its events, its observed-state report) is
// printed on an admin's terminal by xctl. A control character in it (ESC, CR, a newline) could
// move the cursor, erase a line or add one, i.e. make `xctl get` show rows that are not there.
// Every such character is printed as an escape instead: one value stays one cell, one line.

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

// Unicode format characters (Cf: bidi overrides and isolates such as U+202E, zero-width
// characters, U+FEFF) and the line and paragraph separators reorder or hide what follows them
// on terminals that honour them: a cell "Conv\u202eegrev" reads as "Converged". They are
// escaped as well.
// eslint-disable-next-line no-control-regex
export const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\p{Cf}\u2028\u2029]/gu;

/** `text` with C0 controls, DEL, C1 controls and format characters escaped (`\n`, `\r`, `\u001b`, `\u009b`, `\u202e`). */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const cp = c.codePointAt(0)!;
    return SHORT[c] ?? (cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`);
  });
}
