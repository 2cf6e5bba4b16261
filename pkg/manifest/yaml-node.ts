// What the manifest's walks over a YAML syntax tree (duplicate-keys.ts, anchors.ts, tags.ts)
// read of a node the same way: a mapping key as the field name it becomes, and where a node
// starts in the file's text.
import { isScalar } from 'yaml';

/** A mapping key as it names a field; a merge key's value is a symbol: `<<` as written. */
export const keyText = (key: unknown): string => (isScalar(key) ? (typeof key.value === 'symbol' ? '<<' : String(key.value)) : String(key));

/** The node's offset in its file's text (0 when the parser gave it no range). */
export const startOf = (node: unknown): number => (node as { range?: number[] } | null)?.range?.[0] ?? 0;
