// The store against hostile values and a failing connection (issue 8 parts 1 and 6): keys that
// do not decode are skipped and reported, and watches survive compaction and connection cuts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { proxiedEtcdClient, type TcpProxy } from '../harness/tcp-proxy.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';
import { Informer } from '../../pkg/store/informer.js';
import type { WatchEvent } from '../../pkg/store/types.js';
import type { AnyObject } from '../../pkg/api/index.js';

import { cn, nic, until } from './helpers.js';

let etcd: TestEtcd;
let raw: Etcd3;
let store: EtcdStore;
beforeAll(async () => { etcd = await startEtcd(); raw = etcd.client(); store = createEtcdStore(raw, '/f'); });
afterAll(async () => { await etcd?.stop(); });


describe('values that do not decode', () => {
  it('are skipped and named by list, left out of get, and do not stop a watch', async () => {
    await store.create(cn('good', '10.10.0.0/16'));
    await store.create(nic('n1', 'host-1'));
    await raw.put('/f/registry/objects/clusternetworks/junk').value('not json');
    await raw.put('/f/registry/objects/clusternetworks/wrong').value(JSON.stringify({ kind: 'ClusterNetwork', metadata: { name: 'wrong' }, spec: { cidr: '0.0.0.0/0' } }));
    const l = await store.list('ClusterNetwork');
    expect(l.items.map((o) => o.metadata.name)).toEqual(['good']);
    expect(l.skipped?.map((s) => s.key).sort()).toEqual(['/f/registry/objects/clusternetworks/junk', '/f/registry/objects/clusternetworks/wrong']);
    expect(l.skipped?.find((s) => s.key.endsWith('/junk'))?.error).toMatch(/not JSON/);

    const events: WatchEvent[] = [];
    const w = await store.watch('ContainerNic', (await store.list('ContainerNic')).revision, { onEvent: (e) => events.push(e) });
    try {
      await raw.put('/f/registry/status/nodes/host-1/containernics/n1').value('not json');
      // a NIC's controller status is kept in its node's index (keys.controllerStatus)
      await raw.put('/f/registry/bynode/host-1/status/controller/containernics/n1').value(JSON.stringify({ ip: 42 }));
      const got = await store.get('ContainerNic', 'n1');
      expect(got?.metadata.name).toBe('n1');
      expect(got?.status).toBeUndefined();
      await store.writeStatus('ContainerNic', 'n1', { controller: true }, { ip: '10.10.1.5' });
      await store.create(nic('n2', 'host-1'));
      await until(() => events.some((e) => e.object.metadata.name === 'n2'));
      expect(events.find((e) => e.object.metadata.name === 'n1' && (e.object.status as { ip?: string } | undefined)?.ip === '10.10.1.5')).toBeTruthy();
    } finally {
      await w.close();
    }
  });

  it('a handler that throws does not end the watch', async () => {
    const seen: string[] = [];
    const w = await store.watch('ClusterNetwork', await store.revision(), {
      onEvent: (e) => { seen.push(e.object.metadata.name); throw new Error('handler bug'); },
    });
    try {
      await store.create(cn('t1', '10.11.0.0/16'));
      await store.create(cn('t2', '10.12.0.0/16'));
      await until(() => seen.includes('t2'));
    } finally {
      await w.close();
    }
  });
});

/**
 * Unreadable is not absent (docs/security.md): the store's watch keeps a key's last good value
 * while the key does not decode (a newer writer's spec field, an etcdctl edit) and reports the
 * key; a list (xctl get) has no last good value and names the key as skipped, as before.
 */
describe('a key that stops decoding during a watch', () => {
  const objectKey = '/f/registry/objects/containernics/skew';
  const statusKey = '/f/registry/status/nodes/host-2/containernics/skew';
  const macOf = (o: AnyObject | undefined) => (o?.status as { mac?: string } | undefined)?.mac;

  it('keeps the last good object and node status, and deletes the object only when its key goes', async () => {
    await store.create(nic('skew', 'host-2'));
    await store.writeStatus('ContainerNic', 'skew', { node: 'host-2' }, { mac: '02:42:0a:0a:02:05' });
    const skipped: string[] = [];
    const events: WatchEvent[] = [];
    const inf = new Informer(store, 'ContainerNic');
    await inf.start();
    const w = await store.watch('ContainerNic', inf.revision, { onEvent: (e) => events.push(e), onSkipped: (s) => skipped.push(s.key) });
    try {
      const good = inf.get('skew')!;
      const stored = JSON.parse((await raw.get(objectKey).string())!) as { spec: Record<string, unknown> };

      await raw.put(objectKey).value(JSON.stringify({ ...stored, spec: { ...stored.spec, comesLater: true } }));
      await raw.put(statusKey).value(JSON.stringify({ mac: 7 }));
      await until(() => skipped.includes(objectKey) && skipped.includes(statusKey), 'both keys reported skipped');
      expect(events).toEqual([]);
      expect(inf.get('skew')).toEqual(good);
      expect(macOf(inf.get('skew'))).toBe('02:42:0a:0a:02:05');
      // xctl get: a fresh list has no last good value; the key is named, the object left out
      const l = await store.list('ContainerNic');
      expect(l.items.map((o) => o.metadata.name)).not.toContain('skew');
      expect(l.skipped?.map((s) => s.key)).toEqual(expect.arrayContaining([objectKey, statusKey]));

      await raw.put(objectKey).value(JSON.stringify({ ...stored, spec: { ...stored.spec, ifName: 'eth2' } }));
      await until(() => events.some((e) => e.type === 'MODIFIED' && (e.object.spec as { ifName: string }).ifName === 'eth2'), 'MODIFIED with the good value');
      expect(macOf(inf.get('skew'))).toBe('02:42:0a:0a:02:05');

      await raw.delete().key(objectKey);
      await until(() => events.some((e) => e.type === 'DELETED'), 'DELETED on the real delete');
      // the informer has a watch of its own: it hears of the delete when it does
      await until(() => inf.get('skew') === undefined, 'the informer drops it on the real delete');
      expect(events.filter((e) => e.type === 'DELETED')).toHaveLength(1);
    } finally {
      await w.close();
      await inf.stop();
    }
  });
});

describe('watches through a TCP proxy', () => {
  let proxy: TcpProxy;
  let viaProxy: EtcdStore;
  let client: Etcd3;
  beforeAll(async () => {
    ({ proxy, client } = await proxiedEtcdClient(etcd.endpoints[0]));
    viaProxy = createEtcdStore(client, '/f');
  });
  afterAll(async () => { client?.close(); await proxy?.close(); });

  it('an informer follows changes made while its connection was cut', async () => {
    const inf = new Informer(viaProxy, 'ClusterNetwork');
    await inf.start();
    try {
      const before = proxy.accepted;
      proxy.cut();
      await store.create(cn('during-cut', '10.20.0.0/16'));
      await new Promise((r) => setTimeout(r, 300));
      expect(inf.get('during-cut')).toBeUndefined();
      proxy.heal();
      await until(() => inf.get('during-cut') !== undefined);
      expect(proxy.accepted).toBeGreaterThan(before);
      await store.create(cn('after-cut', '10.21.0.0/16'));
      await until(() => inf.get('after-cut') !== undefined);
    } finally {
      await inf.stop();
    }
  });

  it('an informer relists when etcd compacted past its watch while it was cut off', async () => {
    const inf = new Informer(viaProxy, 'ClusterNetwork');
    const deleted: string[] = [];
    inf.addHandler({ onDelete: (o) => deleted.push(o.metadata.name) });
    await inf.start();
    try {
      expect(inf.get('during-cut')).toBeDefined();
      proxy.cut();
      await store.delete('ClusterNetwork', 'during-cut');
      await store.create(cn('compacted', '10.22.0.0/16'));
      const old = inf.revision;
      const rev = await store.revision();
      await raw.kv.compact({ revision: rev, physical: true });
      await expect(raw.kv.range({ key: Buffer.from('/f/'), revision: old + 1 })).rejects.toThrow(/compacted/);
      expect(inf.get('compacted')).toBeUndefined();
      proxy.heal();
      // Resuming from the old revision is cancelled (compact_revision set, empty reason): relist.
      await until(() => inf.get('compacted') !== undefined && deleted.includes('during-cut'));
      await store.create(cn('after-compaction', '10.23.0.0/16'));
      await until(() => inf.get('after-compaction') !== undefined);
    } finally {
      await inf.stop();
    }
  });
});
