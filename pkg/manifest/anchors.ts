// An alias names an anchor set before it in its own document (YAML 1.2, 7.1); an anchor of an
// earlier document is out of reach. The yaml library refused such an alias with "Unresolved
// alias" at the document's first line, or, under a merge key (`<<: *defaults`), with "Merge
// sources must be maps or map aliases": neither said that anchors do not cross documents, nor
// where the alias is. This finds each such alias, with its field path, before the document is
// read, and the anchors each document sets, so that the message can name where one was.
import { isAlias, isMap, isPair, isSeq, type Document } from 'yaml';
import type { FieldPath } from '../api/field-issue.js';
import { keyText, startOf } from './yaml-node.js';

export interface UnresolvedAlias {
  /** the anchor's name, as written after `*` */
  name: string;
  offset: number;
  path: FieldPath;
}

/**
 * The aliases of the document whose anchor is not set before them in it, in document order,
 * and the offset of the first node each anchor of the document is set on. Walked with a stack,
 * in document order, as deep as the parser nests.
 */
export function documentAnchors(doc: Document): { unresolved: UnresolvedAlias[]; anchors: Map<string, number> } {
  const anchors = new Map<string, number>();
  const unresolved: UnresolvedAlias[] = [];
  const stack: Array<{ node: unknown; path: FieldPath }> = [{ node: doc.contents, path: [] }];
  while (stack.length) {
    const { node, path } = stack.pop()!;
    if (isAlias(node)) {
      if (!anchors.has(node.source)) unresolved.push({ name: node.source, offset: startOf(node), path });
      continue;
    }
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (anchor && !anchors.has(anchor)) anchors.set(anchor, startOf(node));
    // pushed last first, so that they are met in the order they are written
    if (isSeq(node)) for (let i = node.items.length - 1; i >= 0; i--) stack.push({ node: node.items[i], path: [...path, i] });
    if (!isMap(node)) continue;
    for (let i = node.items.length - 1; i >= 0; i--) {
      const pair = node.items[i];
      if (!isPair(pair)) continue;
      stack.push({ node: pair.value, path: [...path, keyText(pair.key)] }, { node: pair.key, path });
    }
  }
  return { unresolved, anchors };
}

/** Where an anchor was set in an earlier document of the file. */
export interface EarlierAnchor { document: number; line: number }

/** Why the alias cannot be read, naming the earlier document's anchor of that name when there is one. */
export function unresolvedReason(a: UnresolvedAlias, earlier: EarlierAnchor | undefined): string {
  if (!earlier) return `*${a.name}: no anchor &${a.name} is set before it in this document; set one (&${a.name}) on the value to repeat`;
  return `*${a.name}: the anchor &${a.name} is set in document ${earlier.document} (line ${earlier.line}), and anchors do not cross documents: ` +
    'write the values here, or put both objects in one List and share the anchor there';
}
