// KvCache's KeyIndex keeps, per prefix looked up, the directories it covers (a scan of every
// directory, which the controller's cache at 1,000 nodes has thousands of, ran on every Node
// reconcile). What it answers must follow every directory that comes or goes.
import { describe, expect, it } from 'vitest';
import { KeyIndex } from '../../pkg/runtime/key-index.js';
import type { RawKv } from '../../pkg/runtime/kv.js';

const kv = (key: string): RawKv => ({ key, value: '{}', createRevision: '1', modRevision: '1', lease: '0' }) as RawKv;
const keys = (ix: KeyIndex, prefix: string) => [...ix.entries(prefix)].map((e) => e.key).sort();

describe('KeyIndex.entries', () => {
  it('answers a repeated prefix from the same directories, and follows directories that come and go', () => {
    const ix = new KeyIndex();
    ix.set(kv('/x/objects/nodes/a'));
    ix.set(kv('/x/status/nodes/a/nodes/a'));
    expect(keys(ix, '/x/status/nodes/')).toEqual(['/x/status/nodes/a/nodes/a']);
    const scans = ix.scans;
    for (let i = 0; i < 100; i++) keys(ix, '/x/status/nodes/');
    expect(ix.scans).toBe(scans);
    ix.set(kv('/x/status/nodes/b/nodes/b'));
    expect(keys(ix, '/x/status/nodes/')).toEqual(['/x/status/nodes/a/nodes/a', '/x/status/nodes/b/nodes/b']);
    ix.set(kv('/x/status/nodes/b/hostsubnets/h'));
    expect(keys(ix, '/x/status/nodes/b/')).toEqual(['/x/status/nodes/b/hostsubnets/h', '/x/status/nodes/b/nodes/b']);
    ix.remove('/x/status/nodes/a/nodes/a');
    expect(keys(ix, '/x/status/nodes/')).toEqual(['/x/status/nodes/b/hostsubnets/h', '/x/status/nodes/b/nodes/b']);
    ix.set(kv('/x/status/nodes/a/nodes/a'));
    expect(keys(ix, '/x/status/nodes/')).toHaveLength(3);
  });

  it('keys added to a directory it already covers show up at once', () => {
    const ix = new KeyIndex();
    ix.set(kv('/x/objects/nodes/a'));
    expect(keys(ix, '/x/objects/nodes/')).toEqual(['/x/objects/nodes/a']);
    ix.set(kv('/x/objects/nodes/b'));
    expect(keys(ix, '/x/objects/nodes/')).toEqual(['/x/objects/nodes/a', '/x/objects/nodes/b']);
  });

  it('a prefix that ends inside a name matches only the keys that start with it', () => {
    const ix = new KeyIndex();
    for (const n of ['node-1', 'node-10', 'other']) ix.set(kv(`/x/objects/nodes/${n}`));
    expect(keys(ix, '/x/objects/nodes/node-1')).toEqual(['/x/objects/nodes/node-1', '/x/objects/nodes/node-10']);
    ix.set(kv('/x/objects/nodes/node-11'));
    expect(keys(ix, '/x/objects/nodes/node-1')).toHaveLength(3);
    expect(keys(ix, '/x/')).toHaveLength(4);
  });
});

describe('KeyIndex.set with its recent directories', () => {
  it('files each key under its own directory, also when one directory is a prefix of another, and after a directory went', () => {
    const ix = new KeyIndex();
    // runs over a few directories, as a writer's claims, statuses and copies come
    for (const k of ['/x/a/1', '/x/a/b/1', '/x/a/2', '/x/a/b/2', '/x/a/b/c/1', '/x/a/3']) ix.set(kv(k));
    expect(keys(ix, '/x/a/b/c/')).toEqual(['/x/a/b/c/1']);
    expect([...ix.byDir.get('/x/a')!.keys()].sort()).toEqual(['/x/a/1', '/x/a/2', '/x/a/3']);
    expect([...ix.byDir.get('/x/a/b')!.keys()].sort()).toEqual(['/x/a/b/1', '/x/a/b/2']);
    ix.remove('/x/a/b/c/1');
    expect(ix.byDir.has('/x/a/b/c')).toBe(false);
    ix.set(kv('/x/a/b/c/2'));
    expect(keys(ix, '/x/a/b/c/')).toEqual(['/x/a/b/c/2']);
    expect(ix.byDir.get('/x/a/b/c')!.size).toBe(1);
  });
});
