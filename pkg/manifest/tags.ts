// Explicit YAML tags. The yaml library turns YAML 1.1's !!set, !!omap, !!pairs, !!binary and
// !!timestamp into a Set, a Map, bytes or a Date, none of which is a JSON value: `labels: !!set
// {a, b}` was stored as no labels at all, without a word. A tag it does not know (`!foo`,
// `!!js/function`, `!!python/object`) it reads as plain YAML with only a warning, which nothing
// showed. A manifest holds JSON's values, so any other tag is refused where it is written.
import { isMap, isPair, isSeq, type Document } from 'yaml';
import type { FieldIssue, FieldPath } from '../api/field-issue.js';
import { keyText, startOf } from './yaml-node.js';

const CORE = 'tag:yaml.org,2002:';
/** the tags of JSON's values, and `!` (non-specific: a plain string) */
const JSON_TAGS = new Set(['!', ...['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => CORE + t)]);

export interface TagIssue extends FieldIssue {
  /** where the tagged value starts in the document's text */
  offset: number;
}

const shown = (tag: string) => (tag.startsWith(CORE) ? `!!${tag.slice(CORE.length)}` : tag);

/**
 * Every value of the document with a tag other than JSON's, with its path (document-relative,
 * so a List's items start with items[i]). Walked with a stack: nesting as deep as the parser
 * takes must not overflow this one.
 */
export function unsupportedTags(doc: Document): TagIssue[] {
  const out: TagIssue[] = [];
  const stack: Array<{ node: unknown; path: FieldPath }> = [{ node: doc.contents, path: [] }];
  while (stack.length) {
    const { node, path } = stack.pop()!;
    const tag = (node as { tag?: string } | null)?.tag;
    if (tag && !JSON_TAGS.has(tag)) {
      out.push({ path, offset: startOf(node), message: `the tag ${shown(tag)} is not supported: a manifest holds only strings, numbers, booleans, null, mappings and lists; remove the tag` });
    }
    if (isSeq(node)) node.items.forEach((item, i) => stack.push({ node: item, path: [...path, i] }));
    if (!isMap(node)) continue;
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = keyText(pair.key);
      stack.push({ node: pair.value, path: [...path, key] }, { node: pair.key, path: [...path, key] });
    }
  }
  return out.sort((a, b) => a.offset - b.offset);
}
