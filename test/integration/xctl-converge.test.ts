// xctl apply and diff against a real etcd, in-process through runXctl (the code the program
// runs): what counts as a change, and what a carried metadata.resourceVersion or uid means.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { xctlInProcess } from '../harness/xctl-in-process.js';
import { manyApplied, xctlCounted } from '../harness/xctl-requests.js';
import type { ClusterNetwork } from '../../pkg/api/index.js';

const lab = xctlInProcess('xctl-converge');
const xctl = (args: string[], stdin = '') => lab.xctl(args, { stdin });
const file = (name: string, text: string) => lab.file(name, text);

const lineOf = (text: string, start: string) => text.split('\n').findIndex((l) => l.trim().startsWith(start)) + 1;
const V = 'apiVersion: xnet.io/v1alpha1';
const cnDoc = (name: string, cidr: string) => `${V}\nkind: ClusterNetwork\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n  hostPrefix: 24\n`;

describe('xctl apply of a manifest carrying metadata.resourceVersion', () => {
  it('converges when re-run: what is already as wanted is unchanged, a real change on a stale resourceVersion is still refused', async () => {
    expect((await xctl(['apply', '-f', '-'], cnDoc('rerun', '10.110.0.0/16'))).code).toBe(0);
    const old = (await xctl(['get', 'cn', 'rerun', '-o', 'yaml'])).out;
    expect(parse(old).metadata.resourceVersion).toMatch(/^\d+$/);
    const edited = file('rerun.yaml', old.replace('masquerade: true', 'masquerade: false'));
    const first = await xctl(['apply', '-f', edited]);
    expect(first).toMatchObject({ code: 0, out: 'clusternetwork/rerun configured\n' });
    const after = (await lab.store.get('ClusterNetwork', 'rerun'))!;
    const rev = await lab.store.revision();
    // the same apply again (as after one that stopped midway): nothing to write, so nothing stale
    const again = await xctl(['apply', '-f', edited]);
    expect(again).toMatchObject({ code: 0, out: 'clusternetwork/rerun unchanged\n', err: '' });
    expect(await lab.store.revision()).toBe(rev);
    expect((await lab.store.get('ClusterNetwork', 'rerun'))!.metadata.resourceVersion).toBe(after.metadata.resourceVersion);
    expect((await xctl(['diff', '-f', edited])).code).toBe(0);
    // the same resourceVersion with a change it would overwrite: the lost update is refused
    const changed = await xctl(['apply', '-f', '-'], old.replace('masquerade: true', 'masquerade: false').replace('bridgePrefix: br', 'bridgePrefix: bx'));
    expect(changed.code).toBe(3);
    expect(changed.err).toContain('metadata.resourceVersion: the object has been modified since resourceVersion');
    expect((await lab.store.get('ClusterNetwork', 'rerun'))!.spec).toMatchObject({ bridgePrefix: 'br', masquerade: false });
  });

  it('does not re-create a deleted object: exit 3 at the resourceVersion line, nothing written', async () => {
    expect((await xctl(['apply', '-f', '-'], cnDoc('gone', '10.111.0.0/16'))).code).toBe(0);
    const saved = (await xctl(['get', 'cn', 'gone', '-o', 'yaml'])).out;
    const rv = parse(saved).metadata.resourceVersion as string;
    const f = file('gone.yaml', saved);
    expect((await xctl(['delete', 'cn', 'gone'])).code).toBe(0);
    expect((await xctl(['get', 'cn', 'gone'])).code).toBe(4);
    const rev = await lab.store.revision();
    const r = await xctl(['apply', '-f', f]);
    expect(r.code).toBe(3);
    expect(r.out).toBe('');
    expect(r.err).toBe(`error: conflict: ${f}:${lineOf(saved, 'resourceVersion:')}: document 1 (clusternetwork/gone): metadata.resourceVersion: ` +
      `the object no longer exists (deleted since resourceVersion ${rv}); remove metadata.resourceVersion to create it again\nnothing was written\n`);
    expect(await lab.store.revision()).toBe(rev);
    expect((await xctl(['get', 'cn', 'gone'])).code).toBe(4);
    const diff = await xctl(['diff', '-f', f]);
    expect(diff.code).toBe(3);
    expect(diff.err).toContain('metadata.resourceVersion: the object no longer exists');
    // diff never writes: its refusal is the problem alone, as for an invalid manifest
    expect(diff.err).not.toContain('nothing was written');
    // without the resourceVersion it is a create, as the message says
    const fresh = await xctl(['apply', '-f', '-'], saved.replace(/^ {2}resourceVersion:.*\n/m, ''));
    expect(fresh).toMatchObject({ code: 0, out: 'clusternetwork/gone created\n' });
  });

  it('does not apply an edit of a deleted object to the one made again under its name: exit 3 at metadata.uid, nothing written', async () => {
    expect((await xctl(['apply', '-f', '-'], cnDoc('again', '10.113.0.0/16'))).code).toBe(0);
    const saved = (await xctl(['get', 'cn', 'again', '-o', 'yaml'])).out;
    const oldUid = parse(saved).metadata.uid as string;
    expect((await xctl(['delete', 'cn', 'again'])).code).toBe(0);
    expect((await xctl(['apply', '-f', '-'], cnDoc('again', '10.113.0.0/16'))).out).toBe('clusternetwork/again created\n');
    const now = (await lab.store.get('ClusterNetwork', 'again'))!;
    expect(now.metadata.uid).not.toBe(oldUid);
    // the saved copy without its resourceVersion (which alone would be stale), with an edit
    const edited = saved.replace(/^ {2}resourceVersion:.*\n/m, '').replace('masquerade: true', 'masquerade: false');
    expect(edited).toContain(`uid: ${oldUid}`);
    const f = file('again.yaml', edited);
    const rev = await lab.store.revision();
    for (const cmd of ['apply', 'diff']) {
      const r = await xctl([cmd, '-f', f]);
      expect(r.code).toBe(3);
      expect(r.err).toContain(`error: conflict: ${f}:${lineOf(edited, 'uid:')}: document 1 (clusternetwork/again): metadata.uid: ` +
        `the object was deleted and made again since it was read (uid ${oldUid}; stored: ${now.metadata.uid}); remove metadata.uid to apply to the object stored now`);
    }
    expect(await lab.store.revision()).toBe(rev);
    expect(((await lab.store.get('ClusterNetwork', 'again')) as ClusterNetwork).spec.masquerade).toBe(true);
    // an empty uid is none, as in Kubernetes
    expect((await xctl(['diff', '-f', '-'], edited.replace(`uid: ${oldUid}`, 'uid: ""'))).code).toBe(1);
    // its own uid is no conflict: the edit applies
    const own = await xctl(['apply', '-f', '-'], edited.replace(`uid: ${oldUid}`, `uid: ${now.metadata.uid}`));
    expect(own).toMatchObject({ code: 0, out: 'clusternetwork/again configured\n' });
    expect(((await lab.store.get('ClusterNetwork', 'again')) as ClusterNetwork).spec.masquerade).toBe(false);
  });
});

describe('the order of a map\'s keys', () => {
  const keyed = (order: 'ba' | 'ab') => {
    const m = order === 'ba' ? '{b: "2", a: "1"}' : '{a: "1", b: "2"}';
    return `${V}\nkind: ClusterNetwork\nmetadata:\n  name: keys\n  labels: ${m}\n  annotations: ${m}\n` +
      `spec:\n  cidr: 10.112.0.0/16\n  hostPrefix: 24\n  nodeSelector:\n    matchLabels: ${m}\n`;
  };

  it('is no change: apply says unchanged and writes nothing, diff exits 0', async () => {
    expect((await xctl(['apply', '-f', '-'], keyed('ba'))).out).toBe('clusternetwork/keys created\n');
    const before = (await lab.store.get('ClusterNetwork', 'keys'))!;
    const rev = await lab.store.revision();
    const diff = await xctl(['diff', '-f', '-'], keyed('ab'));
    expect(diff).toMatchObject({ code: 0, out: '' });
    const r = await xctl(['apply', '-f', '-'], keyed('ab'));
    expect(r).toMatchObject({ code: 0, out: 'clusternetwork/keys unchanged\n' });
    const after = (await lab.store.get('ClusterNetwork', 'keys'))!;
    expect(await lab.store.revision()).toBe(rev);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.metadata.generation).toBe(1);
  });

  it('still sees a changed value among reordered keys', async () => {
    const changed = keyed('ab').replace('matchLabels: {a: "1", b: "2"}', 'matchLabels: {a: "1", b: "3"}');
    const diff = await xctl(['diff', '-f', '-'], changed);
    expect(diff.code).toBe(1);
    expect(diff.out).toMatch(/-\s+b: "2"\n\+\s+b: "3"\n/);
    const r = await xctl(['apply', '-f', '-'], changed);
    expect(r).toMatchObject({ code: 0, out: 'clusternetwork/keys configured\n' });
    expect((await lab.store.get('ClusterNetwork', 'keys'))!.metadata.generation).toBe(2);
  });

  it('refuses an apply of an object being deleted at its name, saying what it waits for and how to wait: exit 3, nothing written', async () => {
    // a ContainerNic is created with the finalizer xnet.io/address-in-use; no controller runs here to remove it
    const doc = `${V}\nkind: ContainerNic\nmetadata:\n  name: leaving\nspec:\n  node: host-1\n  container: c\n  ifName: eth1\n  network: {clusterNetwork: default}\n`;
    const f = file('leaving.yaml', doc);
    expect((await xctl(['apply', '-f', f])).code).toBe(0);
    expect((await xctl(['delete', '-f', f])).code).toBe(0);
    expect((await lab.store.get('ContainerNic', 'leaving'))!.metadata.deletionTimestamp).toBeDefined();
    const rev = await lab.store.revision();
    const r = await xctl(['apply', '-f', f]);
    expect(r.code).toBe(3);
    expect(r.err).toBe(`error: conflict: ${f}:${lineOf(doc, 'name:')}: document 1 (containernic/leaving): metadata.name: is being deleted ` +
      '(it waits for its finalizers: xnet.io/address-in-use); apply it again once it is gone: xctl wait containernic leaving --for delete\nnothing was written\n');
    expect(await lab.store.revision()).toBe(rev);
  });
});


describe('xctl diff -f of many changed objects', () => {
  it('shows each one against what is stored, reading them in one request rather than one (or more) per object', async () => {
    const n = 30;
    const node = (rack: string) => (name: string) => `${V}\nkind: Node\nmetadata: {name: ${name}, labels: {rack: ${rack}}}\n`;
    const { names } = await manyApplied(lab, n, 'Node', 'many', node('r7'));
    const changed = file('many-changed.yaml', names.map(node('r8')).join('---\n'));
    const { r, requests } = await xctlCounted(lab, ['diff', '-f', changed]);
    expect(r.code, r.err).toBe(1);
    expect(r.out.match(/^--- node\/many-\d\d \(live, resourceVersion \d+\)$/gm)).toHaveLength(n);
    expect(r.out.match(/^-\s+rack: r7\n\+\s+rack: r8$/gm)).toHaveLength(n);
    // the whole diff (apply's checks, its dry run, the live objects) takes fewer requests than there are objects
    expect(requests).toBeGreaterThan(0);
    expect(requests).toBeLessThan(n);
  });
});
