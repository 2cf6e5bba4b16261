// A write whose reply is lost after etcd committed it: the client (etcd3's retry, as xctl and
// the daemons configure it) sends the transaction again, which fails its compares, and the
// store plans the write again from what is stored. The user must hear what the write did.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy.js';
import { callDeadlines, etcdFaultHandling } from '../../pkg/etcd/client.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';
import type { WriteProgress } from '../../pkg/store/types.js';
import { PartialWriteError } from '../../pkg/store/txn-writer.js';
import { cn, eventually, obj, throughTxnHook } from './helpers.js';
import type { AnyObject } from '../../pkg/api/index.js';
import { StaleResourceVersionError, type ApplyChange } from '../../pkg/store/types.js';

let etcd: TestEtcd;
let raw: Etcd3;
let proxy: TcpProxy;
let client: Etcd3;
let store: EtcdStore;
/** A client that reaches etcd through the proxy, retrying and counting faults as xctl's does. */
const proxiedClient = () => new Etcd3({ hosts: proxy.endpoint, dialTimeout: 2000, defaultCallOptions: callDeadlines(3000), faultHandling: etcdFaultHandling(1) });
beforeAll(async () => {
  etcd = await startEtcd();
  raw = etcd.client();
  proxy = await startTcpProxy(etcd.endpoints[0]);
  client = proxiedClient();
  store = createEtcdStore(client, '/twice');
});
afterAll(async () => { client?.close(); await proxy?.close(); await etcd?.stop(); });

/** onProgress before the first transaction: from then on its reply is lost, and the connection cut 300 ms later. */
function loseFirstReply(): { onProgress(p: WriteProgress): void; lost: Promise<void> } {
  let lost: Promise<void> | undefined;
  let armed!: () => void;
  const done = new Promise<void>((r) => { armed = r; });
  return {
    onProgress: (p) => {
      if (p.transactions > 0 || lost) return;
      lost = proxy.loseReplies(300);
      void lost.then(armed);
    },
    lost: done,
  };
}

const objectKey = (name: string) => `/twice/registry/objects/clusternetworks/${name}`;

describe('a write sent twice because its reply was lost', () => {
  it('apply reports the object it created as created, stored once with its uid', async () => {
    const before = proxy.accepted;
    const fault = loseFirstReply();
    const [change] = await store.applyAll([cn('c1', '10.30.0.0/16')], { onProgress: fault.onProgress });
    await fault.lost;
    // the fault happened: the client had to connect again
    expect(proxy.accepted).toBeGreaterThan(before);
    const stored = JSON.parse((await raw.get(objectKey('c1')).string())!);
    expect(change.action).toBe('created');
    expect(change.object.metadata.uid).toBe(stored.metadata.uid);
    expect((await raw.getAll().prefix(objectKey('c1')).keys()).length).toBe(1);
  });

  it('apply of a manifest that carries a uid (no condition on a create) reports the object it created as created', async () => {
    const fault = loseFirstReply();
    const before = proxy.accepted;
    const fromElsewhere = { ...cn('c3', '10.31.0.0/16'), metadata: { name: 'c3', uid: '0d3c5b4e-0000-4000-8000-000000000000' } };
    const [change] = await store.applyAll([fromElsewhere], { onProgress: fault.onProgress });
    await fault.lost;
    expect(proxy.accepted).toBeGreaterThan(before);
    const stored = JSON.parse((await raw.get(objectKey('c3')).string())!);
    expect(change.action).toBe('created');
    expect(change.object.metadata.uid).toBe(stored.metadata.uid);
  });

  it('apply reports a change it made as configured', async () => {
    const fault = loseFirstReply();
    const before = proxy.accepted;
    const [change] = await store.applyAll([{ ...cn('c1', '10.30.0.0/16'), metadata: { name: 'c1', labels: { tier: 'b' } } }], { onProgress: fault.onProgress });
    await fault.lost;
    expect(proxy.accepted).toBeGreaterThan(before);
    expect(change.action).toBe('configured');
    expect(JSON.parse((await raw.get(objectKey('c1')).string())!).metadata.labels).toEqual({ tier: 'b' });
  });

  it('delete reports the object it deleted as deleted, not as not found', async () => {
    const fault = loseFirstReply();
    const before = proxy.accepted;
    const [result] = await store.deleteAll([{ kind: 'ClusterNetwork', name: 'c1' }], { onProgress: fault.onProgress });
    await fault.lost;
    expect(proxy.accepted).toBeGreaterThan(before);
    expect(await raw.get(objectKey('c1')).string()).toBeNull();
    expect(result).toBe('deleted');
  });

  it('a delete held to uids (a selection\'s) reports what it deleted and marked, and their uids', async () => {
    const [gone, held] = await store.applyAll([cn('c5', '10.35.0.0/16'), cn('c6', '10.36.0.0/16')]);
    const stored = JSON.parse((await raw.get(objectKey('c6')).string())!);
    await raw.put(objectKey('c6')).value(JSON.stringify({ ...stored, metadata: { ...stored.metadata, finalizers: ['xnet.io/test'] } }));
    const fault = loseFirstReply();
    const before = proxy.accepted;
    let uids: Array<string | undefined> = [];
    const refs = [gone, held].map((c) => ({ kind: 'ClusterNetwork' as const, name: c.object.metadata.name, uid: c.object.metadata.uid }));
    const results = await store.deleteAll(refs, { onProgress: fault.onProgress, onUids: (u) => { uids = u; } });
    await fault.lost;
    expect(proxy.accepted).toBeGreaterThan(before);
    expect(results).toEqual(['deleted', 'marked']);
    expect(await raw.get(objectKey('c5')).string()).toBeNull();
    expect(JSON.parse((await raw.get(objectKey('c6')).string())!).metadata.deletionTimestamp).toEqual(expect.any(String));
    // the one marked is the one a wait waits for
    expect(uids[1]).toBe(held.object.metadata.uid);
  });

  it('a delete by name sent again deletes the object it read, not one made again under the name meanwhile', async () => {
    const [first] = await store.applyAll([cn('c7', '10.37.0.0/16')]);
    const stored = JSON.parse((await raw.get(objectKey('c7')).string())!);
    const fault = loseFirstReply();
    let uids: Array<string | undefined> = [];
    const deleting = store.deleteAll([{ kind: 'ClusterNetwork', name: 'c7' }], { onProgress: fault.onProgress, onUids: (u) => { uids = u; } });
    // once the first delete landed (its reply lost), another writer makes c7 again (as the
    // controller makes a node's HostSubnet again), before the client sends the delete again
    await eventually(async () => (await raw.get(objectKey('c7')).string()) === null, 'the first delete committed', 5000);
    const again = { ...stored, metadata: { ...stored.metadata, uid: '7e7e7e7e-0000-4000-8000-000000000007' } };
    await raw.put(objectKey('c7')).value(JSON.stringify(again));
    const [result] = await deleting;
    await fault.lost;
    expect(result).toBe('deleted');
    // the one made again is still there; the uid said deleted is the one read
    expect(JSON.parse((await raw.get(objectKey('c7')).string())!).metadata.uid).toBe(again.metadata.uid);
    expect(uids[0]).toBe(first.object.metadata.uid);
  });
});

/**
 * Deletes `refs` through the proxy: the first transaction's reply is lost (sent again, it finds
 * its writes done), and once it is settled etcd goes away. Returns what deleteAll threw.
 */
async function deleteLosingFirstReplyThenCut(refs: Array<{ kind: 'Node' | 'ContainerNic'; name: string }>): Promise<unknown> {
  const before = proxy.accepted;
  const fault = loseFirstReply();
  let cut = false;
  // a client of its own, closed once the cut failed its calls
  const viaProxy = proxiedClient();
  const err = await createEtcdStore(viaProxy, '/twice').deleteAll(refs, {
    onProgress: (p) => {
      fault.onProgress(p);
      if (p.done > 0 && !cut) { cut = true; proxy.cut(); }
    },
  }).catch((e: unknown) => e).finally(() => viaProxy.close());
  await fault.lost;
  proxy.heal();
  expect(proxy.accepted, 'the client connected again after the lost reply').toBeGreaterThan(before);
  expect(cut).toBe(true);
  return err;
}

/** A new store, as a new xctl run would have (the proxied client was closed). */
const rerun = () => createEtcdStore(raw, '/twice');

describe('a delete of several transactions, one of whose replies was lost', () => {
  it('counts it as written when etcd then goes away, and the same delete converges', async () => {
    // each Node's delete is a compare and 4 deletes: 32 Nodes a transaction, 70 take 3
    const refs = Array.from({ length: 70 }, (_, i) => ({ kind: 'Node' as const, name: `split-${i}` }));
    const storedNodes = async () => (await raw.getAll().prefix('/twice/registry/objects/nodes/split-').keys()).length;
    await rerun().applyAll(refs.map((r) => obj('Node', r.name, {})));
    expect(await storedNodes()).toBe(70);
    const err = await deleteLosingFirstReplyThenCut(refs);
    expect(await storedNodes()).toBe(70 - 32);
    expect(err).toBeInstanceOf(PartialWriteError);
    expect((err as PartialWriteError).progress).toMatchObject({ total: 70, done: 32, written: 32, transactions: 1 });

    const again = await rerun().deleteAll(refs);
    expect(again.filter((r) => r === 'notfound')).toHaveLength(32);
    expect(again.filter((r) => r === 'deleted')).toHaveLength(38);
    expect(await storedNodes()).toBe(0);
  });

  it('of ContainerNics, which are marked: counts the marks as written, and each node index copy stays its object', async () => {
    // a NIC with its finalizer is marked: a compare and two puts (the object, its copy in its
    // node's index), 64 a transaction; 70 take 2
    const refs = Array.from({ length: 70 }, (_, i) => ({ kind: 'ContainerNic' as const, name: `mark-${i}` }));
    const nic = (name: string) => obj('ContainerNic', name, { node: 'host-1', container: name, ifName: 'eth1', network: { clusterNetwork: 'default' } });
    await rerun().applyAll(refs.map((r) => nic(r.name)));
    const err = await deleteLosingFirstReplyThenCut(refs);
    expect(err).toBeInstanceOf(PartialWriteError);
    expect((err as PartialWriteError).progress).toMatchObject({ total: 70, done: 64, written: 64, transactions: 1 });

    const again = await rerun().deleteAll(refs);
    expect(again.every((r) => r === 'marked')).toBe(true);
    const objects = await raw.getAll().prefix('/twice/registry/objects/containernics/mark-').strings();
    const copies = await raw.getAll().prefix('/twice/registry/bynode/host-1/').strings();
    expect(Object.keys(objects)).toHaveLength(70);
    for (const [key, value] of Object.entries(objects)) {
      expect(JSON.parse(value).metadata.deletionTimestamp, key).toBeTruthy();
      expect(copies[key.replace('/twice/registry/', '/twice/registry/bynode/host-1/')], key).toBe(value);
    }
  });
});

const nodeKey = (name: string) => `/twice/registry/objects/nodes/${name}`;

/** Another writer labels a stored Node (`other: x`), as `xctl label` would. */
async function labelAsAnother(name: string): Promise<void> {
  const stored = JSON.parse((await raw.get(nodeKey(name)).string())!);
  await raw.put(nodeKey(name)).value(JSON.stringify({ ...stored, metadata: { ...stored.metadata, labels: { ...stored.metadata.labels, other: 'x' } } }));
}

/**
 * Applies `objs` through the proxy with a store of at most `maxTxnOps` ops a transaction: the
 * first transaction's reply is lost (sent again, its compares fail), and before the store
 * reads what is stored again, another writer labels `changed`. `cutAfterDone`: etcd goes away
 * once that many objects are done. Returns what applyAll returned or threw, and its last progress.
 */
async function applyLosingFirstReplyThenChanged(objs: AnyObject[], changed: string, o: { maxTxnOps?: number; cutAfterDone?: number } = {}) {
  const before = proxy.accepted;
  const fault = loseFirstReply();
  const viaProxy = proxiedClient();
  const store = createEtcdStore(viaProxy, '/twice');
  if (o.maxTxnOps) store.limits = { ...store.limits, maxTxnOps: o.maxTxnOps };
  let refused = false;
  let labeled = false;
  let cut = false;
  let last: WriteProgress | undefined;
  const result = await throughTxnHook(viaProxy, async (req, send) => {
    // the read of the replan: another writer's change landed since the refused transaction
    if (refused && !labeled) { labeled = true; await labelAsAnother(changed); }
    const answer = await send(req);
    if (!answer.succeeded && req.success?.some((op) => op.request_put)) refused = true;
    return answer;
  }, () => store.applyAll(objs, {
    onProgress: (p) => {
      last = p;
      fault.onProgress(p);
      if (o.cutAfterDone !== undefined && p.done >= o.cutAfterDone && !cut) { cut = true; proxy.cut(); }
    },
  }).catch((e: unknown) => e)).finally(() => viaProxy.close());
  await fault.lost;
  proxy.heal();
  expect(proxy.accepted, 'the client connected again after the lost reply').toBeGreaterThan(before);
  expect(labeled, 'another writer changed an object before the replan').toBe(true);
  return { result, last };
}

describe('a write sent twice, one of its objects changed by another writer before it is planned again', () => {
  it('a split apply counts the transaction whose reply was lost, and reports the object it created as created', async () => {
    const names = ['lost-a', 'lost-b', 'lost-c'];
    // a Node's create is one put: two a transaction, three take two; etcd goes away once the
    // replanned first transaction (lost-b written again over the other writer's label) is done
    const { result, last } = await applyLosingFirstReplyThenChanged(names.map((n) => obj('Node', n, {})), 'lost-b', { maxTxnOps: 2, cutAfterDone: 2 });
    expect(JSON.parse((await raw.get(nodeKey('lost-b')).string())!).metadata.labels ?? {}).toEqual({});
    expect(await raw.get(nodeKey('lost-c')).string()).toBeNull();
    expect(result).toBeInstanceOf(PartialWriteError);
    // three transactions planned in all: the one whose reply was lost, lost-b's again, lost-c's
    expect((result as PartialWriteError).progress).toMatchObject({ total: 3, done: 2, written: 2, transactions: 2, planned: 3 });
    expect(last).toMatchObject({ done: 2, written: 2, transactions: 2 });
  });

  it('the object created is reported created, not configured, when the replan writes it again', async () => {
    const { result } = await applyLosingFirstReplyThenChanged(['made-a', 'made-b'].map((n) => obj('Node', n, {})), 'made-b');
    const changes = result as ApplyChange[];
    expect(changes.map((c) => c.action)).toEqual(['created', 'created']);
    const stored = JSON.parse((await raw.get(nodeKey('made-b')).string())!);
    expect(changes[1].object.metadata.uid).toBe(stored.metadata.uid);
    expect(stored.metadata.labels ?? {}).toEqual({});
  });

  it('an apply of one transaction whose replan is refused (a stale resourceVersion) says that the transaction was written', async () => {
    const [held] = await createEtcdStore(raw, '/twice').applyAll([obj('Node', 'pinned-b', {})]);
    const pinned = { ...obj('Node', 'pinned-b', {}, { mine: 'y' }), metadata: { name: 'pinned-b', labels: { mine: 'y' }, resourceVersion: held.object.metadata.resourceVersion } } as AnyObject;
    const { result } = await applyLosingFirstReplyThenChanged([obj('Node', 'pinned-a', {}), pinned], 'pinned-b');
    // the one transaction committed: pinned-a created, pinned-b labeled; then another writer labeled it too
    expect(await raw.get(nodeKey('pinned-a')).string()).not.toBeNull();
    expect(JSON.parse((await raw.get(nodeKey('pinned-b')).string())!).metadata.labels).toEqual({ mine: 'y', other: 'x' });
    expect(result).toBeInstanceOf(PartialWriteError);
    const e = result as PartialWriteError;
    expect(e.cause).toBeInstanceOf(StaleResourceVersionError);
    expect(e.progress).toMatchObject({ total: 2, done: 0, written: 2, transactions: 1, planned: 2 });
    expect(e.inFlight).toBe(false);
  });
});
