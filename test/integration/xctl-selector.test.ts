// kubectl's set-based and existence selectors for -l (`app in (a,b)`, `tier!=x`, `!team`),
// against a real etcd, in-process through runXctl: the objects each one selects for get,
// describe, label and delete, and a selector that does not parse refused before anything is read.
import { beforeAll, describe, expect, it } from 'vitest';
import { xctlInProcess } from '../harness/xctl-in-process.js';

const lab = xctlInProcess('xnet-selector');

const V = 'apiVersion: xnet.io/v1alpha1';
const CN = `${V}\nkind: ClusterNetwork\nmetadata: {name: default}\nspec: {cidr: 10.78.0.0/16, hostPrefix: 24, dockerNetwork: sel2}\n`;
const nic = (name: string, labels: string) =>
  `${V}\nkind: ContainerNic\nmetadata: {name: ${name}, labels: {${labels}}}\nspec: {node: host-1, container: ${name}, ifName: eth1, network: {clusterNetwork: default}}\n`;

/** The names `get nic -o name` prints for these -l flags. */
async function selected(...selectors: string[]): Promise<string[]> {
  const r = await lab.xctl(['get', 'nic', ...selectors.flatMap((s) => ['-l', s]), '-o', 'name']);
  expect(r).toMatchObject({ code: 0, err: '' });
  return r.out.split('\n').filter(Boolean).map((l) => l.replace('containernic/', ''));
}

beforeAll(async () => {
  const docs = [CN, nic('n-a', 'app: a, tier: x, team: t1'), nic('n-b', 'app: b, tier: y'), nic('n-c', 'app: c'), nic('n-d', 'app: d, team: t2')];
  expect((await lab.xctl(['apply', '-f', '-'], { stdin: docs.join('---\n') })).code).toBe(0);
});

describe('get -l with set-based and existence requirements', () => {
  it('app in (a,b): the key with one of the values', async () => {
    expect(await selected('app in (a,b)')).toEqual(['n-a', 'n-b']);
  });

  it('!team: the objects without the key', async () => {
    expect(await selected('!team')).toEqual(['n-b', 'n-c']);
  });

  it('tier!=x: the objects with another tier and those with none, as in Kubernetes', async () => {
    expect(await selected('tier!=x')).toEqual(['n-b', 'n-c', 'n-d']);
  });

  it('notin, exists, and requirements ANDed within one -l and across repeated ones', async () => {
    expect(await selected('app notin (a,b)')).toEqual(['n-c', 'n-d']);
    expect(await selected('team')).toEqual(['n-a', 'n-d']);
    expect(await selected('app notin (a,b), team')).toEqual(['n-d']);
    expect(await selected('app in (a,b,c)', '!team', 'tier!=y')).toEqual(['n-c']);
  });

  it('the table too, and "No resources found." when nothing matches', async () => {
    const r = await lab.xctl(['get', 'nic', '-l', 'app in (c, d)', '--no-headers']);
    expect(r.out.trimEnd().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['n-c', 'n-d']);
    expect(await lab.xctl(['get', 'nic', '-l', 'app in (z)'])).toMatchObject({ code: 0, out: '', err: 'No containernics found.\n' });
  });

  it('a selector that does not parse is a usage error, exit 2, naming it', async () => {
    expect(await lab.xctl(['get', 'nic', '-l', 'app in (a,b'])).toEqual({ code: 2, out: '', err: 'error: invalid label selector "app in (a,b": "(" without its ")"\n' });
    const r = await lab.xctl(['delete', 'nic', '-l', 'app=-x']);
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toMatch(/^error: invalid label selector "app=-x": invalid label value "-x": /);
  });
});

describe('describe, label and delete -l with the same selectors', () => {
  it('describe -l', async () => {
    const r = await lab.xctl(['describe', 'nic', '-l', 'app in (a,b),!team']);
    expect([...r.out.matchAll(/^Name: +(\S+)$/gm)].map((m) => m[1])).toEqual(['n-b']);
  });

  it('label -l, then delete -l: the same objects', async () => {
    expect(await lab.xctl(['label', 'nic', '-l', '!team', 'team=none'])).toMatchObject({ code: 0, out: 'containernic/n-b labeled\ncontainernic/n-c labeled\n' });
    expect(await selected('team in (none)')).toEqual(['n-b', 'n-c']);
    expect(await lab.xctl(['delete', 'nic', '-l', 'team notin (t1,t2)'])).toMatchObject({ code: 0, out: 'containernic/n-b deleted\ncontainernic/n-c deleted\n' });
  });
});

describe("an empty -l ''", () => {
  it('lists everything for get, and is refused (exit 2, nothing written) by delete, label and wait', async () => {
    expect(await selected('')).toEqual(['n-a', 'n-b', 'n-c', 'n-d']);
    const rev = await lab.store.revision();
    for (const args of [['delete', 'nic'], ['label', 'nic', 'x=y'], ['wait', 'nic', '--for', 'delete', '--timeout', '1s']]) {
      const r = await lab.xctl([...args, '-l', '']);
      expect(r, args.join(' ')).toMatchObject({ code: 2, out: '', err: expect.stringContaining(`an empty label selector (-l '') names no objects to ${args[0]}`) });
    }
    expect(await lab.store.revision()).toBe(rev);
    expect(await selected()).toHaveLength(4);
  });
});
