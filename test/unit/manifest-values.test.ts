// Values a manifest's YAML can hold that are no JSON value, or that a map cannot keep: refused
// at their line and field, instead of being stored changed (a label map written as a !!set was
// stored as no labels; a "__proto__" label or annotation was left out without a word).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadReferences, parseSources } from '../../pkg/manifest/load.js';
import { refuse } from './manifest-refuse.js';

const H = 'apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: n1\n';
const NOT_JSON = 'a manifest holds only strings, numbers, booleans, null, mappings and lists';

describe('YAML tags', () => {
  it('refuses a tag whose value is no JSON value (!!set, !!omap, !!binary, !!timestamp) at its line and field', () => {
    const issues = refuse(`${H}  labels: !!set {a, b}\n  annotations:\n    o: !!omap [{a: b}]\n    b: !!binary aGk=\n    t: !!timestamp 2001-12-14\n`);
    expect(issues.map((i) => [i.line, i.path, i.reason])).toEqual([
      [5, 'metadata.labels', `the tag !!set is not supported: ${NOT_JSON}; remove the tag`],
      [7, 'metadata.annotations.o', `the tag !!omap is not supported: ${NOT_JSON}; remove the tag`],
      [8, 'metadata.annotations.b', `the tag !!binary is not supported: ${NOT_JSON}; remove the tag`],
      [9, 'metadata.annotations.t', `the tag !!timestamp is not supported: ${NOT_JSON}; remove the tag`],
    ]);
    expect(issues.every((i) => i.document === 1 && i.object === 'node/n1')).toBe(true);
  });

  it('refuses a tag the reader does not know (!foo, !!js/function), which it would read as plain YAML', () => {
    const issues = refuse(`${H}  annotations:\n    f: !!js/function 'function () {}'\n    g: !foo bar\n`);
    expect(issues.map((i) => [i.line, i.path, i.reason.split(':')[0]])).toEqual([
      [6, 'metadata.annotations.f', 'the tag !!js/function is not supported'],
      [7, 'metadata.annotations.g', 'the tag !foo is not supported'],
    ]);
  });

  // the walks share how a key names a field (pkg/manifest/yaml-node.ts): a merge key is `<<`
  // there, as in duplicate keys and anchors; this walk read it as "Symbol(<<)" and the path
  // printed lost it (metadata.labels.a)
  it('names a tag under a merge key by the key as written, <<', () => {
    const issues = refuse(`${H}  labels:\n    <<: {a: !!binary aGk=}\n`);
    expect(issues[0]).toMatchObject({ path: 'metadata.labels.<<.a', reason: expect.stringContaining('the tag !!binary') });
  });

  it('names a tagged item of a List by its items[i] path', () => {
    const issues = refuse(`apiVersion: v1\nkind: List\nitems:\n- {apiVersion: xnet.io/v1alpha1, kind: Node, metadata: {name: a}}\n- apiVersion: xnet.io/v1alpha1\n  kind: Node\n  metadata: {name: b, labels: !!set {x}}\n`);
    expect(issues).toMatchObject([{ line: 7, path: 'items[1].metadata.labels', reason: expect.stringContaining('the tag !!set') }]);
  });

  it('reads the tags of JSON\'s values as YAML 1.2 does (!!str, !!int, the non-specific !)', () => {
    const [l] = parseSources([{ file: 'm.yaml', text: `${H}  labels: !!map {a: !!str 12, b: ! 34}\n` }]);
    expect(l.object.metadata.labels).toEqual({ a: '12', b: '34' });
  });

  it('leaves delete -f to read the name of a document whose labels carry a tag (it checks only what names the object)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xctl-tags-'));
    try {
      writeFileSync(join(dir, 'm.yaml'), `${H}  labels: !!set {a}\n`);
      expect(await loadReferences([join(dir, 'm.yaml')])).toEqual([{ kind: 'Node', name: 'n1' }]);
      writeFileSync(join(dir, 'm.yaml'), `apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: !!binary bjE=\n`);
      await expect(loadReferences([join(dir, 'm.yaml')])).rejects.toThrow(/m\.yaml:4:.*metadata\.name: the tag !!binary is not supported/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a key named __proto__', () => {
  it('is refused in labels, annotations and matchLabels, at its line (a map would leave it out)', () => {
    const mv = 'apiVersion: xnet.io/v1alpha1\nkind: MacvlanNet\nmetadata:\n  name: m1\n  annotations:\n    __proto__: x\n    constructor: y\n' +
      'spec:\n  subnet: 192.168.50.0/24\n  parent: eth0\n  nodeSelector:\n    matchLabels: {"__proto__": a}\n';
    const issues = refuse(mv);
    expect(issues.map((i) => [i.line, i.path, i.reason])).toEqual([
      [6, 'metadata.annotations.__proto__', 'a key named "__proto__" cannot be stored (a map would leave it out); rename or remove it'],
      [12, 'spec.nodeSelector.matchLabels.__proto__', 'a key named "__proto__" cannot be stored (a map would leave it out); rename or remove it'],
    ]);
    expect(refuse(`${H}  labels:\n    __proto__: x\n`)).toMatchObject([{ line: 6, path: 'metadata.labels.__proto__' }]);
  });

  it('is refused once where only named fields are allowed', () => {
    expect(refuse(`${H}  __proto__: {a: b}\n`)).toMatchObject([{ line: 5, path: 'metadata.__proto__' }]);
  });
});

describe('addresses written the way another tool reads them', () => {
  const cn = (cidr: string) => `apiVersion: xnet.io/v1alpha1\nkind: ClusterNetwork\nmetadata:\n  name: c1\nspec:\n  cidr: "${cidr}"\n  hostPrefix: 24\n`;
  const node = (address: string) => `${H}spec:\n  address: "${address}"\n`;

  it('say that IPv6 is not supported, not that a prefix is too long', () => {
    expect(refuse(cn('fd00::/64'))).toMatchObject([{ line: 6, path: 'spec.cidr', reason: 'not an IPv4 address in dotted-quad form; IPv6 is not supported (every xnet address is IPv4)' }]);
    expect(refuse(node('::ffff:10.0.0.1'))).toMatchObject([{ path: 'spec.address', reason: 'must be an IPv4 address such as 10.76.1.84; IPv6 is not supported (every xnet address is IPv4)' }]);
    expect(refuse(cn('10.0.0.0/33'))).toMatchObject([{ reason: 'prefix length must be 0..32' }]);
  });

  it('name an octet with a leading zero, which some tools read as octal', () => {
    const octal = 'an octet with a leading zero is octal to some tools (inet_aton reads 010 as 8)';
    expect(refuse(node('010.1.1.1'))).toMatchObject([{ reason: `must be an IPv4 address such as 10.76.1.84; ${octal}: write 10.1.1.1 if that is what was meant` }]);
    expect(refuse(cn('010.76.0.0/16'))).toMatchObject([{ reason: `not an IPv4 address in dotted-quad form; ${octal}: write 10.76.0.0 if that is what was meant` }]);
  });
});
