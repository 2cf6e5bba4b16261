// A file is read no further once 1 000 of its documents are refused: 16 MiB of refused
// documents meant millions of messages (and minutes, or a crash out of memory, before them).
// What the user sees: the problems of the first 1 000, then where reading stopped.
import { describe, expect, it, vi } from 'vitest';
import { Parser } from 'yaml';
import { parseSources } from '../../pkg/manifest/load.js';
import { MAX_REFUSED_DOCUMENTS, STOPPED_READING } from '../../pkg/manifest/refused-documents.js';
import { refuse } from './manifest-refuse.js';

const node = (name: string) => `apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: ${name}\nspec: {}\n`;
const documentsNamed = (issues: { document?: number }[]) => new Set(issues.map((i) => i.document)).size;

describe('a file with many refused documents', () => {
  it('is read up to its 1 000th refused document, then says where it stopped', () => {
    const issues = refuse('a: 1\n---\n'.repeat(5000));
    expect(MAX_REFUSED_DOCUMENTS).toBe(1000);
    expect(issues[0]).toMatchObject({ file: 'm.yaml', document: 1, line: 1, path: 'apiVersion', reason: 'is required (use xnet.io/v1alpha1)' });
    expect(issues.at(-1)).toEqual({ file: 'm.yaml', document: 1000, line: 2000, reason: STOPPED_READING });
    expect(documentsNamed(issues)).toBe(1000);
  });

  it('stops the same way in a JSON stream', () => {
    const issues = refuse('{}\n'.repeat(3000));
    expect(issues.at(-1)).toMatchObject({ document: 1000, reason: STOPPED_READING });
    expect(documentsNamed(issues)).toBe(1000);
  });

  it('stops at documents refused for their syntax, parsing no further than it read', () => {
    const next = vi.spyOn(Parser.prototype, 'next');
    try {
      const issues = refuse('a: [\n---\n'.repeat(100_000));
      expect(issues[0]).toMatchObject({ document: 1, line: 1, column: 4, reason: 'Flow sequence must end with a ] (opened here)' });
      expect(issues.at(-1)).toMatchObject({ document: 1000, line: 2000, reason: STOPPED_READING });
      expect(documentsNamed(issues)).toBe(1000);
      // the documents read and the search for their unclosed brackets: a few tokens each, not
      // the 100 000 documents' (the search parsed the whole text at the first error)
      expect(next.mock.calls.length).toBeLessThan(20 * 1000);
    } finally {
      next.mockRestore();
    }
  });

  it('reads on while fewer are refused, whatever the number of valid documents', () => {
    const docs = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 && i < 2997 ? `kind: Node\nmetadata: {name: x${i}}\n` : node(`n${i}`)));
    const issues = refuse(docs.join('---\n'));
    expect(issues.some((i) => i.reason === STOPPED_READING)).toBe(false);
    expect(documentsNamed(issues)).toBe(999);
    expect(issues.at(-1)).toMatchObject({ document: 2995 });
  });

  it('counts a List with many refused items as one refused document', () => {
    const items = Array.from({ length: 1500 }, (_, i) => `- {kind: Node, metadata: {name: x${i}}}`).join('\n');
    const issues = refuse(`apiVersion: v1\nkind: List\nitems:\n${items}\n---\n${node('after')}`);
    expect(issues.some((i) => i.reason === STOPPED_READING)).toBe(false);
    expect(issues.filter((i) => i.path === 'items[1499].apiVersion')).toHaveLength(1);
  });

  it('still accepts a file of many valid documents', () => {
    const docs = Array.from({ length: 2500 }, (_, i) => node(`n${i}`));
    expect(parseSources([{ file: 'm.yaml', text: docs.join('---\n') }])).toHaveLength(2500);
  });
});
