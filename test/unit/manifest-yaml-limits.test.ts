// What a manifest's YAML can cost to read, and how a refusal says where: aliases that stand
// for too many values, nesting too deep for the parser, a key given twice.
import { describe, expect, it, vi } from 'vitest';
import { Alias, parseDocument } from 'yaml';
import { aliasExpansionOverflow } from '../../pkg/manifest/aliases.js';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSources, readSources } from '../../pkg/manifest/load.js';
import { refuse } from './manifest-refuse.js';

const node = (name: string) => `{apiVersion: xnet.io/v1alpha1, kind: Node, metadata: {name: ${name}}, spec: {}}`;

describe('YAML aliases', () => {
  it('reads a List of 150 items that share one anchor through merge keys', () => {
    const items = Array.from({ length: 149 }, (_, i) => `- {<<: *d, metadata: {name: n${i + 1}}}`);
    const text = `apiVersion: v1\nkind: List\nitems:\n- &d ${node('n0')}\n${items.join('\n')}\n`;
    const loaded = parseSources([{ file: 'm.yaml', text }]);
    expect(loaded.map((l) => l.object.metadata.name)).toEqual(Array.from({ length: 150 }, (_, i) => `n${i}`));
  });

  it('reads a List of 500 items sharing one anchor, looking up no alias by walking the document', () => {
    // the bound's check looked each alias up with Alias.resolve(doc), a walk of the whole
    // document per alias: quadratic, 37 s for a List of 4 000 (what it costs is bench material;
    // that the check makes no such walk is what is asserted here, by the spy, at any length)
    const items = Array.from({ length: 499 }, (_, i) => `- <<: *d\n  metadata: {name: n${i + 1}, labels: {a: b, c: d}}`);
    const text = `apiVersion: v1\nkind: List\nitems:\n- &d\n  apiVersion: xnet.io/v1alpha1\n  kind: Node\n  metadata: {name: n0}\n  spec: {address: 10.0.0.1}\n${items.join('\n')}\n`;
    const resolve = vi.spyOn(Alias.prototype, 'resolve');
    try {
      expect(aliasExpansionOverflow(parseDocument(text, { merge: true }))).toBeUndefined();
      expect(resolve).not.toHaveBeenCalled();
    } finally {
      resolve.mockRestore();
    }
    expect(parseSources([{ file: 'm.yaml', text }])).toHaveLength(500);
  });

  it('counts an alias by the anchor last defined before it, as YAML resolves it', () => {
    // at a lowered bound of 10 000 (the billion laughs below are refused at xctl's own): five
    // uses of the big one (2 501 values each) pass it, as the text without the small one shows
    const big = `[${Array(2_500).fill('1').join(',')}]`;
    const uses = 'uses: [*a, *a, *a, *a, *a]';
    const bigOnly = `${node('n1').slice(0, -1)}, status: {big: &a ${big}, ${uses}}}\n`;
    expect(aliasExpansionOverflow(parseDocument(bigOnly), 10_000)).toBe(bigOnly.lastIndexOf('*a, *a'));
    // &a is redefined small before the uses: 5 uses of 1 value stay within the bound
    const text = `${node('n1').slice(0, -1)}, status: {big: &a ${big}, small: &a 1, ${uses}}}\n`;
    expect(aliasExpansionOverflow(parseDocument(text), 10_000)).toBeUndefined();
    expect(parseSources([{ file: 'm.yaml', text }])).toHaveLength(1);
  });

  it('refuses a "billion laughs" at the alias where the values pass the limit', () => {
    let text = 'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let i = 1; i < 10; i++) text += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
    const [issue, ...rest] = refuse(text);
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({ file: 'm.yaml', document: 1, line: 7 });
    expect(issue.reason).toMatch(/aliases up to here stand for more than 1000000 values/);
  });

  it('refuses a few uses of one huge anchor before reading it into memory', () => {
    // 100 000 values each: the 10th use (line 14) passes the bound of a million, though the
    // yaml package's own guard lets an anchor be used 100 times
    const big = `[${Array(100_000).fill('1').join(',')}]`;
    const uses = Array.from({ length: 11 }, (_, i) => `  b${i}: *a`).join('\n');
    const [issue] = refuse(`${node('n1').slice(0, -1)}, status: {}}\n---\nstatus:\n  a: &a ${big}\n${uses}\n`);
    expect(issue).toMatchObject({ document: 2, line: 14, reason: expect.stringMatching(/more than 1000000 values/) });
  });
});

describe('syntax errors say which field', () => {
  it('names a key given twice, with the line of its first copy', () => {
    const text = 'apiVersion: xnet.io/v1alpha1\nkind: ClusterNetwork\nmetadata:\n  name: net1\nspec:\n  cidr: 10.76.0.0/16\n  hostPrefix: 24\n  cidr: 10.77.0.0/16\n';
    expect(refuse(text)).toEqual([{ file: 'm.yaml', document: 1, line: 8, column: 3, path: 'spec.cidr', reason: 'key given twice (first at line 6); keep one' }]);
  });

  it('names a key given twice in an item of a List', () => {
    const text = `apiVersion: v1\nkind: List\nitems:\n- ${node('n0')}\n- apiVersion: xnet.io/v1alpha1\n  kind: Node\n  metadata: {name: n1, labels: {a: b, a: c}}\n`;
    expect(refuse(text)[0]).toMatchObject({ line: 7, path: 'items[1].metadata.labels.a', reason: 'key given twice (first at line 7); keep one' });
  });

  it('names keys that differ in YAML but are one field once read (1 and \'1\')', () => {
    const text = `apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: n1\n  labels:\n    1: a\n    '1': b\nspec: {}\n`;
    expect(refuse(text)[0]).toMatchObject({ line: 7, path: 'metadata.labels.1', reason: 'key given twice (first at line 6); keep one' });
  });

  it('finds a key given twice in a mapping of 100 000 keys, comparing no key with every other', () => {
    // the parser's own check compared each key with all before it: 40 000 keys took 18 s and
    // 400 000 (a 6 MB file) hours; this test times out while that is so
    const keys = Array.from({ length: 100_000 }, (_, i) => `    k${i}: v\n`).join('');
    const text = `apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: n1\n  annotations:\n${keys}    k7: again\n`;
    expect(refuse(text)).toEqual([{ file: 'm.yaml', document: 1, line: 100_006, column: 5, path: 'metadata.annotations.k7', reason: 'key given twice (first at line 13); keep one' }]);
  });

  it('names the line of each of 100 000 bad label keys, looking each up in an index of its mapping', () => {
    // each issue's line was found by a search of the mapping's pairs: 80 000 keys took 50 s,
    // 100 000 (quadratic) over 75; this test times out while that is so
    const keys = Array.from({ length: 100_000 }, (_, i) => `    _k${i}: v\n`).join('');
    const issues = refuse(`apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: n1\n  labels:\n${keys}`);
    expect(issues).toHaveLength(100_000);
    expect(issues.every((i, k) => i.line === k + 6 && i.path === `metadata.labels._k${k}`)).toBe(true);
  });

  it('names a second merge key (<<) in a mapping as a key given twice (several maps merge as <<: [*a, *b])', () => {
    const text = 'apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: n1\n  labels:\n    <<: {a: b}\n    <<: {c: d}\n';
    expect(refuse(text)).toMatchObject([{ line: 7, path: 'metadata.labels.<<', reason: 'key given twice (first at line 6); keep one' }]);
  });

  it('says that nesting thousands of levels deep is too deep, not that the stack overflowed', () => {
    const n = 5000;
    const [issue] = refuse(`${node('n1').slice(0, -1)}, status: {x: ${'['.repeat(n)}${']'.repeat(n)}}}\n`);
    expect(issue).toMatchObject({ file: 'm.yaml', document: 1, line: 1 });
    expect(issue.reason).toMatch(/^nested more than 100 levels deep/);
  });
});

describe('numbers and booleans YAML 1.1 and 1.2 read differently', () => {
  const cn = (extra: string) => `apiVersion: xnet.io/v1alpha1\nkind: ClusterNetwork\nmetadata:\n  name: net1\nspec:\n  cidr: 10.76.0.0/16\n${extra}`;

  it('refuses a number with a leading zero instead of storing one of its two readings', () => {
    expect(refuse(cn('  hostPrefix: 030\n'))).toEqual([expect.objectContaining({ line: 7, path: 'spec.hostPrefix',
      reason: "must be a number, not a string; a leading zero is ambiguous (YAML 1.1, kubectl's, takes 030 as octal 24; YAML 1.2 as 30): write the number without it" })]);
  });

  it('says 09 (no octal) reads as 9 in both, and still asks for it without the zero', () => {
    expect(refuse(cn('  hostPrefix: 09\n'))[0].reason).toBe("must be a number, not a string; a leading zero is ambiguous (YAML 1.1, kubectl's, reads 09 as 9; YAML 1.2 as 9): write the number without it");
  });

  it('keeps a label value with a leading zero as written', () => {
    const [l] = parseSources([{ file: 'm.yaml', text: 'apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: n1\n  labels: {rack: 010}\n' }]);
    expect(l.object.metadata.labels).toEqual({ rack: '010' });
  });

  it.each([
    ['  hostPrefix: "24"\n', 'spec.hostPrefix', '; write it as the number 24, unquoted'],
    ['  hostPrefix: 24\n  mtu: 1_500\n', 'spec.mtu', '; write it as the number 1500, unquoted'],
    ['  hostPrefix: 24\n  masquerade: yes\n', 'spec.masquerade', '; write true (YAML 1.2 reads yes as a string)'],
    ['  hostPrefix: 24\n  masquerade: off\n', 'spec.masquerade', '; write false (YAML 1.2 reads off as a string)'],
    ['  hostPrefix: 24\n  masquerade: "true"\n', 'spec.masquerade', '; write true, unquoted'],
  ])('says how to write %j', (extra, path, hint) => {
    const [issue] = refuse(cn(extra));
    expect(issue.path).toBe(path);
    expect(issue.reason.endsWith(hint)).toBe(true);
  });

  it('reads 0x18 and 0o30 as 24, as both YAML versions do', () => {
    for (const v of ['0x18', '0o30']) expect(parseSources([{ file: 'm.yaml', text: cn(`  hostPrefix: ${v}\n`) }])[0].object.spec).toMatchObject({ hostPrefix: 24 });
  });
});

describe('byte order marks', () => {
  it('reads a document that starts with a byte order mark after ---, as YAML allows', () => {
    const doc = (name: string) => `\uFEFFapiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: ${name}\n`;
    const loaded = parseSources([{ file: 'm.yaml', text: `${doc('n1').slice(1)}---\r\n${doc('n2')}--- # joined\n${doc('n3')}` }]);
    expect(loaded.map((l) => l.object.metadata.name)).toEqual(['n1', 'n2', 'n3']);
  });
});

describe('kind: List', () => {
  it('refuses items that are not a list at items, not as an unknown kind', () => {
    expect(refuse('apiVersion: v1\nkind: List\nitems: {a: 1}\n')).toEqual([{ file: 'm.yaml', document: 1, line: 3, path: 'items', reason: 'must be a list of objects' }]);
  });

  it('reads a List without items as empty, as kubectl does', () => {
    expect(refuse('apiVersion: v1\nkind: List\n')).toEqual([{ file: 'm.yaml', reason: 'no objects found' }]);
  });
});

describe('-f DIR', () => {
  it('reads no link to a subdirectory, as it reads no subdirectory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xctl-dir-'));
    try {
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub', 'x.yaml'), 'kind: Node\n');
      writeFileSync(join(dir, 'a.yaml'), 'apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata: {name: n1}\n');
      symlinkSync('sub', join(dir, 'sub.yaml'));
      expect((await readSources([dir])).map((s) => s.file)).toEqual([join(dir, 'a.yaml')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
