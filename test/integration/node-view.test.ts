// What a node's agent watches (issue 10 part 3): only what concerns its node, through one
// cache on one watch stream; another node's NIC changes and reports never reach it; a change
// that concerns it arrives, also across a cut connection and a compaction (relist).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { etcdMetric as metricOf, startEtcd, type TestEtcd } from '../harness/etcd.js';
import { proxiedEtcdClient, type TcpProxy } from '../harness/tcp-proxy.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';
import { NodeView } from '../../pkg/store/node-view.js';
import { Informer } from '../../pkg/store/informer.js';
import type { CacheChange } from '../../pkg/runtime/kv-cache.js';
import type { AnyObject, ContainerNic } from '../../pkg/api/index.js';
import { cn, eventually, nic, obj } from './helpers.js';

let etcd: TestEtcd;
let raw: Etcd3;
let store: EtcdStore;
beforeAll(async () => { etcd = await startEtcd(); raw = etcd.client(); store = createEtcdStore(raw, '/v'); });
afterAll(async () => { await etcd?.stop(); });

async function waitFor(cond: () => boolean, what: string, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const etcdMetric = (name: string) => metricOf(etcd.endpoints[0], name);

const ipOf = (o: AnyObject | undefined) => (o?.status as { ip?: string } | undefined)?.ip;

describe("a node's view", () => {
  let client: Etcd3;
  let view: NodeView;
  const changes: CacheChange[] = [];
  beforeAll(async () => {
    await store.create(cn('default', '10.76.0.0/16'));
    await store.create(obj('Node', 'host-1', {}));
    await store.create(obj('Node', 'host-2', {}));
    await store.create(nic('mine-before', 'host-1'));
    await store.writeStatus('ContainerNic', 'mine-before', { controller: true }, { ip: '10.76.1.2' });
    client = etcd.client();
    view = new NodeView(client, store.keys, 'host-1');
  });
  afterAll(async () => { await view?.close(); client?.close(); });

  it('opens one watch stream for every kind it follows', async () => {
    const streams = await etcdMetric('etcd_debugging_mvcc_watch_stream_total');
    await view.start();
    view.cache.onChange((c) => changes.push(c));
    expect(await etcdMetric('etcd_debugging_mvcc_watch_stream_total')).toBe(streams + 1);
    expect(ipOf((await view.list('ContainerNic')).items.find((n) => n.metadata.name === 'mine-before'))).toBe('10.76.1.2');
    expect((await view.list('Node')).items.map((n) => n.metadata.name).sort()).toEqual(['host-1', 'host-2']);
  });

  it("receives no event for another node's NIC, its allocation, its report or its heartbeat", async () => {
    const from = changes.length;
    await store.create(nic('theirs', 'host-2'));
    await store.writeStatus('ContainerNic', 'theirs', { controller: true }, { ip: '10.76.2.2' });
    await store.writeStatus('ContainerNic', 'theirs', { node: 'host-2' }, { mac: '02:42:0a:4c:02:02' });
    await store.writeStatus('Node', 'host-2', { node: 'host-2' }, { lastHeartbeatTime: new Date().toISOString() });
    await store.delete('ContainerNic', 'theirs');
    // a change of its own after them: when it arrives, anything before it would have too
    await store.create(nic('mine', 'host-1'));
    await waitFor(() => changes.slice(from).some((c) => c.key.endsWith('/mine')), 'its own NIC');
    expect(changes.slice(from).map((c) => c.key)).toEqual([store.keys.indexed('host-1', store.keys.object('ContainerNic', 'mine'))]);
    expect((await view.list('ContainerNic')).items.map((n) => n.metadata.name).sort()).toEqual(['mine', 'mine-before']);
  });

  it('a change that concerns it arrives through the view, merged: its allocation, a peer subnet', async () => {
    const nics = new Informer<ContainerNic>(view, 'ContainerNic');
    const subnets = new Informer(view, 'HostSubnet');
    await nics.start();
    try {
      await subnets.start();
      await store.writeStatus('ContainerNic', 'mine', { controller: true }, { ip: '10.76.1.3' });
      await store.create(obj('HostSubnet', 'default-host-2', { node: 'host-2', clusterNetwork: 'default', subnet: '10.76.2.0/24' }));
      await store.writeStatus('HostSubnet', 'default-host-2', { controller: true }, { subnet: '10.76.2.0/24', nodeAddress: '198.18.0.12' });
      await waitFor(() => ipOf(nics.get('mine')) === '10.76.1.3', 'the allocation');
      await waitFor(() => (subnets.get('default-host-2')?.status as { nodeAddress?: string } | undefined)?.nodeAddress === '198.18.0.12', 'the peer subnet');
      // moved to another node: it leaves this view (the index copies move with it)
      await store.applyAll([nic('mine', 'host-2')]);
      await waitFor(() => nics.get('mine') === undefined, 'the moved NIC to leave');
      expect(await raw.getAll().prefix(store.keys.nodeIndex('host-1')).keys()).toEqual([
        store.keys.indexed('host-1', store.keys.object('ContainerNic', 'mine-before')),
        store.keys.indexed('host-1', store.keys.status('ContainerNic', 'mine-before', { controller: true })),
      ].sort());
    } finally {
      // stopping an informer that never started is a no-op
      await nics.stop();
      await subnets.stop();
    }
  });

  it('skips a copy in its index that does not decode, and goes on', async () => {
    const junk = store.keys.indexed('host-1', store.keys.object('ContainerNic', 'junk'));
    await raw.put(junk).value('not json');
    await store.create(nic('after-junk', 'host-1'));
    await waitFor(() => changes.some((c) => c.key.endsWith('/after-junk')), 'the NIC after the junk');
    const l = await view.list('ContainerNic');
    expect(l.items.map((n) => n.metadata.name)).toContain('after-junk');
    expect(l.skipped?.map((s) => s.error).join()).toMatch(/not JSON/);
    await raw.delete().key(junk);
  });
});

/**
 * Unreadable is not absent (docs/security.md): a key of the view that stops decoding (an
 * etcdctl edit, or a newer xctl writing a spec field this version does not know) keeps its
 * last good value and is reported skipped; only a delete of the key deletes.
 */
describe("a node's view of a key that stops decoding", () => {
  let client: Etcd3;
  let view: NodeView;
  let nics: Informer<ContainerNic>;
  const deleted: string[] = [];
  const updated: ContainerNic[] = [];
  const objectKey = () => store.keys.object('ContainerNic', 'skew');
  /** where the controller keeps its status of the NIC (host-4's index), and the key the view names it by */
  const statusKey = () => store.keys.controllerStatus('ContainerNic', 'skew-status', 'host-4')!;
  const statusName = () => store.keys.status('ContainerNic', 'skew-status', { controller: true });
  const skipped = async () => ((await view.list('ContainerNic')).skipped ?? []).map((s) => s.key);
  /** The NIC's object key and its copy in host-4's index, as a newer writer would put them. */
  const putObject = async (f: (o: { spec: Record<string, unknown> }) => void) => {
    const o = JSON.parse((await raw.get(objectKey()).string())!) as { spec: Record<string, unknown> };
    f(o);
    for (const k of [objectKey(), store.keys.indexed('host-4', objectKey())]) await raw.put(k).value(JSON.stringify(o));
  };
  beforeAll(async () => {
    await store.create(nic('skew', 'host-4'));
    await store.writeStatus('ContainerNic', 'skew', { controller: true }, { ip: '10.76.4.2' });
    client = etcd.client();
    view = new NodeView(client, store.keys, 'host-4');
    await view.start();
    nics = new Informer<ContainerNic>(view, 'ContainerNic');
    nics.addHandler({ onUpdate: (o) => updated.push(o), onDelete: (o) => deleted.push(o.metadata.name) });
    await nics.start();
  });
  afterAll(async () => { await nics?.stop(); await view?.close(); client?.close(); });

  it('keeps the last good object while its key does not decode, and deletes it only when the key goes', async () => {
    const good = nics.get('skew')!;
    expect(good.spec.ifName).toBe('eth1');
    await putObject((o) => { o.spec.ifName = 'eth9'; o.spec.comesLater = true; });
    await eventually(async () => (await skipped()).includes(objectKey()), 'the refused object key reported skipped');
    expect(deleted).toEqual([]);
    expect(view.unreadable('ContainerNic')).toEqual(['skew']);
    expect(nics.get('skew')).toEqual(good);
    expect((await view.list('ContainerNic')).items.find((n) => n.metadata.name === 'skew')?.spec).toEqual(good.spec);

    await putObject((o) => { o.spec.ifName = 'eth2'; delete o.spec.comesLater; });
    await waitFor(() => nics.get('skew')?.spec.ifName === 'eth2', 'the good value again');
    expect(updated.at(-1)?.spec.ifName).toBe('eth2');
    expect(ipOf(nics.get('skew'))).toBe('10.76.4.2');
    expect(await skipped()).not.toContain(objectKey());
    expect(view.unreadable('ContainerNic')).toEqual([]);

    await putObject((o) => { o.spec.comesLater = true; });
    await eventually(async () => (await skipped()).includes(objectKey()), 'refused again');
    await raw.delete().key(objectKey());
    await raw.delete().key(store.keys.indexed('host-4', objectKey()));
    await waitFor(() => deleted.includes('skew'), 'DELETED on the real delete');
    expect(nics.get('skew')).toBeUndefined();
    expect(await skipped()).not.toContain(objectKey());
  });

  it("keeps the controller's last good status of a NIC in its index while it does not decode", async () => {
    await store.create(nic('skew-status', 'host-4'));
    await store.writeStatus('ContainerNic', 'skew-status', { controller: true }, { ip: '10.76.4.5' });
    await waitFor(() => ipOf(nics.get('skew-status')) === '10.76.4.5', 'the NIC and its address');
    const before = updated.length;
    await raw.put(statusKey()).value(JSON.stringify({ ip: 42 }));
    await eventually(async () => (await skipped()).includes(statusName()), 'the refused status reported skipped');
    expect(ipOf(nics.get('skew-status'))).toBe('10.76.4.5');
    expect(updated.slice(before).map(ipOf)).not.toContain(undefined);

    await raw.put(statusKey()).value(JSON.stringify({ ip: '10.76.4.6' }));
    await waitFor(() => ipOf(nics.get('skew-status')) === '10.76.4.6', 'the good status again');
    expect(await skipped()).not.toContain(statusName());

    await raw.put(statusKey()).value('not json');
    await eventually(async () => (await skipped()).includes(statusName()), 'refused again');
    expect(ipOf(nics.get('skew-status'))).toBe('10.76.4.6');
    await raw.delete().key(statusKey());
    await waitFor(() => nics.get('skew-status') !== undefined && ipOf(nics.get('skew-status')) === undefined, 'the status gone on the real delete');
    expect(deleted).not.toContain('skew-status');
  });
});

describe("a node's view through a TCP proxy", () => {
  let proxy: TcpProxy;
  let client: Etcd3;
  let view: NodeView;
  beforeAll(async () => {
    ({ proxy, client } = await proxiedEtcdClient(etcd.endpoints[0]));
    view = new NodeView(client, store.keys, 'host-3');
    await view.start();
  });
  afterAll(async () => { await view?.close(); client?.close(); await proxy?.close(); });

  it('follows a change made while its connection was cut', async () => {
    const nics = new Informer<ContainerNic>(view, 'ContainerNic');
    await nics.start();
    try {
      proxy.cut();
      await store.create(nic('cut-1', 'host-3'));
      await new Promise((r) => setTimeout(r, 300));
      expect(nics.get('cut-1')).toBeUndefined();
      proxy.heal();
      await waitFor(() => nics.get('cut-1') !== undefined, 'the NIC made during the cut');
    } finally {
      await nics.stop();
    }
  });

  it('relists when etcd compacted past its watch while it was cut off', async () => {
    const nics = new Informer<ContainerNic>(view, 'ContainerNic');
    const deleted: string[] = [];
    nics.addHandler({ onDelete: (o) => deleted.push(o.metadata.name) });
    await nics.start();
    try {
      const relists = view.cache.relists;
      proxy.cut();
      await store.delete('ContainerNic', 'cut-1');
      await store.create(nic('compacted', 'host-3'));
      await store.writeStatus('ContainerNic', 'compacted', { controller: true }, { ip: '10.76.3.9' });
      await raw.kv.compact({ revision: await store.revision(), physical: true });
      proxy.heal();
      await waitFor(() => ipOf(nics.get('compacted')) === '10.76.3.9' && deleted.includes('cut-1'), 'the relist');
      expect(view.cache.relists).toBeGreaterThan(relists);
      await store.create(nic('after-compaction', 'host-3'));
      await waitFor(() => nics.get('after-compaction') !== undefined, 'a change after the relist');
    } finally {
      await nics.stop();
    }
  });
});
