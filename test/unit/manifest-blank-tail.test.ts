// The empty lines that end a part of a manifest are not handed to the YAML parser (blank-tail.ts):
// one object followed by 16 MiB of them took 13 s and 1.7 GB. What the user sees must not
// change: the object, its document number and the lines messages name. (The time and memory
// are bench/manifest.ts's business; here, that the parser is not handed the padding.)
import { describe, expect, it } from 'vitest';
import { parseSources } from '../../pkg/manifest/load.js';
import { parseManifestText } from '../../pkg/manifest/parse.js';
import { formatIssue } from '../../pkg/manifest/errors.js';
import { refuse } from './manifest-refuse.js';
import { parsedChars } from './manifest-parsed-chars.js';

const node = (name: string, spec = '{}') => `apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: ${name}\nspec: ${spec}\n`;
const PADDING = '\n'.repeat(1_000_000);

describe('empty lines at the end of a part', () => {
  it('reads one object followed by a million empty lines, without parsing them', () => {
    const text = node('n0') + PADDING;
    let loaded: ReturnType<typeof parseSources> = [];
    const chars = parsedChars(() => { loaded = parseSources([{ file: 'm.yaml', text }]); });
    expect(loaded.map((l) => [l.object.metadata.name, l.doc.document, l.doc.lineOf(['metadata', 'name']), l.doc.lineOf(['spec'])])).toEqual([['n0', 1, 4, 5]]);
    expect(chars).toBe(node('n0').length);
  });

  it('names the line of a problem before the padding, and the document and line of one after it', () => {
    const text = `${node('a', '{podCIDR: x}')}${PADDING}---\n${node('b', '{nope: 1}')}${PADDING}`;
    const chars = parsedChars(() => {
      expect(refuse(text).map(formatIssue)).toEqual([
        expect.stringMatching(/^m\.yaml:5: document 1 \(node\/a\): spec\.podCIDR: unknown field/),
        expect.stringMatching(/^m\.yaml:1000011: document 2 \(node\/b\): spec\.nope: unknown field/),
      ]);
    });
    expect(chars).toBeLessThan(2 * node('a', '{podCIDR: x}').length + 10);
  });

  it('reports an unclosed bracket followed by padding where it opened', () => {
    const text = `a: [1,\n${'\n'.repeat(1000)}`;
    const { issues } = parseManifestText(text, 'm.yaml');
    expect(issues.map((i) => [i.line, i.reason])).toEqual([[1, expect.stringMatching(/^Flow sequence must end with a \] \(opened here\)$/)]]);
  });

  it('keeps the empty lines of a block scalar with keep chomping (|+): they are its value', () => {
    const text = `kind: x\na: |+\n  x\n\n\n${'\n'.repeat(1000)}`;
    const { docs } = parseManifestText(text, 'm.yaml');
    expect(docs.map((d) => (d.raw as { a: string }).a)).toEqual([`x\n\n\n${'\n'.repeat(1000)}`]);
  });

  it('keeps a line of spaces after a literal block scalar: deeper than the value, it is part of it', () => {
    const { docs } = parseManifestText(`a: |\n  x\n     \n${'\n'.repeat(100)}`, 'm.yaml');
    expect(docs.map((d) => d.raw)).toEqual([{ a: 'x\n   \n' }]);
  });

  it('says where reading stopped at the end of the padding after the 1000th refused document, as before', () => {
    const text = `kind: Nod\n\n\n---\n`.repeat(1000);
    const { stopped } = parseManifestText(text, 'm.yaml', () => false);
    expect(stopped).toMatchObject({ document: 1000, line: 4000 });
  });
});
