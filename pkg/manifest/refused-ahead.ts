// A document that will pass the bound on its values, found before the parser has built it.
// The parser keeps a document's whole syntax tree until the document ends: a 16 MiB document
// of `- 1` lines held a million list entries (about 580 bytes each) when its 2 000 000th value
// refused it, and the process peaked near 760 MB. Once a document is large (TRIGGER_SHARE of
// the bound), a second lexer reads on to the document's end, counting as document-bounds.ts
// counts; when the count will pass the bound, the document will be refused whatever follows,
// and the entries the parser no longer looks at (all but the last two of each open
// collection) are let go as it goes. The parser still reads every lexeme, so the document is
// refused at the same place and for the same reason (the depth bound may come first) as before.
import { CST, Lexer } from 'yaml';

/** look ahead once a document holds this share of the bound (125 000 values): at most one more lexing of the text, and only of large documents */
export const TRIGGER_SHARE = 1 / 16;

/** counted as document-bounds.ts counts: whether the lexeme is a key, value or entry, or a document's start or end */
export type Kind = (lexeme: string, scalarText: boolean) => 'counted' | 'document' | undefined;

/**
 * Whether the document being read will pass `max` values: `read` lexemes are read, `values` of
 * them counted in this document. One lexer for the whole text, never rewound: the next document
 * asks from further on.
 */
export function willPassBound(text: string, kind: Kind): (read: number, values: number, max: number) => boolean {
  // made when first asked: most texts hold no document large enough to ask
  let lexemes: Generator<string> | undefined;
  let at = 0;
  let scalarText = false;
  const next = () => {
    const r = (lexemes ??= new Lexer().lex(text)).next();
    if (r.done) return undefined;
    at++;
    const k = kind(r.value, scalarText);
    scalarText = r.value === CST.SCALAR;
    return k ?? 'other';
  };
  return (read, values, max) => {
    while (at < read) if (next() === undefined) return false;
    for (let k = next(); k !== undefined; k = next()) {
      if (k === 'document') return false;
      if (k === 'counted' && ++values > max) return true;
    }
    return false;
  };
}

/** Lets go the entries of the parser's open collections that it no longer looks at (it reads the last two). */
export function dropReadEntries(stack: CST.Token[]): void {
  for (const token of stack) {
    const items = (token as { items?: unknown[] }).items;
    if (items && items.length > 2) items.splice(0, items.length - 2);
  }
}
