// Text that others wrote into etcd (a node's status, its events, its observed-state report) is
// printed on an admin's terminal by xctl. A control character in it (ESC, CR, a newline) could
// move the cursor, erase a line or add one, i.e. make `xctl get` show rows that are not there.
// Every such character is printed as an escape instead: one value stays one cell, one line.

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** `text` with C0 controls, DEL and C1 controls escaped (`\n`, `\r`, `\u001b`, `\u009b`). */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
