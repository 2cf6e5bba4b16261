// How much of a text the yaml package is handed: the characters its Lexer reads (every parse
// of a manifest goes through Lexer.lex, in document-bounds.ts; Parser.parse is not called).
import { vi } from 'vitest';
import { Lexer } from 'yaml';

/** the number of characters the yaml package's Lexer is handed while `run` runs */
export function parsedChars(run: () => void): number {
  const lex = vi.spyOn(Lexer.prototype, 'lex');
  try {
    run();
    return lex.mock.calls.reduce((n, [source]) => n + source.length, 0);
  } finally {
    lex.mockRestore();
  }
}
