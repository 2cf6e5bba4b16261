// What a kubectl user types, against a real etcd, in-process through runXctl: several names,
// KIND/NAME, -o name, a name with a selector. Each case is what the user sees (exit code,
// stdout, stderr) and, for writes, what etcd holds after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';
import { runXctl } from '../../pkg/cli/program.js';
import { equalitySelector } from '../../pkg/api/labels.js';

let etcd: TestEtcd;
let store: EtcdStore;

const V = 'apiVersion: xnet.io/v1alpha1';
const nodeDoc = (name: string, role: string) => `${V}\nkind: Node\nmetadata:\n  name: ${name}\n  labels: {role: ${role}}\nspec: {}\n`;

beforeAll(async () => {
  etcd = await startEtcd();
  store = createEtcdStore(etcd.client());
  const seeded = await xctl(['apply', '-f', '-'], { stdin: `${nodeDoc('k-1', 'master')}---\n${nodeDoc('k-2', 'linecard')}---\n${nodeDoc('k-3', 'linecard')}` });
  expect(seeded.code).toBe(0);
});
afterAll(async () => {
  await etcd?.stop();
});

interface Run { code: number; out: string; err: string }
async function xctl(args: string[], opts: { stdin?: string } = {}): Promise<Run> {
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(args, {
    out: (t) => { r.out += t; },
    err: (t) => { r.err += t; },
    stdin: async () => opts.stdin ?? '',
    env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') },
  });
  return r;
}

const names = (out: string) => out.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]);

describe('get KIND NAME...', () => {
  it('shows every named object, in the order given', async () => {
    const r = await xctl(['get', 'no', 'k-3', 'k-1']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/^NAME\s+ADDRESS\s+READY\s+AGE\n/);
    expect(names(r.out)).toEqual(['k-3', 'k-1']);
  });

  it('prints the ones that exist, names each missing one on stderr, exits 4', async () => {
    const r = await xctl(['get', 'no', 'k-1', 'nope', 'k-2']);
    expect(r.code).toBe(4);
    expect(names(r.out)).toEqual(['k-1', 'k-2']);
    expect(r.err).toBe('error: Node "nope" not found\n');
  });

  it('-o json|yaml|name of NAMEs none of which exist prints nothing on stdout, only the errors, exit 4', async () => {
    for (const o of ['json', 'yaml', 'name']) {
      expect(await xctl(['get', 'no', 'nope', '-o', o])).toEqual({ code: 4, out: '', err: 'error: Node "nope" not found\n' });
      expect(await xctl(['get', 'no', 'nope', 'nope-2', '-o', o])).toEqual({ code: 4, out: '', err: 'error: Node "nope" not found\nerror: Node "nope-2" not found\n' });
      expect(await xctl(['get', 'no/nope', 'cn/gone', '-o', o])).toEqual({ code: 4, out: '', err: 'error: Node "nope" not found\nerror: ClusterNetwork "gone" not found\n' });
    }
  });

  it('-o json of several NAMEs where some exist: a List of those, each missing one named, exit 4 (kubectl\'s)', async () => {
    const r = await xctl(['get', 'no', 'k-1', 'nope', '-o', 'json']);
    expect(r).toMatchObject({ code: 4, err: 'error: Node "nope" not found\n' });
    expect(JSON.parse(r.out)).toMatchObject({ kind: 'List', items: [{ kind: 'Node', metadata: { name: 'k-1' } }] });
    // a list that selects nothing is no missing NAME: an empty List, exit 0
    expect(JSON.parse((await xctl(['get', 'no', '-l', 'role=none', '-o', 'json'])).out)).toMatchObject({ kind: 'List', items: [] });
  });

  it('-o json: one object for one name, a List for several', async () => {
    const one = JSON.parse((await xctl(['get', 'no', 'k-1', '-o', 'json'])).out);
    expect(one).toMatchObject({ kind: 'Node', metadata: { name: 'k-1' } });
    const several = JSON.parse((await xctl(['get', 'no', 'k-1', 'k-2', '-o', 'json'])).out);
    expect(several.kind).toBe('List');
    expect(several.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(['k-1', 'k-2']);
  });
});

describe('KIND/NAME, the form xctl prints', () => {
  it('get, describe and wait take it, as kubectl does', async () => {
    const got = await xctl(['get', 'no/k-1', 'node/k-2']);
    expect(got).toMatchObject({ code: 0, err: '' });
    expect(names(got.out)).toEqual(['k-1', 'k-2']);
    const described = await xctl(['describe', 'nodes/k-1']);
    expect(described.code).toBe(0);
    expect(described.out).toMatch(/^Name:\s+k-1$/m);
    const waited = await xctl(['wait', 'no/k-1', '--for', 'condition=Ready', '--timeout', '100ms']);
    expect(waited).toMatchObject({ code: 1, err: 'error: timed out after 100ms waiting for node/k-1 to reach condition Ready=True; it has no Ready condition yet\n' });
    // a bare number is seconds, as in kubectl; the message says so
    const bare = await xctl(['wait', 'no/k-1', '--timeout', '0.1']);
    expect(bare).toMatchObject({ code: 1, err: 'error: timed out after 0.1s waiting for node/k-1 to reach condition Ready=True; it has no Ready condition yet\n' });
  });

  it('delete takes it, also for several kinds at once, and removes them from etcd', async () => {
    await xctl(['apply', '-f', '-'], { stdin: `${nodeDoc('gone-1', 'x')}---\n${V}\nkind: ClusterNetwork\nmetadata:\n  name: gone-cn\nspec:\n  cidr: 10.200.0.0/16\n  hostPrefix: 24\n` });
    const r = await xctl(['delete', 'node/gone-1', 'cn/gone-cn']);
    expect(r).toMatchObject({ code: 0, out: 'node/gone-1 deleted\nclusternetwork/gone-cn deleted\n', err: '' });
    expect(await store.get('Node', 'gone-1')).toBeUndefined();
    expect(await store.get('ClusterNetwork', 'gone-cn')).toBeUndefined();
  });

  it('delete of one object named twice (both forms) deletes it once', async () => {
    await xctl(['apply', '-f', '-'], { stdin: nodeDoc('twice', 'x') });
    const r = await xctl(['delete', 'node', 'twice', 'twice']);
    expect(r).toMatchObject({ code: 0, out: 'node/twice deleted\n', err: '' });
    expect(await store.get('Node', 'twice')).toBeUndefined();
    await xctl(['apply', '-f', '-'], { stdin: nodeDoc('twice', 'x') });
    expect(await xctl(['delete', 'no/twice', 'node/twice'])).toMatchObject({ code: 0, out: 'node/twice deleted\n' });
  });

  it('refuses a KIND followed by KIND/NAME as a usage error', async () => {
    const mixed = await xctl(['get', 'node', 'node/k-1']);
    expect(mixed).toMatchObject({ code: 2, out: '' });
    expect(mixed.err).toBe('error: give KIND NAME... or KIND/NAME..., not both: "xctl get node k-1" or "xctl get node/k-1"\n');
    // a slashed argument that is no KIND/NAME gets no hint built from its parts (which would fail too)
    for (const arg of ['a/b/c', 'pods/x', 'no/']) {
      const r = await xctl(['delete', 'no', arg]);
      expect(r).toEqual({ code: 2, out: '', err: `error: "${arg}" is not a NAME: a name has no "/" (give KIND NAME... or KIND/NAME..., e.g. "xctl delete no NAME")\n` });
    }
    // get, describe and wait take several kinds (xctl-several-kinds.test.ts, xctl.test.ts)
    expect((await xctl(['get', 'pods/x'])).err).toMatch(/^error: unknown kind "pods"; expected one of clusternetwork/);
    // kubectl's namespace flags, typed by habit: said why they are unknown, and other flags are not
    for (const flags of [['-n', 'default'], ['-A'], ['--namespace=x'], ['--all-namespaces']]) {
      const r = await xctl(['get', 'nic', ...flags]);
      expect(r).toMatchObject({ code: 2, out: '' });
      expect(r.err).toMatch(/^error: unknown option '.*'\n[^]*xnet objects have no namespaces: every object is cluster-wide/);
    }
    expect((await xctl(['get', 'nic', '--nope'])).err).not.toMatch(/namespaces/);
    // one edit from a kind's name: the closest is named (kubectl's "pods" is two from "nodes": none)
    for (const [typed, meant] of [['nics', 'nic'], ['nicc', 'nic'], ['hostsubnt', 'hostsubnet'], ['MVNS', 'mvn']]) {
      const r = await xctl(['get', typed]);
      expect(r).toMatchObject({ code: 2, out: '' });
      expect(r.err).toMatch(new RegExp(`^error: unknown kind "${typed}" \\(did you mean "${meant}"\\?\\); expected one of`));
    }
    expect((await xctl(['describe', 'no/'])).err).toBe('error: "no/": expected KIND/NAME, e.g. node/host-1\n');
  });
});

describe('get -o name', () => {
  it('prints KIND/NAME a line, which delete takes back', async () => {
    await xctl(['apply', '-f', '-'], { stdin: `${nodeDoc('pipe-1', 'pipe')}---\n${nodeDoc('pipe-2', 'pipe')}` });
    const listed = await xctl(['get', 'no', '-l', 'role=pipe', '-o', 'name']);
    expect(listed).toMatchObject({ code: 0, out: 'node/pipe-1\nnode/pipe-2\n', err: '' });
    expect(await xctl(['get', 'nodes', 'k-1', '-o', 'name'])).toMatchObject({ code: 0, out: 'node/k-1\n' });
    const deleted = await xctl(['delete', ...listed.out.trim().split('\n')]);
    expect(deleted).toMatchObject({ code: 0, out: 'node/pipe-1 deleted\nnode/pipe-2 deleted\n' });
    expect((await store.list('Node', { labelSelector: equalitySelector({ role: 'pipe' }) })).items).toEqual([]);
  });

  it('prints nothing for an empty list, as json and yaml print no message', async () => {
    expect(await xctl(['get', 'no', '-l', 'role=none', '-o', 'name'])).toEqual({ code: 0, out: '', err: '' });
  });
});

describe('get NAME -l', () => {
  it('is a usage error, as in kubectl, instead of showing an object the selector does not match', async () => {
    const r = await xctl(['get', 'no', 'k-1', '-l', 'role=linecard']);
    expect(r).toEqual({ code: 2, out: '', err: 'error: give NAMEs or a label selector (-l), not both\n' });
  });
});

describe('wait --for condition=TYPE', () => {
  it('matches the condition type in any case, as kubectl does', async () => {
    await store.create({ apiVersion: 'xnet.io/v1alpha1', kind: 'HostSubnet', metadata: { name: 'w-ready' }, spec: { node: 'k-1', clusterNetwork: 'default', icc: true } } as never);
    await store.writeStatus('HostSubnet', 'w-ready', { node: 'k-1' }, { conditions: [{ type: 'Ready', status: 'True' }] });
    const r = await xctl(['wait', 'hs/w-ready', '--for=condition=ready', '--timeout', '1s']);
    expect(r).toEqual({ code: 0, out: 'hostsubnet/w-ready condition met (Ready=True)\n', err: '' });
    const other = await xctl(['wait', 'hs', 'w-ready', '--for', 'condition=READY=false', '--timeout', '100ms']);
    expect(other).toMatchObject({ code: 1, err: 'error: timed out after 100ms waiting for hostsubnet/w-ready to reach condition Ready=False; Ready=True\n' });
  });
});

describe('get --no-headers', () => {
  it('prints the rows alone, columns aligned among themselves, as kubectl does', async () => {
    const r = await xctl(['get', 'no', '-l', 'role=linecard', '--no-headers']);
    expect(r).toMatchObject({ code: 0, err: '' });
    const lines = r.out.trimEnd().split('\n');
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(['k-2', 'k-3']);
    expect(r.out).not.toMatch(/NAME/);
    const wide = await xctl(['get', 'no', 'k-1', '-o', 'wide', '--no-headers']);
    expect(wide.out.trimEnd().split('\n')).toHaveLength(1);
    expect(wide.out).toMatch(/^k-1\s/);
  });
});

describe('apply --dry-run[=client|server|none]', () => {
  it('client and server are xctl\'s dry run (checked against the store, nothing written); none applies', async () => {
    const before = await etcd.client().getAll().prefix('/xnet').keys();
    for (const flag of ['--dry-run', '--dry-run=client', '--dry-run=server']) {
      const r = await xctl(['apply', flag, '-f', '-'], { stdin: nodeDoc('dry-1', 'dry') });
      expect({ flag, ...r }).toEqual({ flag, code: 0, out: 'node/dry-1 created (dry run)\n', err: '' });
    }
    // checked against what is stored, as kubectl's server dry run: k-1 exists, so it is configured
    const changed = await xctl(['apply', '--dry-run=client', '-f', '-'], { stdin: nodeDoc('k-1', 'boss') });
    expect(changed).toEqual({ code: 0, out: 'node/k-1 configured (dry run)\n', err: '' });
    expect(await etcd.client().getAll().prefix('/xnet').keys()).toEqual(before);
    const applied = await xctl(['apply', '--dry-run=none', '-f', '-'], { stdin: nodeDoc('dry-1', 'dry') });
    expect(applied).toEqual({ code: 0, out: 'node/dry-1 created\n', err: '' });
    expect(await store.get('Node', 'dry-1')).toBeDefined();
  });

  it('any other value is a usage error naming the allowed ones, before anything is read', async () => {
    const r = await xctl(['apply', '--dry-run=true', '-f', '-'], { stdin: nodeDoc('dry-2', 'dry') });
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^error: option '--dry-run \[strategy\]' argument 'true' is invalid\. Allowed choices are client, server, none\.\n/);
    expect(await store.get('Node', 'dry-2')).toBeUndefined();
  });
});

describe('verify --node NAME of a Node that does not exist', () => {
  it('is not found, exit 4, as get of that name and lab exec of a host the lab lacks', async () => {
    const r = await xctl(['verify', '--node', 'k-9']);
    expect(r.code).toBe(4);
    expect(r.err).toBe('error: Node "k-9" not found\n');
    expect(r.out).toBe('');
    expect((await xctl(['get', 'node', 'k-9'])).code).toBe(4);
  });
});

describe('-o=FORMAT, -l=SELECTOR, -f=FILE (a short flag\'s value after =)', () => {
  it('are read as kubectl reads them', async () => {
    const r = await xctl(['get', 'node', '-o=name', '-l=role=linecard']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('node/k-2\nnode/k-3\n');
    const a = await xctl(['apply', '-f=-'], { stdin: nodeDoc('k-1', 'master') });
    expect(a.code).toBe(0);
    expect(a.out).toBe('node/k-1 unchanged\n');
  });
});
