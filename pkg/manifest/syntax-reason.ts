// The yaml library's wording for two syntax errors says too little: which key a "Map keys
// must be unique" is about (kubectl: `key "cidr" already set in map`), and that "Maximum call
// stack size exceeded" is nesting deeper than the parser can follow, not a crash of xctl.
import { isMap, isScalar, isSeq, type Document, type YAMLError } from 'yaml';
import type { FieldPath } from '../api/validate.js';

type LineOf = (offset: number) => number;

/** The reason to report for a syntax error of `doc`, and the field when it is about one; `lineOf` maps an offset to its line. */
export function syntaxReason(e: YAMLError, doc: Document, lineOf: LineOf): { reason: string; path?: FieldPath } {
  const reason = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  if (/Maximum call stack size exceeded/.test(reason)) {
    return { reason: 'nested too deeply to read (brackets or indentation hundreds of levels deep; no xnet object nests more than a few)' };
  }
  const dup = e.code === 'DUPLICATE_KEY' ? duplicateKeyAt(doc.contents, e.pos[0], []) : undefined;
  if (!dup) return { reason };
  return { reason: `key given twice (first at line ${lineOf(dup.first)}); keep one`, path: dup.path };
}

/** The path of the key that starts at `offset` in a map, and where the first key of the same name starts. */
function duplicateKeyAt(node: unknown, offset: number, path: FieldPath): { path: FieldPath; first: number } | undefined {
  if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const found = duplicateKeyAt(item, offset, [...path, i]);
      if (found) return found;
    }
  }
  if (!isMap(node)) return undefined;
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? pair.key : undefined;
    if (key?.range?.[0] === offset) {
      const first = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key.value));
      return { path: [...path, String(key.value)], first: (first?.key as { range?: number[] } | undefined)?.range?.[0] ?? offset };
    }
    const found = duplicateKeyAt(pair.value, offset, [...path, String(isScalar(pair.key) ? pair.key.value : pair.key)]);
    if (found) return found;
  }
  return undefined;
}
