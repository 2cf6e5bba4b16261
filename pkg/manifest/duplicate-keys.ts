// A key given twice in one mapping. The yaml library's own check compares each key with every
// key before it (40 000 keys took 18 s; the 400 000 of a 6 MB file, hours), and its error
// names neither the key nor the first copy. This finds them in one pass, a set of keys per
// mapping, with the path and where the first copy is.
import { isMap, isPair, isSeq, type Document } from 'yaml';
import type { FieldPath } from '../api/field-issue.js';
import { keyText, startOf } from './yaml-node.js';

export interface DuplicateKey {
  path: FieldPath;
  /** offsets of the second copy's key and of the first's */
  offset: number;
  first: number;
}

/**
 * Keys that name the same field once read as JSON: `1` and `'1'` (or `true` and `"true"`) are
 * both the key "1", and one value would be lost without a word; so are two merge keys (`<<`:
 * merge several maps with `<<: [*a, *b]`). Walked with a stack, as deep as the parser nests.
 */
export function duplicateKeys(doc: Document): DuplicateKey[] {
  const out: DuplicateKey[] = [];
  const stack: Array<{ node: unknown; path: FieldPath }> = [{ node: doc.contents, path: [] }];
  while (stack.length) {
    const { node, path } = stack.pop()!;
    if (isSeq(node)) node.items.forEach((item, i) => stack.push({ node: item, path: [...path, i] }));
    if (!isMap(node)) continue;
    const seen = new Map<string, number>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = keyText(pair.key);
      stack.push({ node: pair.value, path: [...path, key] });
      const first = seen.get(key);
      if (first === undefined) seen.set(key, startOf(pair.key));
      else out.push({ path: [...path, key], offset: startOf(pair.key), first });
    }
  }
  return out.sort((a, b) => a.offset - b.offset);
}
