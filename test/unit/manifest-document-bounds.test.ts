// One YAML document too large to read: the shapes that made `xctl apply -f` run out of memory
// (V8 aborted it) while the yaml package composed millions of nodes are refused, with the file,
// document and line where a bound was passed, before any node is made; a real List is read.
import { describe, expect, it } from 'vitest';
import { parseSources } from '../../pkg/manifest/load.js';
import { boundedTokens, type BoundCrossed, MAX_DOCUMENT_DEPTH, MAX_DOCUMENT_VALUES } from '../../pkg/manifest/document-bounds.js';
import { refuse } from './manifest-refuse.js';

/** 16 MiB (what xctl reads of one file at most) of `unit` after `head`: the shapes that crashed */
const MIB16 = 16 * 1024 * 1024 - 64;
const fill = (unit: string, head: string, tail = '') => head + unit.repeat(Math.floor((MIB16 - head.length - tail.length) / unit.length)) + tail;

const tooMany = (n: number) => new RegExp(`^more than ${n} keys, values and list entries in one document \\(a generated or corrupted file\\?\\); split it$`);
const TOO_MANY = tooMany(MAX_DOCUMENT_VALUES);
const TOO_DEEP = new RegExp(`^nested more than ${MAX_DOCUMENT_DEPTH} levels deep`);

const V = 'apiVersion: xnet.io/v1alpha1';
const nic = (i: number) => `- ${V}\n  kind: ContainerNic\n  metadata:\n    name: nic-${i}\n    labels: {app: web, tier: front}\n  spec:\n    node: host-${i % 50}\n    container: c${i}\n    ifName: eth1\n    network: {clusterNetwork: default}\n    ip: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`;

describe('a document too large to read', () => {
  it('refuses one huge flow sequence at the value that passes the bound', () => {
    const issues = refuse(fill('1,', 'a: [', '1]\n'));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: 'm.yaml', document: 1, line: 1 });
    expect(issues[0].reason).toMatch(TOO_MANY);
  }, 60_000);

  it('refuses one huge block sequence at the line that passes the bound', () => {
    // within a lowered bound: at xctl's own, the same shape is two million tokens to read (13 s
    // of the suite's CPU); the huge flow sequence above shows the bound xctl uses is enforced.
    // Each `- 1` line is two counted tokens: the 10 000th line holds the 20 000th and 20 001st.
    const bounds = { values: 20_000, depth: MAX_DOCUMENT_DEPTH };
    const issues = refuse(`a:\n${'- 1\n'.repeat(12_000)}`, 'm.yaml', bounds);
    expect(issues).toEqual([{ file: 'm.yaml', document: 1, line: 10_001, column: 1, reason: expect.stringMatching(tooMany(20_000)) }]);
  });

  it('refuses very deep flow nesting at the bracket that passes the bound', () => {
    const issues = refuse('['.repeat(MIB16 / 2) + ']'.repeat(MIB16 / 2));
    expect(issues).toEqual([{ file: 'm.yaml', document: 1, line: 1, column: MAX_DOCUMENT_DEPTH + 1, reason: expect.stringMatching(TOO_DEEP) }]);
  });

  it('refuses deep block nesting at its line', () => {
    const text = Array.from({ length: 150 }, (_, i) => `${' '.repeat(i)}a${i}:`).join('\n') + ' 1\n';
    const [issue] = refuse(`---\n${V}\nkind: Node\nmetadata: {name: n1}\n---\n${text}`);
    // a0 is on line 5; the parser opens a key's nested mapping at the key of the line after it
    expect(issue).toMatchObject({ file: 'm.yaml', document: 2, line: 5 + MAX_DOCUMENT_DEPTH });
    expect(issue.reason).toMatch(TOO_DEEP);
  });

  it('reads on at the next --- line, numbering the documents after the one refused', () => {
    const bounds = { values: 1000, depth: MAX_DOCUMENT_DEPTH };
    const huge = `a: [${'1,'.repeat(bounds.values)}1]\n`;
    const text = `${V}\nkind: Node\nmetadata: {name: n1}\n---\n${huge}---\n${V}\nkind: Node\nmetadata: {name: n2}\n---\n${V}\nkind: Nod\nmetadata: {name: n3}\n`;
    const issues = refuse(text, 'm.yaml', bounds);
    expect(issues.map((i) => [i.document, i.line])).toEqual([[2, 5], [4, 12]]);
    expect(issues[0].reason).toMatch(tooMany(1000));
  });

  it('reads on after a ... line too, which ends the document as YAML says: the next one is numbered and placed right', () => {
    const bounds = { values: 1000, depth: MAX_DOCUMENT_DEPTH };
    const huge = `a: [${'1,'.repeat(bounds.values)}1]\n`;
    const bad = (name: string) => `${V}\nkind: Nod\nmetadata: {name: ${name}}\n`;
    // document 3 follows the ... without a --- (a bare document), document 4 after a ---
    const bare = `${V}\nkind: Node\nmetadata: {name: n1}\n---\n${huge}...\n${bad('n2')}---\n${bad('n3')}`;
    expect(refuse(bare, 'm.yaml', bounds).map((i) => [i.document, i.line])).toEqual([[2, 5], [3, 8], [4, 12]]);
    // a --- right after the ... starts the next document: one, not an empty one before it
    const started = `${huge}... # end\n---\n${bad('n2')}`;
    expect(refuse(started, 'm.yaml', bounds).map((i) => [i.document, i.line])).toEqual([[1, 1], [2, 5]]);
    // a ... that does not start its line is no marker: reading goes on at the ---
    const indented = `${huge}  ...\n${bad('n2')}---\n${bad('n3')}`;
    expect(refuse(indented, 'm.yaml', bounds).map((i) => [i.document, i.line])).toEqual([[1, 1], [2, 8]]);
  });

  it('stops counting at each document: many documents under the bound are read', () => {
    const doc = `${V}\nkind: Node\nmetadata: {name: nNAME, labels: {${Array.from({ length: 50 }, (_, i) => `k${i}: v`).join(', ')}}}\n`;
    const found: { crossed?: BoundCrossed } = {};
    const text = Array.from({ length: 100 }, (_, i) => doc.replace('NAME', String(i))).join('---\n');
    expect([...boundedTokens(text, found, { values: 400, depth: 10 })].filter((t) => t.type === 'document')).toHaveLength(100);
    expect(found.crossed).toBeUndefined();
    expect(parseSources([{ file: 'm.yaml', text }])).toHaveLength(100);
  });

  it('bounds by the values given: a lowered bound refuses at its own count', () => {
    const found: { crossed?: BoundCrossed } = {};
    // c, :, [, 1, `,` and 2 (at offset 16) are the 6th token of the second document
    const tokens = [...boundedTokens(`a: b\n---\nc: [1, 2, 3, 4, 5, 6]\n`, found, { values: 5, depth: 10 })];
    expect(tokens.map((t) => t.type)).toEqual(['document']);
    expect(found.crossed).toEqual({ offset: 16, reason: expect.stringMatching(/^more than 5 keys/) });
  });

  it('reads a List of 10 000 ContainerNics (2.3 MiB) in one document', () => {
    const text = `apiVersion: v1\nkind: List\nitems:\n${Array.from({ length: 10_000 }, (_, i) => nic(i)).join('')}`;
    const loaded = parseSources([{ file: 'm.yaml', text }]);
    expect(loaded).toHaveLength(10_000);
    expect(loaded[9_999].object.metadata.name).toBe('nic-9999');
  }, 60_000);
});
