import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';
import { ConflictError, type WatchEvent } from '../../pkg/store/types.js';
import type { AnyObject } from '../../pkg/api/index.js';

import { cn, nic, until } from './helpers.js';

let etcd: TestEtcd;
let store: EtcdStore;
beforeAll(async () => { etcd = await startEtcd(); store = createEtcdStore(etcd.client(), '/t'); });
afterAll(async () => { await etcd?.stop(); });

describe('EtcdStore', () => {
  it('creates with defaults, uid, generation and resourceVersion = etcd revision', async () => {
    const o = await store.create(cn('a', '10.1.0.0/16'));
    expect(o.metadata.uid).toMatch(/[0-9a-f-]{36}/);
    expect(o.metadata.generation).toBe(1);
    const got = await store.get('ClusterNetwork', 'a');
    expect(got?.spec).toMatchObject({ cidr: '10.1.0.0/16', masquerade: true, bridgePrefix: 'br' });
    expect(got?.metadata.resourceVersion).toBe(String(await store.revision()));
  });

  it('refuses an update carrying a stale resourceVersion', async () => {
    const o = (await store.get('ClusterNetwork', 'a'))!;
    await store.update({ ...o, spec: { ...o.spec, mtu: 1450 } } as AnyObject);
    await expect(store.update({ ...o, spec: { ...o.spec, mtu: 1500 } } as AnyObject)).rejects.toBeInstanceOf(ConflictError);
    const now = (await store.get('ClusterNetwork', 'a'))!;
    expect((now.spec as { mtu: number }).mtu).toBe(1450);
    expect(now.metadata.generation).toBe(2);
  });

  it('refuses to re-create a deleted object from the resourceVersion it had (apply and update), writing nothing', async () => {
    const o = await store.create(cn('gone', '10.9.0.0/16'));
    expect(await store.delete('ClusterNetwork', 'gone')).toBe(true);
    const rev = await store.revision();
    const msg = `ClusterNetwork "gone": resourceVersion ${o.metadata.resourceVersion} is stale (the object no longer exists); remove metadata.resourceVersion to create it again`;
    await expect(store.applyAll([o])).rejects.toThrow(msg);
    await expect(store.update(o)).rejects.toThrow(msg);
    await expect(store.applyAll([o])).rejects.toBeInstanceOf(ConflictError);
    expect(await store.revision()).toBe(rev);
    expect(await store.get('ClusterNetwork', 'gone')).toBeUndefined();
  });

  it('applies many objects in one transaction, and an unchanged re-apply writes nothing', async () => {
    const before = await store.revision();
    const r = await store.applyAll([cn('b', '10.2.0.0/16'), cn('c', '10.3.0.0/16')]);
    expect(r.map((c) => c.action)).toEqual(['created', 'created']);
    expect(await store.revision()).toBe(before + 1);
    const again = await store.applyAll([cn('b', '10.2.0.0/16'), cn('c', '10.3.0.0/16')]);
    expect(again.map((c) => c.action)).toEqual(['unchanged', 'unchanged']);
    expect(await store.revision()).toBe(before + 1);
  });

  it('keeps the xnet.io/ labels a manifest does not name (the controller\'s mark), and replaces the others', async () => {
    const hs = (labels: Record<string, string> | undefined, bridge: string) => ({
      apiVersion: cn('x', '10.9.0.0/16').apiVersion, kind: 'HostSubnet', metadata: { name: 'lab-hs', ...(labels ? { labels } : {}) },
      spec: { node: 'host-1', clusterNetwork: 'default', bridge },
    }) as AnyObject;
    // as the controller makes it, with a user's label too
    await store.applyAll([hs({ 'xnet.io/managed-by': 'xnet-controller', team: 'a' }, 'br01')]);
    // a hand-written manifest that pins the bridge and names no labels
    const [r] = await store.applyAll([hs(undefined, 'brx')]);
    expect(r.action).toBe('configured');
    const got = await store.get('HostSubnet', 'lab-hs');
    expect(got?.spec).toMatchObject({ bridge: 'brx' });
    expect(got?.metadata.labels).toEqual({ 'xnet.io/managed-by': 'xnet-controller' });
    // the same manifest again changes nothing; one that sets the label gives it its value
    expect((await store.applyAll([hs(undefined, 'brx')]))[0].action).toBe('unchanged');
    await store.applyAll([hs({ 'xnet.io/managed-by': 'someone' }, 'brx')]);
    expect((await store.get('HostSubnet', 'lab-hs'))?.metadata.labels).toEqual({ 'xnet.io/managed-by': 'someone' });
  });

  it('takes empty labels or annotations for none: no change against an object stored without them', async () => {
    await store.applyAll([cn('bare', '10.8.0.0/16')]);
    const before = await store.revision();
    const empty = { ...cn('bare', '10.8.0.0/16'), metadata: { name: 'bare', labels: {}, annotations: {} } } as AnyObject;
    expect((await store.applyAll([empty]))[0].action).toBe('unchanged');
    expect(await store.revision()).toBe(before);
    // created with them: stored without, and the same manifest again is no change
    const fresh = { ...empty, metadata: { ...empty.metadata, name: 'bare2' } } as AnyObject;
    expect((await store.applyAll([fresh]))[0].action).toBe('created');
    expect((await store.get('ClusterNetwork', 'bare2'))?.metadata.labels).toBeUndefined();
    expect((await store.applyAll([fresh]))[0].action).toBe('unchanged');
  });

  it('writes nothing when one object of an apply is invalid', async () => {
    const before = await store.revision();
    await expect(store.applyAll([cn('d', '10.4.0.0/16'), cn('e', '10.5.0.1/16')])).rejects.toThrow(/spec.cidr/);
    expect(await store.revision()).toBe(before);
    expect(await store.get('ClusterNetwork', 'd')).toBeUndefined();
  });

  it('merges controller status with the bound node status, node conditions winning', async () => {
    await store.create(nic('n1', 'host-1'));
    await store.writeStatus('ContainerNic', 'n1', { controller: true }, { ip: '10.76.1.5', conditions: [{ type: 'Ready', status: 'False', reason: 'Pending' }] });
    await store.writeStatus('ContainerNic', 'n1', { node: 'host-1' }, { containerId: 'abc', conditions: [{ type: 'Ready', status: 'True', reason: 'Attached' }] });
    const got = (await store.get('ContainerNic', 'n1'))!;
    expect(got.status).toMatchObject({ ip: '10.76.1.5', containerId: 'abc', conditions: [{ type: 'Ready', status: 'True' }] });
    const rv = got.metadata.resourceVersion;
    await store.writeStatus('ContainerNic', 'n1', { node: 'host-1' }, { containerId: 'def' });
    expect((await store.get('ContainerNic', 'n1'))!.metadata.resourceVersion).toBe(rv);
    await expect(store.writeStatus('ContainerNic', 'ghost', { controller: true }, {})).rejects.toThrow(/not found/);
  });

  it('deletes objects with their status keys; finalizers defer deletion', async () => {
    await store.delete('ContainerNic', 'n1');
    const left = await etcd.client().getAll().prefix('/t/registry/status/').keys();
    expect(left.filter((k) => k.includes('n1'))).toEqual([]);
    await store.create({ ...cn('f', '10.6.0.0/16'), metadata: { name: 'f', finalizers: ['xnet.io/ipam'] } } as AnyObject);
    await store.delete('ClusterNetwork', 'f');
    const marked = (await store.get('ClusterNetwork', 'f'))!;
    expect(marked.metadata.deletionTimestamp).toBeTruthy();
    await store.update({ ...marked, metadata: { ...marked.metadata, finalizers: [] } } as AnyObject);
    expect(await store.get('ClusterNetwork', 'f')).toBeUndefined();
  });

  it('watches from a revision, with merged status events', async () => {
    const from = await store.revision();
    await store.create(nic('w1', 'host-2'));
    await store.writeStatus('ContainerNic', 'w1', { controller: true }, { ip: '10.76.2.9' });
    await store.delete('ContainerNic', 'w1');
    const events: WatchEvent[] = [];
    const w = await store.watch('ContainerNic', from, { onEvent: (e) => events.push(e) });
    try {
      await until(() => events.length >= 3);
    } finally {
      await w.close();
    }
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(events[1].object.status).toMatchObject({ ip: '10.76.2.9' });
  });

  it('relists when the start revision was compacted', async () => {
    const old = await store.revision();
    await store.create(nic('c1', 'host-1'));
    const now = await store.revision();
    await etcd.client().kv.compact({ revision: now, physical: true });
    let relisted: string[] | undefined;
    const events: WatchEvent[] = [];
    const w = await store.watch('ContainerNic', old, { onEvent: (e) => events.push(e), onRelist: (l) => { relisted = l.items.map((i) => i.metadata.name); } });
    try {
      await until(() => relisted !== undefined);
      expect(relisted).toContain('c1');
      await store.create(nic('c2', 'host-1'));
      await until(() => events.some((e) => e.object.metadata.name === 'c2'));
    } finally {
      await w.close();
    }
  });
});


describe('Informer', () => {
  it('lists, then follows adds, updates and deletes', async () => {
    const { Informer } = await import('../../pkg/store/informer.js');
    const seen: string[] = [];
    const inf = new Informer(store, 'ClusterNetwork');
    inf.addHandler({
      onAdd: (o) => seen.push(`add ${o.metadata.name}`),
      onUpdate: (o) => seen.push(`update ${o.metadata.name}`),
      onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
    });
    await inf.start();
    try {
      expect(seen).toContain('add b');
      await store.create(cn('g', '10.7.0.0/16'));
      await store.delete('ClusterNetwork', 'g');
      await until(() => seen.includes('delete g'));
      expect(inf.get('g')).toBeUndefined();
      expect(inf.get('b')?.spec).toMatchObject({ cidr: '10.2.0.0/16' });
    } finally {
      await inf.stop();
    }
  });
});
