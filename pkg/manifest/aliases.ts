// YAML aliases: `*a` stands for everything `&a` holds, so a few lines can stand for billions of
// values ("billion laughs"). The yaml library's own guard counts uses of an anchor (100), which
// refuses a List of 101 items sharing `<<: *defaults` yet lets 99 uses of an anchor of a
// million values through (a 3 MB file read as 100 million values: gigabytes, then a crash).
// What matters is how many values the aliases stand for, so that is what is bounded, as
// kubectl's YAML reader bounds it (about 400 000 decoded values before it looks at aliases).
import { isAlias, isMap, isPair, isScalar, isSeq, visit, type Alias, type Document } from 'yaml';

/** At most this many values may come from aliases in one document. */
export const MAX_ALIAS_VALUES = 1_000_000;

/**
 * The offset of the alias at which the values the document's aliases stand for pass `limit`,
 * in the order they appear; undefined when they stay within it.
 */
export function aliasExpansionOverflow(doc: Document, limit = MAX_ALIAS_VALUES): number | undefined {
  const targets = aliasTargets(doc);
  const sizes = new Map<unknown, number>();
  const size = (node: unknown): number => {
    if (node === null || node === undefined || isScalar(node)) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    sizes.set(node, 1);   // an alias inside its own anchor counts once, not forever
    let n = 1;
    if (isAlias(node)) n = size(targets.get(node));
    else if (isPair(node)) n = size(node.key) + size(node.value);
    else if (isMap(node) || isSeq(node)) for (const item of node.items) n += size(item);
    sizes.set(node, n);
    return n;
  };
  let total = 0;
  let at: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      total += size(node);
      if (total <= limit) return undefined;
      at = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return at;
}

/**
 * Each alias's anchored node: the last node before it with that anchor, found in one pass in
 * document order. Alias.resolve(doc) walks the whole document for every alias, which made this
 * check quadratic (a List of 4 000 items sharing `<<: *defaults` took 37 s).
 */
function aliasTargets(doc: Document): Map<Alias, unknown> {
  const anchors = new Map<string, unknown>();
  const out = new Map<Alias, unknown>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) out.set(node, anchors.get(node.source));
      else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  return out;
}
