// xctl against a real etcd, run in-process through runXctl (the same code the program runs).
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../../pkg/etcd/server.js';
import { Keys } from '../../pkg/store/keys.js';
import { xctlInProcess, type XctlRun } from '../harness/xctl-in-process.js';
import type { ClusterNetwork } from '../../pkg/api/index.js';

const lab = xctlInProcess('xctl-it');
const xctl = (args: string[], opts?: Parameters<typeof lab.xctl>[1]): Promise<XctlRun> => lab.xctl(args, opts);
const file = (name: string, text: string) => lab.file(name, text);

const revision = () => lab.store.revision();
const V = 'apiVersion: xnet.io/v1alpha1';
const cnDoc = (name: string, cidr: string, extra = '') => `${V}\nkind: ClusterNetwork\nmetadata:\n  name: ${name}\n${extra}spec:\n  cidr: ${cidr}\n  hostPrefix: 24\n`;
const nodeDoc = (name: string, labels = '{}') => `${V}\nkind: Node\nmetadata:\n  name: ${name}\n  labels: ${labels}\nspec: {}\n`;
const nicDoc = (name: string, ip: string, net = 'clusterNetwork: default') => `${V}\nkind: ContainerNic\nmetadata:\n  name: ${name}\nspec:\n  node: host-1\n  container: test\n  ifName: eth1\n  network: {${net}}\n  ip: ${ip}\n`;

describe('xctl apply', () => {
  it('applies the examples; re-applying them writes nothing', async () => {
    const first = await xctl(['apply', '-f', 'manifests/examples']);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toContain('clusternetwork/default created\n');
    expect(first.out).toContain('containernic/host-2-test-eth2 created\n');
    expect(first.out).toContain('macvlannet/macvlan200 created\n');
    const rev = await revision();
    const again = await xctl(['apply', '-f', 'manifests/examples/seed000.yaml', '-f', 'manifests/examples/seed002.yaml']);
    expect(again.code).toBe(0);
    expect(again.out.trim().split('\n').every((l) => l.endsWith(' unchanged'))).toBe(true);
    expect(again.out.trim().split('\n')).toHaveLength(10);
    expect(await revision()).toBe(rev);
  });

  it('is all-or-nothing: a bad third document leaves the etcd revision unchanged and names file, document, line, field', async () => {
    const f = file('third-bad.yaml', `${cnDoc('aon-1', '10.90.0.0/16')}---\n${nodeDoc('aon-node')}---\n${nicDoc('aon-nic', '10.76.1.90').replace('ifName: eth1', 'ifName: eth1/x')}`);
    const rev = await revision();
    const r = await xctl(['apply', '-f', f]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    // line 23 is "  ifName: eth1/x" in the third document
    expect(r.err).toContain(`${f}:23: document 3 (containernic/aon-nic): spec.ifName: may contain only`);
    expect(r.err).toContain('nothing was written');
    expect(await revision()).toBe(rev);
    expect((await xctl(['get', 'cn', 'aon-1'])).code).toBe(4);
  });

  it('names the file of a directory it cannot read, and skips subdirectories as kubectl does without -R', async () => {
    const d = join(lab.dir, 'with-bad-link');
    mkdirSync(join(d, 'sub.yaml'), { recursive: true });
    writeFileSync(join(d, 'a.yaml'), cnDoc('dir-ok', '10.91.0.0/16'));
    symlinkSync(join(d, 'gone.yaml'), join(d, 'broken.yaml'));
    const rev = await revision();
    const r = await xctl(['apply', '-f', d]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${join(d, 'broken.yaml')}: a link to a file that does not exist`);
    expect(r.err).not.toContain('sub.yaml');
    expect(await revision()).toBe(rev);
    rmSync(join(d, 'broken.yaml'));
    expect((await xctl(['apply', '-f', d])).out).toBe('clusternetwork/dir-ok created\n');
    // a file named twice (the directory twice, a file of it besides) is read once, not a duplicate of itself
    expect(await xctl(['apply', '-f', d, '-f', d, '-f', join(d, 'a.yaml')])).toMatchObject({ code: 0, out: 'clusternetwork/dir-ok unchanged\n' });
  });

  it('refuses a manifest that is not UTF-8, naming where, instead of storing it changed', async () => {
    // a Latin-1 "é" in an annotation on line 6; Node's utf8 decoding made it U+FFFD and stored that
    const latin1 = Buffer.concat([Buffer.from(`${V}\nkind: Node\nmetadata:\n  name: latin1-node\n  annotations:\n    note: "caf`), Buffer.from([0xe9]), Buffer.from('"\nspec: {}\n')]);
    const p = join(lab.dir, 'latin1.yaml');
    writeFileSync(p, latin1);
    const rev = await revision();
    const r = await xctl(['apply', '-f', p]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${p}:6:15: not UTF-8 (byte 0xe9)`);
    expect(await revision()).toBe(rev);
    expect((await xctl(['get', 'node', 'latin1-node'])).code).toBe(4);
  });

  it('is all-or-nothing for apply-time checks too: a static IP taken by a stored NIC', async () => {
    const f = file('taken.yaml', `${cnDoc('aon-2', '10.91.0.0/16')}---\n${nodeDoc('aon-node-2')}---\n${nicDoc('aon-nic-2', '10.76.1.84')}`);
    const rev = await revision();
    const r = await xctl(['apply', '-f', f]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/taken\.yaml:\d+: document 3 \(containernic\/aon-nic-2\): spec\.ip: 10\.76\.1\.84 is already used by ContainerNic "host-1-test-eth1"/);
    expect(await revision()).toBe(rev);
  });

  it('refuses a name defined twice across files, naming both copies, writing nothing', async () => {
    const a = file('dup-a.yaml', nicDoc('dup-nic', '10.76.1.91'));
    const b = file('dup-b.yaml', `${nodeDoc('dup-node')}---\n${cnDoc('dup-cn', '10.93.0.0/16')}---\n${nicDoc('dup-nic', '10.76.1.92')}`);
    const rev = await revision();
    const r = await xctl(['apply', '-f', a, '-f', b]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    // line 4 of a copy's document is "  name: dup-nic"; the second copy is document 3 of dup-b.yaml (from line 16)
    // the first copy is checked against the store in the same run: its eth1 is a stored NIC's in container test
    expect(r.err).toBe(`error: invalid manifests (2 problems):\n` +
      `  ${a}:8: document 1 (containernic/dup-nic): spec.ifName: eth1 is already the interface of ContainerNic "host-1-test-eth1" in container test on node host-1; choose another ifName\n` +
      `  ${b}:19: document 3 (containernic/dup-nic): metadata.name: ContainerNic "dup-nic" is already defined at ${a}:4: document 1; keep one\nnothing was written\n`);
    expect(await revision()).toBe(rev);
    expect((await xctl(['get', 'no', 'dup-node'])).code).toBe(4);
    // delete -f needs only kinds and names: the twice-defined NIC is one object, named once
    const del = await xctl(['delete', '-f', a, '-f', b]);
    expect(del.code).toBe(4);
    expect(del.err.match(/ContainerNic "dup-nic" not found/g)).toHaveLength(1);
    expect(await revision()).toBe(rev);
  });

  it('refuses a ClusterNetwork overlapping a stored MacvlanNet', async () => {
    const r = await xctl(['apply', '-f', '-'], { stdin: cnDoc('overlap', '198.19.0.0/16') });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/<stdin>:6: document 1 \(clusternetwork\/overlap\): spec\.cidr: 198\.19\.0\.0\/16 overlaps MacvlanNet "macvlan200"/);
  });

  it('refuses a Node whose address lies in a pool xnet hands out, naming the line, writing nothing', async () => {
    const rev = await revision();
    const r = await xctl(['apply', '-f', '-'], { stdin: `${V}\nkind: Node\nmetadata:\n  name: addr-node\nspec:\n  address: 10.76.9.9\n` });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/<stdin>:6: document 1 \(node\/addr-node\): spec\.address: 10\.76\.9\.9 is inside ClusterNetwork "default" \(10\.76\.0\.0\/16\)/);
    expect(await revision()).toBe(rev);
    expect((await xctl(['get', 'node', 'addr-node'])).code).toBe(4);
  });

  it('refuses a stale resourceVersion as a conflict (exit 3), writing nothing of the batch', async () => {
    await xctl(['apply', '-f', '-'], { stdin: cnDoc('rv', '10.92.0.0/16') });
    const old = (await xctl(['get', 'cn', 'rv', '-o', 'yaml'])).out;
    expect(parse(old).metadata.resourceVersion).toMatch(/^\d+$/);
    expect(old).toContain('masquerade: true');
    expect(old).toContain('bridgePrefix: br');
    const changed = await xctl(['apply', '-f', '-'], { stdin: old.replace('masquerade: true', 'masquerade: false') });
    expect(changed.out).toBe('clusternetwork/rv configured\n');
    const rev = await revision();
    const stdin = `${nodeDoc('rv-node')}---\n${old.replace('bridgePrefix: br', 'bridgePrefix: bx')}`;
    const stale = await xctl(['apply', '-f', '-'], { stdin });
    expect(stale.code).toBe(3);
    expect(stale.out).toBe('');
    // the ClusterNetwork is document 2; its resourceVersion line is the one the user must refresh
    const line = stdin.split('\n').findIndex((l) => l.trim().startsWith('resourceVersion:')) + 1;
    expect(stale.err).toMatch(new RegExp(`^error: conflict: <stdin>:${line}: document 2 \\(clusternetwork/rv\\): metadata\\.resourceVersion: ` +
      'the object has been modified since resourceVersion \\d+ \\(stored: \\d+\\); get it again and reapply your change\nnothing was written\n$'));
    expect(await revision()).toBe(rev);
    expect((await xctl(['get', 'no', 'rv-node'])).code).toBe(4);
    const diff = await xctl(['diff', '-f', '-'], { stdin });
    expect(diff.code).toBe(3);
    expect(diff.err).toContain(`error: conflict: <stdin>:${line}: document 2 (clusternetwork/rv): metadata.resourceVersion: the object has been modified`);
    // get -o yaml | apply round-trips: the fresh copy applies cleanly, status and all
    const fresh = (await xctl(['get', 'cn', 'rv', '-o', 'yaml'])).out;
    expect((await xctl(['apply', '-f', '-'], { stdin: fresh })).out).toBe('clusternetwork/rv unchanged\n');
  });

  it('refuses a changed hostPrefix on a stored ClusterNetwork, naming the line, and writes nothing', async () => {
    expect((await xctl(['apply', '-f', '-'], { stdin: cnDoc('once', '10.98.0.0/16') })).code).toBe(0);
    const rev = await revision();
    const r = await xctl(['apply', '-f', '-'], { stdin: `${nodeDoc('once-node')}---\n${cnDoc('once', '10.98.0.0/16').replace('hostPrefix: 24', 'hostPrefix: 25')}` });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/<stdin>:14: document 2 \(clusternetwork\/once\): spec\.hostPrefix: is set once, when the ClusterNetwork is created \(stored: 24\)/);
    expect(await revision()).toBe(rev);
    expect(parse((await xctl(['get', 'cn', 'once', '-o', 'yaml'])).out).spec.hostPrefix).toBe(24);
  });

  it('the store holds hostPrefix set once for writers that skip xctl\'s checks too', async () => {
    await xctl(['apply', '-f', '-'], { stdin: cnDoc('once-store', '10.99.0.0/16') });
    const stored = (await lab.store.get('ClusterNetwork', 'once-store')) as ClusterNetwork;
    const rev = await revision();
    await expect(lab.store.applyAll([{ ...stored, spec: { ...stored.spec, hostPrefix: 26 } }])).rejects.toThrow(/ClusterNetwork "once-store": spec\.hostPrefix: is set once/);
    expect(await revision()).toBe(rev);
  });

  it('--dry-run reports what would happen and writes nothing', async () => {
    const rev = await revision();
    const r = await xctl(['apply', '--dry-run', '-f', '-'], { stdin: `${cnDoc('dry', '10.93.0.0/16')}---\n${nodeDoc('host-1', '{role: boss}')}` });
    expect(r.code).toBe(0);
    expect(r.out).toBe('clusternetwork/dry created (dry run)\nnode/host-1 configured (dry run)\n');
    expect(await revision()).toBe(rev);
  });

  it('reads a JSON List, as get -o json prints it', async () => {
    const list = (await xctl(['get', 'nodes', '-o', 'json'])).out;
    const r = await xctl(['apply', '-f', file('list.json', list)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('node/host-1 unchanged');
  });

  it('usage errors exit 2', async () => {
    expect((await xctl(['apply'])).code).toBe(2);
    expect((await xctl(['apply', '-f', join(lab.dir, 'missing.yaml')])).err).toBe(`error: the path "${join(lab.dir, 'missing.yaml')}" does not exist\nnothing was written\n`);
    expect((await xctl(['frobnicate'])).code).toBe(2);
    expect((await xctl(['get', 'pods'])).code).toBe(2);
    expect((await xctl(['get', 'cn', '-o', 'xml'])).code).toBe(2);
    const help = await xctl(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Exit codes');
  });

  it('auth and lab usage errors and help go where every other command\'s go, with the same hint', async () => {
    const auth = await xctl(['auth', 'add-node', 'n1']);
    expect(auth.code).toBe(2);
    expect(auth.err).toContain("error: required option '--ca-dir <dir>' not specified");
    expect(auth.err).toContain('(run with --help for usage)');
    const lab = await xctl(['lab', 'exec']);
    expect(lab.code).toBe(2);
    expect(lab.err).toContain("error: missing required argument 'host'");
    const help = await xctl(['lab', 'up', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('--controllers <n>');
  });
});

describe('xctl diff', () => {
  it('exits 0 without output when nothing would change', async () => {
    const r = await xctl(['diff', '-f', 'manifests/examples']);
    expect(r).toMatchObject({ code: 0, out: '' });
  });

  it('exits 1 and shows a diff of spec and labels, writing nothing', async () => {
    const rev = await revision();
    const f = file('diff.yaml', `${nodeDoc('host-1', '{role: boss}')}---\n${cnDoc('brand-new', '10.94.0.0/16')}`);
    const r = await xctl(['diff', '-f', f]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/--- node\/host-1 \(live, resourceVersion \d+\)\n\+\+\+ node\/host-1 \(manifest\)\n/);
    expect(r.out).toContain('-     role: master\n');
    expect(r.out).toContain('+     role: boss\n');
    expect(r.out).toContain('--- clusternetwork/brand-new (does not exist)');
    expect(r.out).toContain('+   cidr: 10.94.0.0/16\n');
    expect(await revision()).toBe(rev);
  });

  it('exits 2 on an invalid manifest', async () => {
    const r = await xctl(['diff', '-f', '-'], { stdin: cnDoc('x', '10.95.0.1/16') });
    expect(r.code).toBe(2);
    expect(r.err).toContain('spec.cidr: host bits are set');
    // diff never writes: no 'nothing was written' after its error
    expect(r.err).toMatch(/host bits are set[^\n]*\n$/);
  });
});

describe('xctl get', () => {
  it('-o json prints one object for a NAME, else a v1 List', async () => {
    const one = JSON.parse((await xctl(['get', 'cn', 'default', '-o', 'json'])).out);
    expect(one).toMatchObject({ apiVersion: 'xnet.io/v1alpha1', kind: 'ClusterNetwork', metadata: { name: 'default' }, spec: { cidr: '10.76.0.0/16' } });
    expect(one.metadata.resourceVersion).toMatch(/^\d+$/);
    const list = JSON.parse((await xctl(['get', 'nic', '-o', 'json'])).out);
    expect(list.apiVersion).toBe('v1');
    expect(list.kind).toBe('List');
    expect(list.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(['host-1-test-eth1', 'host-1-test-eth2', 'host-2-test-eth1', 'host-2-test-eth2']);
    expect(list.items.every((o: { kind: string }) => o.kind === 'ContainerNic')).toBe(true);
  });

  it('-o yaml prints the object with its status', async () => {
    await lab.store.writeStatus('Node', 'host-2', { node: 'host-2' }, { address: '198.18.0.12', conditions: [{ type: 'Ready', status: 'True', reason: 'AgentUp' }] });
    const y = parse((await xctl(['get', 'no', 'host-2', '-o', 'yaml'])).out);
    expect(y.status).toMatchObject({ address: '198.18.0.12', conditions: [{ type: 'Ready', status: 'True' }] });
  });

  it('takes singular, plural and short kind names', async () => {
    const names: [string, string, string][] = [
      ['clusternetwork', 'clusternetworks', 'cn'], ['node', 'nodes', 'no'], ['hostsubnet', 'hostsubnets', 'hs'],
      ['containernic', 'containernics', 'nic'], ['macvlannet', 'macvlannets', 'mvn'],
    ];
    for (const aliases of names) {
      const outs = await Promise.all([...aliases, aliases[0].toUpperCase()].map(async (a) => (await xctl(['get', a, '-o', 'json'])).out));
      expect(JSON.parse(outs[0]).items.length).toBeGreaterThan(0);
      expect(new Set(outs).size).toBe(1);
    }
  });

  it('prints tables with the kind\'s columns; wide adds more', async () => {
    const hs = (await xctl(['get', 'hs'])).out.split('\n');
    expect(hs[0].split(/\s+/)).toEqual(['NAME', 'NODE', 'SUBNET', 'BRIDGE', 'READY', 'AGE']);
    // no controller runs here: the pinned spec.subnet is not allocated yet (docs/xctl.md, get)
    expect(hs[1]).toMatch(/^default-host-1\s+host-1\s+<pending>\s+<pending>\s+Unknown\s+\d+s$/);
    const nic = (await xctl(['get', 'nic', '-o', 'wide'])).out.split('\n');
    expect(nic[0].split(/\s+/)).toEqual(['NAME', 'NODE', 'CONTAINER', 'IFNAME', 'IP', 'READY', 'AGE', 'NETWORK', 'MAC', 'GATEWAY', 'HOSTINTERFACE', 'REASON']);
    const no = (await xctl(['get', 'no'])).out;
    expect(no).toMatch(/host-2\s+198\.18\.0\.12\s+True\s/);
    const mvn = (await xctl(['get', 'mvn'])).out.split('\n');
    expect(mvn[0].split(/\s+/)).toEqual(['NAME', 'SUBNET', 'PARENT', 'VLAN', 'ALLOCATED', 'READY', 'AGE']);
  });

  it('-l filters by labels', async () => {
    const r = await xctl(['get', 'nodes', '-l', 'role=linecard', '-o', 'json']);
    expect(JSON.parse(r.out).items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(['host-2']);
    const none = await xctl(['get', 'nodes', '-l', 'role=linecard,rack=r9']);
    expect(none).toMatchObject({ code: 0, out: '', err: 'No nodes found.\n' });
    // a bare key is kubectl's "has the label" (no node has this one); one that cannot be a label key is refused
    expect(await xctl(['get', 'nodes', '-l', 'justakey'])).toMatchObject({ code: 0, out: '', err: 'No nodes found.\n' });
    expect((await xctl(['get', 'nodes', '-l', 'just a key'])).code).toBe(2);
  });

  it('a missing NAME exits 4', async () => {
    const r = await xctl(['get', 'hs', 'nope']);
    expect(r.code).toBe(4);
    expect(r.err).toBe('error: HostSubnet "nope" not found\n');
  });

  it('-w prints rows as they change, until interrupted', async () => {
    // the change lands after the list was read, so only the watch can print it
    const r = await watchWhile(['get', 'cn', '-w'], { listed: (out) => out.startsWith('NAME'), seen: (out) => out.includes('\nwatched ') },
      () => xctl(['apply', '-f', '-'], { stdin: cnDoc('watched', '10.96.0.0/16') }));
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+CIDR/);
    expect(lines.at(-1)).toMatch(/^watched\s+10\.96\.0\.0\/16\s+\/24/);
  });
});

/**
 * Runs `xctl args` (a -w watch) until `seen` holds of its output, running `change` once the
 * list was read (`listed`, on stdout or stderr); the watch is ended also when the test fails.
 */
async function watchWhile(args: string[], when: { listed: (out: string, err: string) => boolean; seen: (out: string) => boolean }, change: () => Promise<unknown>): Promise<XctlRun> {
  const ac = new AbortController();
  onTestFinished(() => ac.abort());
  let listed!: () => void, seen!: () => void;
  const listRead = new Promise<void>((r) => { listed = r; });
  const changed = new Promise<void>((r) => { seen = r; });
  let out = '', err = '';
  const watching = xctl(args, {
    signal: ac.signal,
    onOut: (all) => { out = all; if (when.listed(out, err)) listed(); if (when.seen(all)) seen(); },
    onErr: (all) => { err = all; if (when.listed(out, err)) listed(); },
  });
  await listRead;
  await change();
  await changed;
  ac.abort();
  return watching;
}

describe('xctl get -w of an empty list', () => {
  it('says so, then prints the header with the first row, aligned to it', async () => {
    const r = await watchWhile(['get', 'cn', '-w', '-l', 'watch=empty'], { listed: (_o, err) => err.includes('No clusternetworks found.'), seen: (out) => out.includes('\nempty-watched ') },
      () => xctl(['apply', '-f', '-'], { stdin: cnDoc('empty-watched', '10.97.0.0/16', '  labels: {watch: empty}\n') }));
    expect(r.code).toBe(0);
    const [header, row] = r.out.split('\n');
    expect(header).toMatch(/^NAME\s+CIDR\s+HOSTPREFIX/);
    expect(row).toMatch(/^empty-watched\s+10\.97\.0\.0\/16\s+\/24/);
    // every column starts where its header does
    for (const col of ['CIDR', 'HOSTPREFIX']) expect(row.slice(header.indexOf(col)), col).toMatch(/^\S/);
    expect(row.indexOf('10.97.0.0/16')).toBe(header.indexOf('CIDR'));
  });
});

describe('xctl describe', () => {
  it('shows spec, status and a conditions table', async () => {
    const r = await xctl(['describe', 'node', 'host-2']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Name:\s+host-2$/m);
    expect(r.out).toMatch(/^Labels:\s+role=linecard$/m);
    expect(r.out).toMatch(/^Spec:\n  address: 198\.18\.0\.12$/m);
    expect(r.out).toMatch(/^Status:\n  address: 198\.18\.0\.12$/m);
    expect(r.out).toMatch(/^Conditions:\n  TYPE\s+STATUS\s+REASON\s+AGE\s+MESSAGE\n  Ready\s+True\s+AgentUp/m);
    expect((await xctl(['describe', 'mvn', 'nope'])).code).toBe(4);
  });
});

describe('xctl wait', () => {
  it('times out with exit 1 and says what it saw', async () => {
    const r = await xctl(['wait', 'nic', 'host-1-test-eth1', '--for', 'condition=Ready', '--timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: timed out after 1s waiting for containernic/host-1-test-eth1 to reach condition Ready=True; it has no Ready condition yet\n');
  });

  it('returns as soon as the condition holds, also for an object that appears later', async () => {
    const waiting = xctl(['wait', 'hs', 'late', '--for', 'condition=Ready', '--timeout', '60s']);
    await lab.store.create({ apiVersion: 'xnet.io/v1alpha1', kind: 'HostSubnet', metadata: { name: 'late' }, spec: { node: 'host-1', clusterNetwork: 'default', icc: true } } as never);
    await lab.store.writeStatus('HostSubnet', 'late', { node: 'host-1' }, { conditions: [{ type: 'Ready', status: 'True' }] });
    const r = await waiting;
    expect(r).toMatchObject({ code: 0, out: 'hostsubnet/late condition met (Ready=True)\n' });
    const already = await xctl(['wait', 'no', 'host-2']);
    expect(already.code).toBe(0);
  });

  it('rejects a malformed --for or --timeout', async () => {
    expect((await xctl(['wait', 'no', 'host-2', '--for', 'ready'])).code).toBe(2);
    expect((await xctl(['wait', 'no', 'host-2', '--timeout', 'soon'])).code).toBe(2);
    expect(await xctl(['wait', '--for', 'delete'])).toMatchObject({ code: 2, out: '' });
  });

  it('waits for several objects, of one kind or several, or those named in manifests: each printed as it gets there, one timeout for all', async () => {
    // hs/late: made Ready by the test above
    expect(await xctl(['wait', 'hs', 'late', 'late', '--timeout', '5s'])).toEqual({ code: 0, out: 'hostsubnet/late condition met (Ready=True)\n', err: '' });
    const waiting = xctl(['wait', 'hs/later', 'no/host-2', '--timeout', '60s']);
    await lab.store.create({ apiVersion: 'xnet.io/v1alpha1', kind: 'HostSubnet', metadata: { name: 'later' }, spec: { node: 'host-1', clusterNetwork: 'default', icc: true } } as never);
    await lab.store.writeStatus('HostSubnet', 'later', { node: 'host-1' }, { conditions: [{ type: 'Ready', status: 'True' }] });
    // each in the order it got there (host-2 at once, unless the HostSubnet was there before wait read it)
    const both = await waiting;
    expect(both).toMatchObject({ code: 0, err: '' });
    expect(both.out.split('\n').sort()).toEqual(['', 'hostsubnet/later condition met (Ready=True)', 'node/host-2 condition met (Ready=True)']);
    // -f: the objects the manifest names, as delete -f reads them; those not there in time are each said
    const f = file('wait.yaml', `${nodeDoc('host-2')}---\n${nodeDoc('wait-gone')}`);
    const r = await xctl(['wait', '-f', f, '--for', 'delete', '--timeout', '1s']);
    expect(r).toEqual({ code: 1, out: 'node/wait-gone deleted\n', err: 'error: timed out after 1s waiting for node/host-2 to reach deletion; it still exists (not being deleted)\n' });
    const two = await xctl(['wait', 'no', 'host-2', 'nope-1', 'nope-2', '--timeout', '1s']);
    expect(two.code).toBe(1);
    expect(two.out).toBe('node/host-2 condition met (Ready=True)\n');
    expect(two.err).toBe('error: timed out after 1s waiting for node/nope-1 to reach condition Ready=True; it does not exist\n' +
      'error: timed out after 1s waiting for node/nope-2 to reach condition Ready=True; it does not exist\n');
    expect((await xctl(['wait', 'no', 'host-2', '-f', f])).err).toBe('error: give either KIND NAME or -f, not both\n');
  });
});

describe('xctl delete', () => {
  it('deletes by name, and by -f; a missing object exits 4', async () => {
    await xctl(['apply', '-f', '-'], { stdin: `${nodeDoc('del-1')}---\n${nodeDoc('del-2')}` });
    expect((await xctl(['delete', 'no', 'del-1'])).out).toBe('node/del-1 deleted\n');
    const f = file('del.yaml', nodeDoc('del-2'));
    expect((await xctl(['delete', '-f', f])).out).toBe('node/del-2 deleted\n');
    const again = await xctl(['delete', 'nodes', 'del-1']);
    expect(again.code).toBe(4);
    expect(again.err).toContain('Node "del-1" not found');
    expect((await xctl(['get', 'no', 'del-2'])).code).toBe(4);
  });

  it('deletes by -f what an older manifest made, though this xctl refuses the manifest\'s labels', async () => {
    // stored by an older xctl: a label key that is longer than Kubernetes' 63 characters
    const oldKey = `team.example.com/${'x'.repeat(70)}`;
    const stored = { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'del-old', labels: { [oldKey]: 'a' }, uid: 'u-del-old', generation: 1 }, spec: {} };
    await lab.etcd.client().put(new Keys().object('Node', 'del-old')).value(JSON.stringify(stored));
    const f = file('del-old.yaml', nodeDoc('del-old', `{${oldKey}: a}`));
    const apply = await xctl(['apply', '-f', f]);
    expect(apply.code).toBe(2); // the manifest itself is refused now ...
    expect(apply.err).toContain('metadata.labels');
    const del = await xctl(['delete', '-f', f]);
    expect(del.err).toBe('');
    expect(del.out).toBe('node/del-old deleted\n'); // ... but what it made can still go by file
    expect(await lab.etcd.client().get(new Keys().object('Node', 'del-old')).string()).toBeNull();
  });

  it('delete -f still names a document without a kind or name, deleting nothing', async () => {
    await xctl(['apply', '-f', '-'], { stdin: nodeDoc('del-3') });
    const f = file('del-bad.yaml', `${nodeDoc('del-3')}---\n${V}\nkind: Node\nmetadata:\n  labels: {}\nspec: {}\n`);
    const rev = await revision();
    const del = await xctl(['delete', '-f', f]);
    expect(del.code, del.err).toBe(2);
    expect(del.err).toContain(`${f}:10: document 2: metadata.name: is required`);
    expect(del.err).toMatch(/\nnothing was deleted\n$/);
    expect(await revision()).toBe(rev);
    expect((await xctl(['get', 'no', 'del-3'])).code).toBe(0);
  });
});

describe('connection', () => {
  it('exits 5 when etcd is unreachable', async () => {
    const port = await freePort();
    const r = await xctl(['get', 'cn'], { endpoints: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/^error: cannot reach etcd/);
    // the hint names where the endpoints came from, not a setting the user already made
    expect(r.err).toContain(`(no etcd answers at http://127.0.0.1:${port}, taken from XCTL_ENDPOINTS: check the address and that etcd runs there)`);
    const flag = await xctl(['--endpoints', `http://127.0.0.1:${port}`, 'get', 'cn']);
    expect(flag.code).toBe(5);
    expect(flag.err).toContain(`(no etcd answers at http://127.0.0.1:${port}, taken from --endpoints: check the address and that etcd runs there)`);
  });

  it('--endpoints wins over XCTL_ENDPOINTS', async () => {
    const port = await freePort();
    const r = await xctl(['--endpoints', lab.etcd.endpoints.join(','), 'get', 'cn', 'default'], { endpoints: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(0);
  });

  it('a TLS file that cannot be read is a usage error', async () => {
    const r = await xctl(['--cacert', join(lab.dir, 'nope.pem'), 'get', 'cn']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--cacert');
  });
});
