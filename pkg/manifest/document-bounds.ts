// How much one YAML document may hold. The yaml package composes a whole document into a tree
// before xctl can look at it: one 16 MiB document of `[1,1,1,...]`, of `- 1` lines or of
// `[[[[...` is 4 to 8 million nodes, and `xctl apply -f` was killed by V8 (out of memory, after
// a minute). The parser's tokens (its CST, which the composer consumes) are counted as they are
// read instead, and a document is refused at the token that passes a bound, before any of it
// is composed. The bounds are far above real manifests: a List of 20 000 ContainerNics (4.6 MiB)
// is about 840 000 counted tokens and 7 levels deep.
import { CST, Lexer, Parser } from 'yaml';
import { dropReadEntries, TRIGGER_SHARE, willPassBound, type Kind } from './refused-ahead.js';

type Token = CST.Token;

/** At most this many keys, values and list entries (the tokens COUNTED) in one document. */
export const MAX_DOCUMENT_VALUES = 2_000_000;
/** At most this many collections open inside one another (the parser's stack) in one document. */
export const MAX_DOCUMENT_DEPTH = 100;

export interface DocumentBounds { values: number; depth: number }
export const DOCUMENT_BOUNDS: DocumentBounds = { values: MAX_DOCUMENT_VALUES, depth: MAX_DOCUMENT_DEPTH };

/** The tokens that become a node or an entry of one: a key or value, an alias, a collection, an entry. */
const COUNTED = new Set<string>(['scalar', 'single-quoted-scalar', 'double-quoted-scalar', 'alias',
  'flow-map-start', 'flow-seq-start', 'seq-item-ind', 'explicit-key-ind', 'map-value-ind', 'comma']);

/** Where in the text a document passed a bound, and why it is refused. */
export interface BoundCrossed { offset: number; reason: string }

const tooMany = (n: number) => `more than ${n} keys, values and list entries in one document (a generated or corrupted file?); split it`;
const tooDeep = (n: number) => `nested more than ${n} levels deep (a generated or corrupted file?); no xnet object nests more than a few`;

/**
 * The CST tokens of `text`, as Parser.parse yields them, ending before the document that passes
 * a bound; where and why is then set in `found.crossed`. The documents before it are whole.
 * Parser.parse's own loop, with each lexeme counted before the parser takes it.
 */
export function* boundedTokens(text: string, found: { crossed?: BoundCrossed }, bounds = DOCUMENT_BOUNDS): Generator<Token, void> {
  const parser = new Parser();
  const willPass = willPassBound(text, kindOf);
  const trigger = Math.max(1, Math.floor(bounds.values * TRIGGER_SHARE));
  let values = 0;
  let read = 0;
  let doomed: boolean | undefined;   // whether this document will pass bounds.values; undefined: not asked yet
  let scalarText = false;   // the lexeme is a plain scalar's text (after the lexer's SCALAR mark)
  try {
    for (const lexeme of new Lexer().lex(text)) {
      read++;
      const counted = kindOf(lexeme, scalarText) === 'counted';
      scalarText = lexeme === CST.SCALAR;
      if (counted && ++values > bounds.values) {
        found.crossed = { offset: parser.offset, reason: tooMany(bounds.values) };
        return;
      }
      if (counted && values === trigger) doomed = willPass(read, values, bounds.values);
      for (const token of parser.next(lexeme)) {
        if (token.type === 'document') {
          // a document whose entries were let go is refused before it ends (refused-ahead.ts)
          if (doomed) throw new Error('internal error: a document expected to pass the bound on its values ended within it');
          values = 0;   // the next document counts from zero
          doomed = undefined;
        }
        yield token;
      }
      if (doomed && read % 1024 === 0) dropReadEntries(parser.stack);
      if (parser.stack.length > bounds.depth) {
        found.crossed = { offset: parser.offset, reason: tooDeep(bounds.depth) };
        return;
      }
    }
    yield* parser.end();
  } catch (e) {
    // the parser's own recursion (closing thousands of collections at once) is nesting too
    if (!(e instanceof RangeError)) throw e;
    found.crossed = { offset: parser.offset, reason: tooDeep(bounds.depth) };
  }
}

/** how document-bounds.ts counts a lexeme (refused-ahead.ts counts the same way ahead) */
const kindOf: Kind = (lexeme, scalarText) => {
  const type = scalarText ? undefined : CST.tokenType(lexeme);
  if (type === 'doc-start' || type === 'doc-end') return 'document';
  return type && COUNTED.has(type) ? 'counted' : undefined;
};
