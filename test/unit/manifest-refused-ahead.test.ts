// A document that will pass the bound on its values has its read entries let go before it is
// refused (refused-ahead.ts): a 16 MiB `- 1` list peaked near 760 MB while the parser held a
// million entries. What the user sees must not change: the same problem at the same line, the
// depth bound first when it comes first, and a large document within the bound read whole.
// (Memory is bench/manifest.ts's business; here, how many entries the parser holds.)
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Parser } from 'yaml';
import { formatIssue } from '../../pkg/manifest/errors.js';
import { parseSources } from '../../pkg/manifest/load.js';
import { refuse } from './manifest-refuse.js';

const BOUNDS = { values: 20_000, depth: 10 };
const list = (n: number) => '- 1\n'.repeat(n);

/** the most entries one collection on the yaml parser's stack held when `run` ended (the parser is let go after) */
function heldEntries(run: () => void): number {
  const next = vi.spyOn(Parser.prototype, 'next');
  try {
    run();
    // one instance per call: the same few parsers, many times
    const parsers = new Set(next.mock.instances as unknown as Parser[]);
    let most = 0;
    for (const p of parsers) for (const t of p.stack) most = Math.max(most, (t as { items?: unknown[] }).items?.length ?? 0);
    return most;
  } finally {
    next.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('a document that will pass the bound on its values', () => {
  it('is refused at the same line, holding a few thousand of its 10 000 entries at most', () => {
    let issues: string[] = [];
    const held = heldEntries(() => { issues = refuse(`apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata: {name: x}\n---\na:\n${list(20_000)}`, 'm.yaml', BOUNDS).map(formatIssue); });
    expect(issues).toEqual(['m.yaml:10005:1: document 2: more than 20000 keys, values and list entries in one document (a generated or corrupted file?); split it']);
    expect(held).toBeLessThan(2_000);
  });

  it('is refused at the depth bound when it passes it first, as before', () => {
    const text = `a:\n${list(2_000)}- [[[[[[[[[[[1]]]]]]]]]]]\n${list(20_000)}`;
    expect(refuse(text, 'm.yaml', BOUNDS).map(formatIssue)).toEqual([expect.stringMatching(/^m\.yaml:2002:\d+: document 1: nested more than 10 levels deep/)]);
  });

  it('reads the documents after it, numbered and placed as before', () => {
    const text = `a:\n${list(20_000)}---\napiVersion: xnet.io/v1alpha1\nkind: Nod\n`;
    expect(refuse(text, 'm.yaml', BOUNDS).map(formatIssue)).toEqual([
      expect.stringMatching(/^m\.yaml:10001:1: document 1: more than 20000 keys/),
      expect.stringMatching(/^m\.yaml:20004: document 2 \(nod\/\)|m\.yaml:20004: document 2: kind: unknown kind "Nod"/),
    ]);
  });

  it('reads a large document within the bound whole (the look ahead finds it ends in time)', () => {
    const nodes = (p: string) => Array.from({ length: 1_000 }, (_, i) => `- {apiVersion: xnet.io/v1alpha1, kind: Node, metadata: {name: ${p}${i}}}\n`).join('');
    const loaded = parseSources([{ file: 'm.yaml', text: `apiVersion: v1\nkind: List\nitems:\n${nodes('a')}---\nkind: List\nitems:\n${nodes('b')}` }], BOUNDS);
    expect(loaded.length).toBe(2_000);
    expect(loaded.at(-1)!.doc).toMatchObject({ document: 2 });
    expect(loaded.at(-1)!.doc.lineOf(['metadata', 'name'])).toBe(2_006);
  });
});
