// Several kinds in one get or describe, as a kubectl user types them (`kubectl get pods,svc`,
// `kubectl describe pods`), against a real etcd, in-process through runXctl: what the user sees
// (exit code, stdout, stderr).
import { beforeAll, describe, expect, it } from 'vitest';
import { xctlInProcess, type XctlOptions } from '../harness/xctl-in-process.js';
import { parse } from 'yaml';

// the hooks' etcd (started before the seed below is applied) and xctl against it
const lab = xctlInProcess('xnet-several-kinds');
const xctl = (args: string[], opts?: XctlOptions) => lab.xctl(args, opts);

const V = 'apiVersion: xnet.io/v1alpha1';
const seed = [
  `${V}\nkind: ClusterNetwork\nmetadata:\n  name: sk\nspec:\n  cidr: 10.230.0.0/16\n  hostPrefix: 24\n`,
  `${V}\nkind: Node\nmetadata:\n  name: sk-1\nspec: {}\n`,
  `${V}\nkind: Node\nmetadata:\n  name: sk-2\nspec: {}\n`,
  `${V}\nkind: HostSubnet\nmetadata:\n  name: sk-sk-1\nspec:\n  node: sk-1\n  clusterNetwork: sk\n  subnet: 10.230.1.0/24\n`,
].join('---\n');

beforeAll(async () => {
  expect((await xctl(['apply', '-f', '-'], { stdin: seed })).code).toBe(0);
});

/** Each line's first column, blank lines kept as '' (where one table ends and the next begins). */
const firstColumn = (out: string) => out.replace(/\n$/, '').split('\n').map((l) => l.split(/\s+/)[0]);

describe('get KIND,KIND...', () => {
  it('prints each kind\'s table in turn, headed, a blank line between, NAME written kind/name', async () => {
    const r = await xctl(['get', 'cn,no,hs,nic']);
    expect(r).toMatchObject({ code: 0, err: '' });
    // no ContainerNics: that kind is left out, as kubectl leaves out an empty one
    expect(firstColumn(r.out)).toEqual(['NAME', 'clusternetwork/sk', '', 'NAME', 'node/sk-1', 'node/sk-2', '', 'NAME', 'hostsubnet/sk-sk-1']);
    expect(r.out).toMatch(/^NAME\s+CIDR\s+HOSTPREFIX/);
    expect(r.out).toMatch(/\n\nNAME\s+ADDRESS\s+READY\s+AGE\n/);
    expect(r.out).toMatch(/\n\nNAME\s+NODE\s+SUBNET\s+BRIDGE/);
  });

  it('--no-headers: the rows alone, no blank lines; -o wide: each kind\'s wide columns', async () => {
    const bare = await xctl(['get', 'no,cn', '--no-headers']);
    expect(firstColumn(bare.out)).toEqual(['node/sk-1', 'node/sk-2', 'clusternetwork/sk']);
    const wide = await xctl(['get', 'cn,no', '-o', 'wide']);
    expect(wide.out).toMatch(/^NAME\s+CIDR.*DOCKERNETWORK.*REASON\n/);
    expect(wide.out).toMatch(/\n\nNAME\s+ADDRESS\s+READY\s+AGE\s+INTERFACE/);
  });

  it('-o json and -o yaml: one List of every kind\'s objects; -o name: kind/name a line', async () => {
    const json = JSON.parse((await xctl(['get', 'cn,no', '-o', 'json'])).out);
    expect(json.kind).toBe('List');
    expect(json.items.map((o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`)).toEqual(['ClusterNetwork/sk', 'Node/sk-1', 'Node/sk-2']);
    const yaml = await xctl(['get', 'hs,cn', '-o', 'yaml']);
    expect(yaml.out).toMatch(/^apiVersion: v1\nkind: List\nitems:\n/);
    expect((parse(yaml.out) as { items: Array<{ kind: string }> }).items.map((o) => o.kind)).toEqual(['HostSubnet', 'ClusterNetwork']);
    expect((await xctl(['get', 'no,cn', '-o', 'name'])).out).toBe('node/sk-1\nnode/sk-2\nclusternetwork/sk\n');
  });

  it('-l applies to every kind; nothing found at all says so once', async () => {
    const none = await xctl(['get', 'cn,nic', '-l', 'nope=x']);
    expect(none).toEqual({ code: 0, out: '', err: 'No resources found.\n' });
  });

  it('KIND/NAMEs of several kinds: a table per kind, missing ones named, exit 4', async () => {
    const r = await xctl(['get', 'no/sk-2', 'cn/sk', 'no/sk-1', 'cn/gone']);
    expect(r.code).toBe(4);
    expect(r.err).toBe('error: ClusterNetwork "gone" not found\n');
    expect(firstColumn(r.out)).toEqual(['NAME', 'node/sk-2', 'node/sk-1', '', 'NAME', 'clusternetwork/sk']);
  });

  it('refuses NAMEs after several kinds, as kubectl does, saying why', async () => {
    const r = await xctl(['get', 'cn,hs', 'foo']);
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toBe('error: you may only specify a single resource type with NAMEs: "cn,hs" is 2 kinds, so which kind "foo" is cannot be told; give KIND NAME..., or KIND/NAME... (e.g. "xctl get cn/foo hs/foo")\n');
  });

  it('names an unknown kind of the list with the closest kind, and refuses an empty one and -w', async () => {
    const r = await xctl(['get', 'cn,nics,hs']);
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toMatch(/^error: unknown kind "nics" \(did you mean "nic"\?\); expected one of/);
    expect(await xctl(['get', 'cn,,hs'])).toMatchObject({ code: 2, err: 'error: "cn,,hs": an empty KIND in the list; give KIND[,KIND...], e.g. cn,hs,nic\n' });
    expect(await xctl(['get', 'cn,hs', '-w'])).toMatchObject({ code: 2, err: 'error: -w watches one kind at a time; give one KIND (got cn,hs)\n' });
    expect(await xctl(['get', 'cn,events'])).toMatchObject({ code: 2, err: 'error: "cn,events": events are listed on their own: xctl get events [--for KIND/NAME]\n' });
  });

  // kubectl (k8s.io/cli-runtime's builder) keeps one mapping per kind, so `get pods,po` is one
  // table, and prints kind/name only when the objects are of more than one kind
  it('one kind written twice is that kind alone, its table as ever (no kind/ prefix), as kubectl\'s get pods,po', async () => {
    const r = await xctl(['get', 'no,nodes']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(firstColumn(r.out)).toEqual(['NAME', 'sk-1', 'sk-2']);
    expect(firstColumn((await xctl(['get', 'node/sk-2', 'no/sk-1'])).out)).toEqual(['NAME', 'sk-2', 'sk-1']);
  });

  it('a kind written twice among others is counted once: a table per kind, kind/name', async () => {
    const r = await xctl(['get', 'no,hs,nodes']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(firstColumn(r.out)).toEqual(['NAME', 'node/sk-1', 'node/sk-2', '', 'NAME', 'hostsubnet/sk-sk-1']);
  });
});

describe('describe KIND [NAME...]', () => {
  const described = (out: string) => [...out.matchAll(/^Name:\s+(\S+)$/gm)].map((m) => m[1]);

  it('without a NAME describes every object of the kind, two blank lines between, as kubectl does', async () => {
    const r = await xctl(['describe', 'nodes']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(described(r.out)).toEqual(['sk-1', 'sk-2']);
    expect(r.out).toMatch(/\n\n\nName:\s+sk-2\n/);
  });

  it('several NAMEs, several kinds, KIND/NAMEs; a missing NAME is named and the rest described, exit 4', async () => {
    expect(described((await xctl(['describe', 'no', 'sk-2', 'sk-1'])).out)).toEqual(['sk-2', 'sk-1']);
    expect(described((await xctl(['describe', 'cn,hs'])).out)).toEqual(['sk', 'sk-sk-1']);
    const r = await xctl(['describe', 'no/sk-1', 'cn/sk', 'no/nope']);
    expect(r.code).toBe(4);
    expect(r.err).toBe('error: Node "nope" not found\n');
    expect(described(r.out)).toEqual(['sk-1', 'sk']);
  });

  it('a kind with no objects says so on stderr, exit 0', async () => {
    expect(await xctl(['describe', 'nic'])).toEqual({ code: 0, out: '', err: 'No containernics found.\n' });
  });
});
