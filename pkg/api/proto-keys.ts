// A key named "__proto__". A mapping read from YAML or JSON holds it as a key of its own, but a
// map schema (labels, annotations, matchLabels) leaves it out of what it returns without an
// issue (setting it on an object would set the object's prototype), so such a label or
// annotation was accepted and not stored. It is refused at its path instead, wherever it is.
import type { FieldIssue, FieldPath } from './field-issue.js';

export const PROTO_KEY = '__proto__';
const MESSAGE = `a key named "${PROTO_KEY}" cannot be stored (a map would leave it out); rename or remove it`;

/** Every own "__proto__" key in `raw`, at any depth; walked with a stack, as deep as the reader nests. */
export function protoKeyIssues(raw: unknown): FieldIssue[] {
  const out: FieldIssue[] = [];
  const stack: Array<{ v: unknown; path: FieldPath }> = [{ v: raw, path: [] }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, path: [...path, i] }));
    else if (v !== null && typeof v === 'object') {
      if (Object.prototype.hasOwnProperty.call(v, PROTO_KEY)) out.push({ path: [...path, PROTO_KEY], message: MESSAGE });
      for (const [k, x] of Object.entries(v)) if (k !== PROTO_KEY) stack.push({ v: x, path: [...path, k] });
    }
  }
  return out;
}
