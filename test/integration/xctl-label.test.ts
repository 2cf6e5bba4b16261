// `xctl label`, as kubectl's: KEY=VALUE sets, KEY- removes, a different value needs --overwrite,
// each object is pinned to the version it was read at, and a Node that leaves a network says so
// as apply says it. Against a real etcd, in-process through runXctl.
import { beforeAll, describe, expect, it } from 'vitest';
import { xctlInProcess } from '../harness/xctl-in-process.js';
import { manyApplied, xctlCounted } from '../harness/xctl-requests.js';

const lab = xctlInProcess('xnet-label');

const V = 'apiVersion: xnet.io/v1alpha1';
const node = (name: string, rack: string) => `${V}\nkind: Node\nmetadata: {name: ${name}, labels: {rack: ${rack}}}\n`;
const CN = `${V}\nkind: ClusterNetwork\nmetadata: {name: racked}\nspec: {cidr: 10.81.0.0/16, hostPrefix: 24, nodeSelector: {matchLabels: {rack: r1}}}\n`;

const xctl = (args: string[], stdin = '') => lab.xctl(args, { stdin });
const labelsOf = async (name: string) => (await lab.store.get('Node', name))?.metadata.labels;

beforeAll(async () => {
  expect((await xctl(['apply', '-f', '-'], [CN, node('host-1', 'r1'), node('host-2', 'r1'), node('host-3', 'r2')].join('---\n'))).code).toBe(0);
});

describe('xctl label', () => {
  it('sets a new label on each object named, and says so', async () => {
    const r = await xctl(['label', 'node', 'host-1', 'host-2', 'zone=a']);
    expect(r).toEqual({ code: 0, out: 'node/host-1 labeled\nnode/host-2 labeled\n', err: '' });
    expect(await labelsOf('host-1')).toEqual({ rack: 'r1', zone: 'a' });
  });

  it('refuses another value without --overwrite, naming it, and writes nothing for any object', async () => {
    const before = (await lab.store.get('Node', 'host-2'))!.metadata.resourceVersion;
    const r = await xctl(['label', 'node', 'host-2', 'host-3', 'rack=r9']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('node/host-2: "rack" already has a value (r1), and --overwrite is false; nothing was labeled');
    expect((await lab.store.get('Node', 'host-2'))!.metadata.resourceVersion).toBe(before);
    expect(await labelsOf('host-3')).toEqual({ rack: 'r2' });
  });

  it('--overwrite changes it, and a Node that leaves a network gets apply\'s warning', async () => {
    const r = await xctl(['label', 'node/host-2', 'rack=r2', '--overwrite']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('node/host-2 labeled\n');
    expect(r.err).toContain("Warning: node/host-2 no longer matches ClusterNetwork racked's nodeSelector");
    expect(await labelsOf('host-2')).toEqual({ rack: 'r2', zone: 'a' });
  });

  it('KEY- removes; a label already as asked is "not labeled", nothing written', async () => {
    expect(await xctl(['label', 'node', 'host-1', 'zone-'])).toMatchObject({ code: 0, out: 'node/host-1 unlabeled\n' });
    expect(await labelsOf('host-1')).toEqual({ rack: 'r1' });
    const rv = (await lab.store.get('Node', 'host-1'))!.metadata.resourceVersion;
    expect(await xctl(['label', 'node', 'host-1', 'rack=r1'])).toMatchObject({ code: 0, out: 'node/host-1 not labeled\n' });
    expect((await lab.store.get('Node', 'host-1'))!.metadata.resourceVersion).toBe(rv);
  });

  it('KEY- removes a label of the prefix xnet.io/ too, and apply of a manifest without it takes it away', async () => {
    // before: "node/host-3 unlabeled", exit 0, and the label still stored (apply kept every xnet.io/ label)
    expect(await xctl(['label', 'node', 'host-3', 'xnet.io/rack=r7'])).toMatchObject({ code: 0, out: 'node/host-3 labeled\n' });
    expect(await xctl(['label', 'node', 'host-3', 'xnet.io/rack-'])).toMatchObject({ code: 0, out: 'node/host-3 unlabeled\n' });
    expect(await labelsOf('host-3')).toEqual({ rack: 'r2' });
    expect(await xctl(['label', 'node', 'host-3', 'xnet.io/rack=r7'])).toMatchObject({ code: 0 });
    expect(await xctl(['apply', '-f', '-'], node('host-3', 'r2'))).toMatchObject({ code: 0, out: 'node/host-3 configured\n' });
    expect(await labelsOf('host-3')).toEqual({ rack: 'r2' });
  });

  it('-l labels the objects its selector matches; --dry-run writes nothing', async () => {
    expect(await xctl(['label', 'node', '-l', 'rack=r2', 'tier=edge', '--dry-run'])).toMatchObject({ code: 0, out: 'node/host-2 labeled (dry run)\nnode/host-3 labeled (dry run)\n' });
    expect(await labelsOf('host-3')).toEqual({ rack: 'r2' });
    expect(await xctl(['label', 'node', '-l', 'rack=r2', 'tier=edge'])).toMatchObject({ code: 0, out: 'node/host-2 labeled\nnode/host-3 labeled\n' });
    expect(await labelsOf('host-3')).toEqual({ rack: 'r2', tier: 'edge' });
  });

  it('takes kubectl\'s spellings: --dry-run=client|server|none, --overwrite=true|false', async () => {
    expect(await xctl(['label', 'node', 'host-3', 'tier=core', '--overwrite=true', '--dry-run=client'])).toMatchObject({ code: 0, out: 'node/host-3 labeled (dry run)\n' });
    expect(await labelsOf('host-3')).toEqual({ rack: 'r2', tier: 'edge' });
    expect(await xctl(['label', 'node', 'host-3', 'tier=core', '--overwrite=false'])).toMatchObject({ code: 1 });
    expect(await xctl(['label', '--overwrite', 'node', 'host-3', 'tier=core', '--dry-run=none'])).toMatchObject({ code: 0, out: 'node/host-3 labeled\n' });
    expect(await labelsOf('host-3')).toEqual({ rack: 'r2', tier: 'core' });
  });

  it('an object being deleted is not labeled, said on stderr, exit 3 (conflict); the others are', async () => {
    const nic = (n: string) => `${V}\nkind: ContainerNic\nmetadata: {name: ${n}}\nspec: {node: host-1, container: ${n}, ifName: eth1, network: {clusterNetwork: racked}}\n`;
    expect((await xctl(['apply', '-f', '-'], `${nic('lab-a')}---\n${nic('lab-b')}`)).code).toBe(0);
    expect((await xctl(['delete', 'nic', 'lab-a'])).code).toBe(0);
    const r = await xctl(['label', 'nic', '--all', 'team=a']);
    expect(r).toEqual({ code: 3, out: 'containernic/lab-b labeled\n', err: 'error: containernic/lab-a is being deleted: not labeled\n' });
  });

  it.each([
    [['label', 'node', 'host-1', 'Bad Key=x'], 'invalid label "Bad Key=x": invalid label key'],
    [['label', 'node', 'host-1', 'a=b', 'a=c'], 'label "a" is given twice'],
    [['label', 'node', 'host-1', 'a=-x'], 'invalid label "a=-x": invalid label value: at most 63 letters'],
    [['label', 'node', 'host-1'], 'at least one label update is required'],
    [['label', 'node', 'a=b', 'host-1'], 'give KIND NAME... first, then the label updates'],
  ])('refuses %j, exit 2', async (args, message) => {
    const r = await xctl(args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });

  it('a NAME that does not exist is not found, exit 4; the others are labeled', async () => {
    const r = await xctl(['label', 'node', 'nope', 'host-1', 'x=1']);
    expect(r).toMatchObject({ code: 4, out: 'node/host-1 labeled\n', err: 'error: Node "nope" not found\n' });
  });
});

describe('xctl label of many Nodes', () => {
  it('labels them all, reading them in one request rather than one (or more) per Node', async () => {
    const n = 30;
    const { names } = await manyApplied(lab, n, 'Node', 'many', (name) => node(name, 'r7'));
    const { r, requests } = await xctlCounted(lab, ['label', 'node', ...names, 'zone=b']);
    expect(r).toEqual({ code: 0, out: names.map((name) => `node/${name} labeled\n`).join(''), err: '' });
    for (const name of names) expect(await labelsOf(name), name).toEqual({ rack: 'r7', zone: 'b' });
    // the whole label (its read, apply's checks, the transaction) takes fewer requests than there are Nodes
    expect(requests).toBeGreaterThan(0);
    expect(requests).toBeLessThan(n);
  });
});
