// xctl reading keys written around it (real etcd): `get` and `describe` show every good object
// and print one stderr line per key that does not decode, naming the key and why (exit 0);
// an object whose own key does not decode cannot be shown (exit 1); `get events` and `verify`
// name their bad keys the same way; `ipam check` counts a claim that does not decode as a
// problem (exit 1). One corpus entry per key family xctl reads.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { Keys } from '../../pkg/store/keys.js';
import { runXctl } from '../../pkg/cli/program.js';
import { obj, until } from './helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await etcd?.stop(); });
const keys = new Keys();

async function xctl(args: string[], signal?: AbortSignal, onErr?: (all: string) => void): Promise<{ code: number; out: string; err: string }> {
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(args, {
    out: (t) => { r.out += t; }, err: (t) => { r.err += t; onErr?.(r.err); }, stdin: async () => '', signal,
    env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') },
  });
  return r;
}

/** the stderr lines naming bad keys */
const warnings = (err: string) => err.split('\n').filter((l) => l.startsWith('warning: skipped '));

describe('xctl and keys that do not decode', () => {
  it('get lists the good objects and names each bad key on stderr, exit 0', async () => {
    const store = createEtcdStore(etcd.client(), '/xnet');
    await store.applyAll([obj('ContainerNic', 'good', { node: 'host-1', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'default' } })]);
    await etcd.client().put('/xnet/registry/objects/containernics/bad').value('not json');
    await etcd.client().put('/xnet/registry/objects/containernics/arr').value('[1,2]');
    const r = await xctl(['get', 'nic']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('good');
    const lines = r.err.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(r.err).toContain('/xnet/registry/objects/containernics/bad');
    expect(r.err).toContain('/xnet/registry/objects/containernics/arr');
    await store.close();
  });

  it('ipam check counts a claim that does not decode as a problem', async () => {
    await etcd.client().put('/xnet/ipam/clusternetworks/default/addresses/010.076.001.009').value('{"owner":"me"}');
    const r = await xctl(['ipam', 'check']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/010\.076\.001\.009: the claim does not decode/);
  });

  it('ipam check names an object and a controller status that do not decode, and audits the rest', async () => {
    const client = etcd.client();
    await client.put('/xnet/registry/objects/hostsubnets/empty').value('{}');
    await client.put('/xnet/registry/status/controller/macvlannets/mvx').value('{"nodes": 5}');
    expect(await client.get('/xnet/registry/status/controller/macvlannets/mvx').string()).toBe('{"nodes": 5}');
    const r = await xctl(['ipam', 'check']);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/objects\/hostsubnets\/empty: the object does not decode/);
    expect(r.out).toMatch(/macvlannets\/mvx: the controller's status does not decode/);
    // the claim of the test before is still judged
    expect(r.out).toMatch(/010\.076\.001\.009: the claim does not decode/);
  });
});

describe('xctl delete of a NIC whose object does not decode for it', () => {
  it('deletes its copies in its node\'s index too, which that node\'s agent may still read', async () => {
    const store = createEtcdStore(etcd.client(), '/xnet');
    await store.applyAll([obj('ContainerNic', 'skew', { node: 'host-5', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'default' } })]);
    await store.close();
    const c = etcd.client();
    const key = keys.object('ContainerNic', 'skew');
    // written by a newer xctl, or stored before a rule this xctl has: JSON that names its node
    const skewed = JSON.stringify({ ...JSON.parse((await c.get(key).string())!), spec: { node: 'host-5', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'default' }, future: true } });
    await c.put(key).value(skewed);
    await c.put(keys.indexed('host-5', key)).value(skewed);
    await c.put(keys.controllerStatus('ContainerNic', 'skew', 'host-5')!).value('{"ip":"10.76.1.9"}');
    const r = await xctl(['delete', 'nic', 'skew']);
    expect(r.code, r.err).toBe(0);
    expect(await c.getAll().prefix(keys.prefix + '/registry/').keys()).not.toEqual(expect.arrayContaining([expect.stringContaining('containernics/skew')]));
  });
});

describe('every key family xctl reads names its bad keys', () => {
  const own = keys.nodeStatuses('host-7');
  const bad = {
    nodeReport: keys.status('Node', 'host-7', { node: 'host-7' }),
    peerReport: keys.status('Node', 'host-7', { node: 'host-8' }),
    macvlan: `${own}macvlannets/mv7`,
    clusterNetwork: `${own}clusternetworks/cn7`,
    hostSubnet: `${own}hostsubnets/cn7-host-7`,
    nic: `${own}containernics/nic7`,
    controllerStatus: keys.status('MacvlanNet', 'mv7', { controller: true }),
    event: `${keys.nodeEvents('host-7')}e1`,
    observed: keys.nodeObserved('host-7'),
    newline: `${own}containernics/new\nline"quote`,
  };

  beforeAll(async () => {
    const store = createEtcdStore(etcd.client(), '/xnet');
    await store.applyAll([
      obj('Node', 'host-7', {}), obj('MacvlanNet', 'mv7', { subnet: '192.168.97.0/24' }),
      obj('ClusterNetwork', 'cn7', { cidr: '10.97.0.0/16', hostPrefix: 24 }),
      obj('HostSubnet', 'cn7-host-7', { node: 'host-7', clusterNetwork: 'cn7' }),
      obj('ContainerNic', 'nic7', { node: 'host-7', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'cn7' } }),
    ]);
    await store.close();
    const c = etcd.client();
    await c.put(bad.nodeReport).value('not json');
    await c.put(bad.peerReport).value('{"address":7}');
    await c.put(bad.macvlan).value('[]');
    await c.put(bad.clusterNetwork).value('null');
    await c.put(bad.hostSubnet).value('{"conditions":"Ready"}');
    await c.put(bad.nic).value('42');
    await c.put(bad.controllerStatus).value('"a string"');
    await c.put(bad.event).value('[1]');
    await c.put(bad.observed).value('{"d":"x"');
    await c.put(bad.newline).value('[]');
  });

  const cases: Array<[string[], string[]]> = [
    [['get', 'nodes'], [bad.nodeReport, bad.peerReport]],
    [['get', 'node', 'host-7'], [bad.nodeReport, bad.peerReport]],
    [['describe', 'node', 'host-7'], [bad.nodeReport, bad.peerReport, bad.event]],
    [['get', 'macvlannets'], [bad.macvlan, bad.controllerStatus]],
    [['get', 'mvn', 'mv7', '-o', 'yaml'], [bad.macvlan, bad.controllerStatus]],
    [['describe', 'mvn', 'mv7'], [bad.macvlan, bad.controllerStatus, bad.event]],
    [['get', 'cn', 'cn7'], [bad.clusterNetwork]],
    [['get', 'hs'], [bad.hostSubnet]],
    [['describe', 'hs', 'cn7-host-7'], [bad.hostSubnet, bad.event]],
    [['get', 'nic', 'nic7'], [bad.nic]],
    [['get', 'events'], [bad.event]],
    [['get', 'events', '--for', 'node/host-7'], [bad.event]],
  ];
  it.each(cases)('xctl %j: one line per bad key, the key and why, exit 0', async (args, want) => {
    const r = await xctl(args);
    expect(r.code, r.err).toBe(0);
    const lines = warnings(r.err);
    for (const k of want) expect(lines.filter((l) => l.startsWith(`warning: skipped ${k}: `)), k).toHaveLength(1);
    for (const l of lines) expect(l, 'says why').toMatch(/^warning: skipped \S+: .*(JSON|expected|Required|Invalid)/);
  });

  it('the list still shows every good object beside the bad keys', async () => {
    const r = await xctl(['get', 'nic']);
    expect(r.out).toMatch(/^nic7\s+host-7/m);
    // a key holding a newline and a quote is named on one line, the newline escaped
    expect(warnings(r.err).filter((l) => l.startsWith(`warning: skipped ${own}containernics/new\\nline"quote: `))).toHaveLength(1);
    expect(r.err).not.toContain('new\nline');
  });

  it('verify names the bad observed-state report and counts the node as unreported, exit 1', async () => {
    const r = await xctl(['verify', '--node', 'host-7']);
    expect(r.code).toBe(1);
    expect(warnings(r.err)).toEqual([expect.stringMatching(new RegExp(`^warning: skipped ${bad.observed}: not JSON`))]);
    expect(r.out).toMatch(/host-7\s+agent report/);
  });

  it('an object whose own key does not decode: named, and get/describe of it exit 1', async () => {
    await etcd.client().put(keys.object('HostSubnet', 'junk7')).value('{}');
    for (const cmd of ['get', 'describe']) {
      const r = await xctl([cmd, 'hs', 'junk7']);
      expect(r.code, cmd).toBe(1);
      expect(warnings(r.err), cmd).toEqual([expect.stringMatching(/^warning: skipped \/xnet\/registry\/objects\/hostsubnets\/junk7: /)]);
      expect(r.err).toContain('HostSubnet "junk7" does not decode');
    }
    expect((await xctl(['get', 'hs', 'nothing7'])).code).toBe(4);
  });

  it('get of several NAMEs, one whose own key does not decode: the others shown, it named, exit 1', async () => {
    await createEtcdStore(etcd.client(), '/xnet').applyAll([obj('ClusterNetwork', 'cn8', { cidr: '10.88.0.0/16', hostPrefix: 24 })]);
    await etcd.client().put(keys.object('ClusterNetwork', 'junk8')).value('{}');
    const said = 'error: ClusterNetwork "junk8" does not decode (above); apply a good one over it or delete it\n';
    for (const names of [['junk8', 'cn8'], ['cn8', 'junk8']]) {
      const r = await xctl(['get', 'cn', ...names, '-o', 'json']);
      expect(r.code, names.join(' ')).toBe(1);
      expect(JSON.parse(r.out), names.join(' ')).toMatchObject({ kind: 'List', items: [{ kind: 'ClusterNetwork', metadata: { name: 'cn8' } }] });
      expect(warnings(r.err)).toEqual([expect.stringMatching(/^warning: skipped \/xnet\/registry\/objects\/clusternetworks\/junk8: /)]);
      expect(r.err).toContain(said);
    }
    const table = await xctl(['get', 'cn', 'junk8', 'cn8']);
    expect(table.code).toBe(1);
    expect(table.out).toMatch(/^cn8\s/m);
    // none shown: nothing on stdout; a NAME that does not decode is exit 1 also beside one not found
    const none = await xctl(['get', 'cn', 'junk8', 'nope8', '-o', 'json']);
    expect(none).toMatchObject({ code: 1, out: '' });
    expect(none.err).toContain(said);
    expect(none.err).toContain('error: ClusterNetwork "nope8" not found\n');
    const kinds = await xctl(['get', 'cn/junk8', 'cn/cn8', 'no/nope8', '-o', 'name']);
    expect(kinds).toMatchObject({ code: 1, out: 'clusternetwork/cn8\n' });
  });

  it('describe of several NAMEs, one whose own key does not decode: the others described, it named, exit 1', async () => {
    const store = createEtcdStore(etcd.client(), '/xnet');
    await store.applyAll(['cn9a', 'cn9c'].map((name, i) => obj('ClusterNetwork', name, { cidr: `10.9${i}.0.0/16`, hostPrefix: 24 })));
    await etcd.client().put(keys.object('ClusterNetwork', 'cn9b')).value('{}');
    const said = 'error: ClusterNetwork "cn9b" does not decode (above); apply a good one over it or delete it\n';
    const r = await xctl(['describe', 'cn', 'cn9a', 'cn9b', 'cn9c']);
    expect(r.code).toBe(1);
    expect(r.out.match(/^Name: +\S+$/gm)).toEqual(['Name:         cn9a', 'Name:         cn9c']);
    // (the events each description reads name the bad event key an earlier case wrote)
    expect(warnings(r.err).filter((l) => l.includes('/objects/'))).toEqual([expect.stringMatching(/^warning: skipped \/xnet\/registry\/objects\/clusternetworks\/cn9b: /)]);
    expect(r.err).toContain(said);
    // a bad one is no prefix to look for, and beside one not found it is still exit 1
    const kinds = await xctl(['describe', 'cn/cn9b', 'no/nope9', 'cn/cn9c']);
    expect(kinds.code).toBe(1);
    expect(kinds.out.match(/^Name: +\S+$/gm)).toEqual(['Name:         cn9c']);
    expect(kinds.err).toContain(said);
    expect(kinds.err).toContain('error: Node "nope9" not found\n');
  });

  it('get -w and get events -w name a bad key written while they watch', async () => {
    const cases: Array<[string[], string]> = [
      [['get', 'mvn', '-w'], `${keys.nodeStatuses('host-9')}macvlannets/mv7`],
      [['get', 'events', '-w', '-o', 'json'], `${keys.nodeEvents('host-9')}e2`],
    ];
    for (const [args, key] of cases) {
      const ac = new AbortController();
      // ends this -w watch also when its listing is never seen (the abort below is not reached)
      onTestFinished(() => ac.abort());
      let err = '';
      const watching = xctl(args, ac.signal, (all) => { err = all; });
      // the list is printed before the watch starts from its revision: a write after the
      // first listing reaches the watch only
      await until(() => err.includes(bad.event) || err.includes(bad.macvlan), `${args.join(' ')} lists`);
      await etcd.client().put(key).value('not json');
      await until(() => err.includes(key), `${args.join(' ')} names ${key}`, 10_000).finally(() => ac.abort());
      const r = await watching;
      expect(r.code).toBe(0);
      expect(warnings(r.err).filter((l) => l.startsWith(`warning: skipped ${key}: not JSON`)), args.join(' ')).toHaveLength(1);
    }
  });
});
