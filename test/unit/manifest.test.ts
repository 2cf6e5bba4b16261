// Manifest parsing: every refusal names file, document (1-based), line, field path and why.
import { describe, expect, it, vi } from 'vitest';
import { Parser } from 'yaml';
import { checkAgainstStore, parseSources } from '../../pkg/manifest/load.js';
import { formatIssue, ManifestError, type ManifestIssue } from '../../pkg/manifest/errors.js';
import { validateObject } from '../../pkg/api/validate.js';
import type { AnyObject } from '../../pkg/api/types.js';
import { refuse, refuseAll } from './manifest-refuse.js';

const CN = `apiVersion: xnet.io/v1alpha1
kind: ClusterNetwork
metadata:
  name: default
spec:
  cidr: 10.76.0.0/16
  hostPrefix: 24
`;
/** CN with its Docker network named (a ClusterNetwork called default needs one): one line more at its end */
const CN_NET = CN.replace('  hostPrefix: 24\n', '  hostPrefix: 24\n  dockerNetwork: net1\n');
const NODE = `apiVersion: xnet.io/v1alpha1
kind: Node
metadata: {name: host-1}
spec: {address: 198.18.0.11}
`;

// [case, text, document, line, path, reason]
const bad: [string, string, number, number, string, RegExp][] = [
  ['bad field in the third document', `${CN}---\n${NODE}---
apiVersion: xnet.io/v1alpha1
kind: ContainerNic
metadata:
  name: test-eth1
spec:
  node: host-1
  container: test
  ifName: eth1
  network:
    clusterNetwork: Default
`, 3, 23, 'spec.network.clusterNetwork', /DNS-1123/],
  ['unknown field names its own line', `${CN}  cidrs: [1]\n`, 1, 8, 'spec.cidrs', /unknown field/],
  ['missing required field points at the parent', `apiVersion: xnet.io/v1alpha1
kind: HostSubnet
metadata:
  name: hs
spec:
  clusterNetwork: default
`, 1, 5, 'spec.node', /required/],
  ['list element', `apiVersion: xnet.io/v1alpha1
kind: MacvlanNet
metadata: {name: m}
spec:
  subnet: 198.19.200.0/24
  exclude:
    - 198.19.200.10/31
    - 198.19.201.0/31
`, 1, 8, 'spec.exclude[1]', /not inside subnet/],
  ['cross-field rule', `apiVersion: xnet.io/v1alpha1
kind: ContainerNic
metadata: {name: n}
spec:
  node: host-1
  container: test
  ifName: eth1
  network: {}
`, 1, 8, 'spec.network', /exactly one network/],
  ['YAML syntax error', `${CN}---\nkind: [Node\nmetadata: x\n`, 2, 9, '', /Flow sequence|must be sufficiently indented|end with a \]/],
  ['duplicate key', `${CN}  cidr: 10.0.0.0/8\n`, 1, 8, 'spec.cidr', /key given twice \(first at line 6\)/],
  ['wrong kind', `apiVersion: xnet.io/v1alpha1\nkind: Pod\nmetadata: {name: p}\n`, 1, 2, 'kind', /unknown kind "Pod"/],
  ['scalar document', `${CN}---\njust a string\n`, 2, 9, '', /must be a mapping/],
];

describe('parseSources', () => {
  it.each(bad)('%s', (_, text, document, line, path, why) => {
    const issues = refuse(text);
    const i = issues.find((x) => (x.path ?? '') === path);
    expect(i, JSON.stringify(issues)).toBeDefined();
    expect(i).toMatchObject({ file: 'm.yaml', document, line });
    expect(i!.reason).toMatch(why);
  });

  it('reads multi-document YAML, skipping empty documents, and numbers documents in the stream', () => {
    const got = parseSources([{ file: 'a.yaml', text: `---\n${CN_NET}---\n# only a comment\n---\n${NODE}` }]);
    expect(got.map((g) => [g.object.kind, g.doc.document])).toEqual([['ClusterNetwork', 1], ['Node', 3]]);
  });

  it('reads YAML merge keys (<<: *anchor), as kubectl does', () => {
    // an anchor lives in its document: a List whose second NIC takes the first one's spec
    const text = `apiVersion: v1\nkind: List\nitems:\n- apiVersion: xnet.io/v1alpha1\n  kind: ContainerNic\n  metadata: {name: web-eth1}\n  spec: &web\n    node: host-1\n    container: web\n    ifName: eth1\n    network: {clusterNetwork: default}\n` +
      `- apiVersion: xnet.io/v1alpha1\n  kind: ContainerNic\n  metadata: {name: web-eth2}\n  spec:\n    <<: *web\n    ifName: eth2\n`;
    const got = parseSources([{ file: 'm.yaml', text }]);
    expect(got.map((g) => g.object.spec)).toEqual([
      expect.objectContaining({ node: 'host-1', container: 'web', ifName: 'eth1' }),
      expect.objectContaining({ node: 'host-1', container: 'web', ifName: 'eth2', network: { clusterNetwork: 'default' } }),
    ]);
  });

  it('reads JSON and a JSON List, naming items[i] in errors', () => {
    const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'a' }, spec: {} },
      { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'b' }, spec: { address: 'x' } },
    ] }, null, 2);
    const issues = refuse(list, 'l.json');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: 'l.json', document: 1, path: 'items[1].spec.address', object: 'node/b' });
    expect(list.split('\n')[issues[0].line! - 1]).toContain('"address": "x"');
    const ok = parseSources([{ file: 'l.json', text: list.replace('"x"', '"198.18.0.12"') }]);
    expect(ok.map((o) => o.object.metadata.name)).toEqual(['a', 'b']);
  });

  it('reports problems of every document and file at once', () => {
    try {
      parseSources([{ file: 'a.yaml', text: `${CN.replace('24', '40')}---\n${NODE.replace('198.18.0.11', 'x')}` }, { file: 'b.yaml', text: 'kind: Nope\n' }]);
      throw new Error('accepted');
    } catch (e) {
      const issues = (e as ManifestError).issues;
      expect(issues.map((i) => `${i.file}#${i.document}:${i.path}`)).toEqual(['a.yaml#1:spec.hostPrefix', 'a.yaml#2:spec.address', 'b.yaml#1:apiVersion', 'b.yaml#1:kind']);
      expect((e as Error).message).toContain('4 problems');
    }
  });

  it('refuses duplicates across files, at the second one, naming where the first one is', () => {
    const issues = refuseAll([{ file: 'a.yaml', text: CN_NET }, { file: 'b.yaml', text: `# c\n${NODE}---\n${CN_NET}` }]);
    expect(issues).toEqual([expect.objectContaining({ file: 'b.yaml', document: 2, line: 10, path: 'metadata.name', object: 'clusternetwork/default' })]);
    // line 4 of a.yaml is the first copy's "  name: default"
    expect(formatIssue(issues[0])).toBe('b.yaml:10: document 2 (clusternetwork/default): metadata.name: ClusterNetwork "default" is already defined at a.yaml:4: document 1; keep one');
  });

  it('refuses a duplicate also when either copy has a problem of its own, in the same run', () => {
    // a trial fixed the typo, ran again, and only then learnt of the second copy
    const typo = CN_NET.replace('hostPrefix', 'hostPrefx');
    for (const [first, second] of [[typo, CN_NET], [CN_NET, typo], [typo, typo]]) {
      const issues = refuseAll([{ file: 'a.yaml', text: `${first}---\n${second}` }]);
      expect(issues.map((i) => `${i.document}:${i.path}`).sort(), `${first === typo}/${second === typo}`)
        .toEqual([...(first === typo ? ['1:spec.hostPrefx'] : []), '2:metadata.name', ...(second === typo ? ['2:spec.hostPrefx'] : [])].sort());
      expect(issues.find((i) => i.path === 'metadata.name')?.reason).toBe('ClusterNetwork "default" is already defined at a.yaml:4: document 1; keep one');
    }
  });

  it('names the first copy of a duplicate in the same file, and an item of a List by its path', () => {
    const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'a' }, spec: {} },
      { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'a' }, spec: {} },
    ] }, null, 2);
    const inList = refuse(list, 'l.json');
    expect(inList).toHaveLength(1);
    expect(inList[0]).toMatchObject({ document: 1, path: 'items[1].metadata.name' });
    const firstLine = list.split('\n').findIndex((l) => l.includes('"name": "a"')) + 1;
    expect(inList[0].reason).toBe(`Node "a" is already defined at l.json:${firstLine}: document 1: items[0]; keep one`);
    const twice = refuse(`${NODE}---\n${NODE}`);
    expect(formatIssue(twice[0])).toBe('m.yaml:8: document 2 (node/host-1): metadata.name: Node "host-1" is already defined at m.yaml:3: document 1; keep one');
  });

  it('refuses input without objects', () => {
    expect(() => parseSources([{ file: 'e.yaml', text: '# nothing\n' }])).toThrow(/no objects found/);
  });

  it('formats an issue as file:line: document N (kind/name): path: reason', () => {
    expect(formatIssue({ file: 'a.yaml', document: 3, line: 14, path: 'spec.ip', object: 'containernic/x', reason: 'is bad' }))
      .toBe('a.yaml:14: document 3 (containernic/x): spec.ip: is bad');
  });
});

describe('rules across the fields of one object', () => {
  const where = (issues: ManifestIssue[]) => issues.map((i) => `${i.line} ${i.path}: ${i.reason}`);

  it('run even when another field of the object is invalid, so one run reports every problem', () => {
    const issues = refuse(`apiVersion: xnet.io/v1alpha1
kind: MacvlanNet
metadata: {name: m}
spec:
  subnet: 198.19.200.0/24
  vlan: 5000
  exclude:
    - 198.19.201.0/31
`);
    expect(where(issues)).toEqual(['6 spec.vlan: must be <= 4094', '8 spec.exclude[0]: 198.19.201.0/31 is not inside subnet 198.19.200.0/24']);
    const cn = refuse(`${CN}  cidrs: [1]\n  reserved: [10.99.0.0/24]\n`);
    expect(where(cn)).toEqual([
      expect.stringMatching(/^8 spec\.cidrs: unknown field/),
      '9 spec.reserved[0]: 10.99.0.0/24 is not inside cidr 10.76.0.0/16',
    ]);
  });

  it('do not run on a field that did not decode: its own error is the one reported', () => {
    const issues = refuse(`apiVersion: xnet.io/v1alpha1
kind: HostSubnet
metadata: {name: hs}
spec:
  node: host-1
  clusterNetwork: default
  subnet: 10.76.1.1/24
  gateway: 10.99.0.1
`);
    expect(issues.map((i) => i.path)).toEqual(['spec.subnet']);
  });
});

describe('checkAgainstStore', () => {
  it('maps a cross-object problem back to the file, document and line', () => {
    const loaded = parseSources([{ file: 'n.yaml', text: `${NODE}---
apiVersion: xnet.io/v1alpha1
kind: ContainerNic
metadata: {name: b}
spec:
  node: host-1
  container: test
  ifName: eth1
  network: {clusterNetwork: default}
  ip: 10.76.1.84
` }]);
    const cn = validateObject({ apiVersion: 'xnet.io/v1alpha1', kind: 'ClusterNetwork', metadata: { name: 'default' }, spec: { cidr: '10.76.0.0/16', hostPrefix: 24, dockerNetwork: 'net1' } }).object!;
    const other = { ...validateObject({ apiVersion: 'xnet.io/v1alpha1', kind: 'ContainerNic', metadata: { name: 'a' }, spec: { node: 'host-2', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'default' } } }).object!, status: { ip: '10.76.1.84' } } as AnyObject;
    try {
      checkAgainstStore(loaded, [cn, other]);
      throw new Error('accepted');
    } catch (e) {
      expect((e as ManifestError).issues).toEqual([expect.objectContaining({ file: 'n.yaml', document: 2, line: 14, path: 'spec.ip', object: 'containernic/b' })]);
      expect((e as Error).message).toMatch(/already used by ContainerNic "a"/);
    }
  });
});

describe('an unclosed quote or bracket', () => {
  const issuesOf = (text: string): ManifestIssue[] => {
    try { parseSources([{ file: 'm.yaml', text }]); } catch (e) { return (e as ManifestError).issues; }
    return [];
  };
  const cn = (name: string) => `apiVersion: xnet.io/v1alpha1\nkind: ClusterNetwork\nmetadata:\n  name: ${name}\nspec:\n  cidr: 10.0.0.0/16\n  hostPrefix: 24\n`;

  it('is reported where it opened, not at the end of the file', () => {
    // the quote opens on line 4 of a 13-line file; the parser runs out of input at its end
    const quote = issuesOf(`${cn('"default')}---\n${cn('other')}`);
    expect(quote).toHaveLength(1);
    expect(formatIssue(quote[0])).toBe('m.yaml:4:9: document 1: Missing closing "quote (opened here)');
    // a flow sequence opened on line 8 of the third document (line 24 of the file)
    const flow = issuesOf(`${cn('a')}---\n${cn('b')}---\n${cn('c').replace('hostPrefix: 24', 'hostPrefix: 24\n  reserved: [10.0.0.0/24, 10.0.1.0/24')}x: 1\n`);
    expect(flow[0]).toMatchObject({ document: 3, line: 24, column: 13 });
    expect(flow[0].reason).toMatch(/\(opened here\)$/);
  });

  it('is found in its own document when many are, in one parse of the file for them all', () => {
    // the search parsed the whole file again for each error: 5 000 of them (270 KB) kept
    // xctl busy for more than ten minutes; and it took the first opening in the file, in
    // whichever document, for every error after it
    const docs = Array.from({ length: 40 }, (_, i) => `kind: Node\nmetadata: {name: n${i}, labels: {a: [}\n`);
    const parse = vi.spyOn(Parser.prototype, 'parse');
    try {
      const issues = issuesOf(docs.join('---\n'));
      expect(issues.length).toBeGreaterThanOrEqual(40);
      // document i starts on line 3i + 1; its bracket on the line after
      for (const i of issues) expect(i.line, `document ${i.document}`).toBe(3 * (i.document! - 1) + 2);
      // the documents' own parse and the one search
      expect(parse.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      parse.mockRestore();
    }
  });

  it('is reported once, at the innermost opening never closed, not again at the collection around it', () => {
    // `[` is never closed: the `}` after it is read as part of the sequence, so the map is
    // unclosed only because of it; both were reported at the map's `{`
    const inner = issuesOf('{a: [}\n');
    expect(inner.map((i) => [i.line, i.column, i.reason])).toEqual([[1, 5, 'Flow sequence must end with a ] (opened here)']]);
    const nested = issuesOf(`${cn('n')}  reserved: [10.0.0.0/24, {a: 1]\n`);
    expect(nested.map((i) => [i.line, i.column, i.reason])).toEqual([[8, 27, 'Flow map must end with a } (opened here)']]);
    const quoted = issuesOf('{a: ["x, 1]}\n');
    expect(quoted.map((i) => [i.line, i.column, i.reason])).toEqual([[1, 6, 'Missing closing "quote (opened here)']]);
  });

  it('leaves other syntax errors where the parser found them', () => {
    const tab = issuesOf(`${cn('t')}\tbad: 1\n`);
    expect(tab[0]).toMatchObject({ line: 8 });
    expect(tab[0].reason).not.toMatch(/opened here/);
  });
});

describe('a JSON stream (JSON values one after another, as `get -w -o json` and `jq` print)', () => {
  const node = (name: string, spec: object = {}) => ({ apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name }, spec });

  it('is one document per value, compact or pretty-printed, a List among them', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [node('c'), node('d')] };
    const text = `${JSON.stringify(node('a'))}\n${JSON.stringify(node('b'), null, 2)}\n  ${JSON.stringify(list)}{"apiVersion":"xnet.io/v1alpha1","kind":"Node","metadata":{"name":"e","annotations":{"n":"}{[\\"]"}},"spec":{}}`;
    const got = parseSources([{ file: 's.json', text }]);
    expect(got.map((g) => [g.object.metadata.name, g.doc.document])).toEqual([['a', 1], ['b', 2], ['c', 3], ['d', 3], ['e', 4]]);
  });

  it('names the file, line and document of a value that is refused', () => {
    const text = [node('a'), node('b'), node('c', { address: 'x' })].map((n) => JSON.stringify(n)).join('\n') + '\n';
    const issues = refuse(text, 's.json');
    expect(issues.map(formatIssue)).toEqual(['s.json:3: document 3 (node/c): spec.address: must be an IPv4 address such as 10.76.1.84']);
  });

  it('reports a syntax error once, in its own value, and an unclosed value where it opened', () => {
    const text = `${JSON.stringify(node('a'))}\n{"apiVersion": "xnet.io/v1alpha1" "kind": "Node"}\n${JSON.stringify(node('c'))}\n`;
    const issues = refuse(text, 's.json');
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.every((i) => i.document === 2 && i.line === 2), JSON.stringify(issues)).toBe(true);
    const unclosed = refuse(`${JSON.stringify(node('a'))}\n\n{"apiVersion": "xnet.io/v1alpha1",\n "kind": "Node"\n`, 's.json');
    expect(unclosed).toHaveLength(1);
    expect(unclosed[0]).toMatchObject({ document: 2, line: 3, column: 1 });
    expect(unclosed[0].reason).toMatch(/opened here/);
  });

  it('is not taken for a JSON object followed by YAML documents, which stay YAML', () => {
    const got = parseSources([{ file: 'm.yaml', text: `${JSON.stringify(node('a'))}\n---\n${NODE}` }]);
    expect(got.map((g) => [g.object.metadata.name, g.doc.document])).toEqual([['a', 1], ['host-1', 2]]);
  });
});

describe('null fields, read as absent (as kubectl reads them)', () => {
  it('are left out: labels with every entry commented out, an empty spec, a null entry deeper down', () => {
    const got = parseSources([{ file: 'm.yaml', text: `apiVersion: xnet.io/v1alpha1
kind: Node
metadata:
  name: n
  labels:
    # rack: r1
  annotations: {a: "1", b: null}
spec:
---
apiVersion: xnet.io/v1alpha1
kind: MacvlanNet
metadata: {name: m}
spec:
  subnet: 198.19.200.0/24
  gateway:
  nodes: [{name: host-1, parent: null}]
` }]);
    expect(got[0].object.metadata).toEqual({ name: 'n', annotations: { a: '1' } });
    expect(got[0].object.spec).toEqual({});
    const m = got[1].object as Extract<AnyObject, { kind: 'MacvlanNet' }>;
    expect(m.spec.gateway).toBeUndefined();
    expect(m.spec.nodes).toEqual([{ name: 'host-1' }]);
  });

  it('still report a required field that is null as missing, at its own line', () => {
    const issues = refuse(`apiVersion: xnet.io/v1alpha1
kind: ClusterNetwork
metadata:
  name:
spec:
  cidr: 10.76.0.0/16
  hostPrefix:
---
apiVersion: xnet.io/v1alpha1
kind: HostSubnet
metadata: {name: hs}
spec:
`);
    expect(issues.map(formatIssue)).toEqual([
      'm.yaml:4: document 1: metadata.name: is required (string)',
      'm.yaml:7: document 1: spec.hostPrefix: is required (number)',
      'm.yaml:12: document 2 (hostsubnet/hs): spec: is required (object)',
    ]);
  });

  it('are kept as list entries, where null is a value the schema refuses', () => {
    const issues = refuse(`${CN}  reserved: [null]\n`);
    expect(issues.map((i) => `${i.line} ${i.path}`)).toEqual(['8 spec.reserved[0]']);
  });
});

describe('several problems', () => {
  it('are listed in the order a reader meets them: files as named, then document and line', () => {
    // as the cross-object checks find them: grouped by the NIC each conflicts with
    const found = [
      { file: 'b.yaml', document: 1, line: 4, reason: 'b1' },
      { file: 'a.yaml', document: 4, line: 20, reason: 'a4' },
      { file: 'a.yaml', document: 7, line: 35, reason: 'a7' },
      { file: 'a.yaml', document: 5, line: 25, reason: 'a5' },
      { file: 'a.yaml', reason: 'a, no place' },
      { file: 'a.yaml', document: 5, line: 25, reason: 'a5 again' },
    ];
    const e = new ManifestError(found);
    expect(e.issues.map((i) => i.reason)).toEqual(['b1', 'a4', 'a5', 'a5 again', 'a7', 'a, no place']);
    expect(e.message.split('\n').slice(1, 3)).toEqual(['  b.yaml:4: document 1: b1', '  a.yaml:20: document 4: a4']);
    // the files in the order -f named them, when known: a.yaml first although b.yaml's issue came first
    expect(new ManifestError(found, ['a.yaml', 'b.yaml']).issues.map((i) => i.reason)).toEqual(['a4', 'a5', 'a5 again', 'a7', 'a, no place', 'b1']);
  });
});
