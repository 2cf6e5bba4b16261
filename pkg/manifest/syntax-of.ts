// Whether a document was written as JSON or YAML, so that the hints on its values are in its
// own syntax (pkg/api/value-hints.ts). YAML reads JSON too, so the parse alone does not say.
import { isCollection, type Document } from 'yaml';
import type { ManifestSyntax } from '../api/validate.js';

/**
 * JSON when the file says so (a `.json` name, or a stream of JSON values) or when the
 * document's text is a JSON value (`get -o json | apply -f -` on stdin); YAML otherwise.
 */
export function documentSyntax(doc: Document, text: string, jsonFile: boolean): ManifestSyntax {
  if (jsonFile) return 'json';
  const c = doc.contents;
  // a block collection is no JSON; only a flow one ({...} or [...]) is worth parsing
  if (!isCollection(c) || !c.flow || !c.range) return 'yaml';
  try {
    JSON.parse(text.slice(c.range[0], c.range[1]));
    return 'json';
  } catch {
    return 'yaml';
  }
}
