// Empty documents (`---` and `...` lines, blank lines, comments) are counted without the YAML
// parser: 16 MiB of `---` lines took 16 s of CPU in it. What the user sees must not change:
// the objects read, the numbers of the documents and the lines that messages name. (What it
// costs is bench/manifest.ts's business; here, that the parser is not handed them.)
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseSources } from '../../pkg/manifest/load.js';
import { parseManifestText } from '../../pkg/manifest/parse.js';
import { refuse } from './manifest-refuse.js';
import { parsedChars } from './manifest-parsed-chars.js';

const node = (name: string) => `apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: ${name}\nspec: {}\n`;

afterEach(() => vi.restoreAllMocks());

describe('empty documents', () => {
  it('reads the object after a million empty documents as document 1 000 001, parsing only its part', () => {
    const text = `${'---\n'.repeat(1_000_000)}---\n${node('n1')}`;
    let loaded: ReturnType<typeof parseSources> = [];
    const chars = parsedChars(() => { loaded = parseSources([{ file: 'm.yaml', text }]); });
    expect(loaded.map((l) => [l.object.metadata.name, l.doc.document, l.doc.lineOf(['metadata', 'name'])])).toEqual([['n1', 1_000_001, 1_000_005]]);
    expect(chars).toBeLessThan(1000);
  });

  it('says "no objects found" for a file of a million `...` lines, parsing none of them', () => {
    const chars = parsedChars(() => expect(refuse('...\n'.repeat(1_000_000))).toEqual([{ file: 'm.yaml', reason: 'no objects found' }]));
    expect(chars).toBe(0);
  });

  it('names the document and line of a problem after many empty and comment-only documents', () => {
    const text = `# header\n${'---\n# nothing here\n\n'.repeat(200_000)}---\n${node('n1').replace('spec: {}', 'spec: {address: 300.1.1.1}')}`;
    const chars = parsedChars(() => {
      const [issue, ...rest] = refuse(text);
      expect(rest).toEqual([]);
      expect(issue).toMatchObject({ file: 'm.yaml', document: 200_001, line: 600_007, path: 'spec.address' });
    });
    expect(chars).toBeLessThan(1000);
  });

  it('reads CRLF empty documents between objects, numbering them as before', () => {
    const text = `${node('a')}${'---\r\n...\r\n'.repeat(100_000)}---\r\n${node('b').replace(/\n/g, '\r\n')}`;
    let loaded: ReturnType<typeof parseSources> = [];
    const chars = parsedChars(() => { loaded = parseSources([{ file: 'm.yaml', text }]); });
    expect(loaded.map((l) => [l.object.metadata.name, l.doc.document])).toEqual([['a', 1], ['b', 100_002]]);
    expect(chars).toBeLessThan(1000);
  });

  // JavaScript's multiline ^ also matches after a CR alone and after U+2028/U+2029, none of
  // which ends a line for the yaml package: a `---` after one is text of the line it is on.
  it('cuts no line at a `---` after a CR alone or a line or paragraph separator: values and numbers are one parse\'s', () => {
    for (const sep of ['\r', '\u2028', '\u2029']) {
      const text = `${node('a').replace('spec: {}', `spec: {}\nnote: |\n  x${sep}---\n# y${sep}---\n`)}---\n${node('b')}`;
      const stream = parseAllDocuments(text);
      const want = (Array.isArray(stream) ? stream : []).map((d, i) => [i + 1, d.toJS()]);
      expect(parseManifestText(text, 'm.yaml').docs.map((d) => [d.document, d.raw]), JSON.stringify(sep)).toEqual(want);
      expect(want.map(([n]) => n)).toEqual([1, 2]);
    }
  });

  it('names an anchor of a document before the empty ones as another document\'s', () => {
    const text = `${node('a').replace('spec: {}', 'spec: {}\nstatus: &s {}')}${'---\n'.repeat(3)}---\n${node('b').replace('spec: {}', 'spec: *s')}`;
    expect(refuse(text)).toMatchObject([{ document: 5, line: 15, path: 'spec', reason: expect.stringMatching(/^\*s: the anchor &s is set in document 1 \(line 6\)/) }]);
  });
});

/** every text of up to `n` lines drawn from `lines`, joined by "\n" */
function* texts(lines: string[], n: number, prefix: string[] = []): Generator<string> {
  yield prefix.join('\n');
  yield prefix.join('\n') + '\n';
  if (prefix.length < n) for (const l of lines) yield* texts(lines, n, [...prefix, l]);
}

describe('counting empty documents as the yaml package does', () => {
  it('numbers the objects and refused documents of every short text of markers, blanks, comments and objects as one parse of it would', () => {
    const lines = ['---', '--- # c', '---\t', '...', '... # c', '', '  ', '# c', '  # c', '---#c', '\t', 'x: 1', '--- {x: 1}'];
    for (const text of texts(lines, 3)) {
      const stream = parseAllDocuments(text);
      const docs = (Array.isArray(stream) ? stream : []).map((d, i) => ({ n: i + 1, d }));
      const want = { objects: docs.filter(({ d }) => !d.errors.length).map(({ n, d }) => [n, d.toJS()]).filter(([, v]) => v !== null), refused: docs.filter(({ d }) => d.errors.length).map(({ n }) => n) };
      const parsed = parseManifestText(text, 'm.yaml');
      const got = { objects: parsed.docs.map((d) => [d.document, d.raw]), refused: [...new Set(parsed.issues.map((i) => i.document))] };
      expect({ text, got }).toEqual({ text, got: want });
    }
  });
});
