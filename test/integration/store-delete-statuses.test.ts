// Deleting an object that many nodes report on, against a stock etcd (128 ops per
// transaction): the object goes in one transaction whatever its number of node statuses, the
// statuses follow in transactions that fit, and a status of a new object of the same name
// (made while the old one's statuses are being cleaned up) is never taken with them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startStoreEtcd, type TestEtcd } from '../harness/etcd.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';
import { runXctl } from '../../pkg/cli/program.js';
import { prefixEnd } from '../../pkg/etcd/range.js';
import { obj, throughTxnHook, type TxnRequest } from './helpers.js';

let etcd: TestEtcd;
let client: Etcd3;
let store: EtcdStore;

beforeAll(async () => { ({ etcd, client, store } = await startStoreEtcd()); });
afterAll(async () => { await etcd?.stop(); });

async function xctl(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(args, {
    out: (t) => { r.out += t; },
    err: (t) => { r.err += t; },
    stdin: async () => '',
    env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') },
    errIsTTY: false,
  });
  return r;
}

const mvn = (name: string) => obj('MacvlanNet', name, { subnet: '10.20.0.0/16' });
const nodes = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `node-${from + i}`);

/**
 * The MacvlanNet and one status of it from each node. Created without the finalizer `apply`
 * gives it (no controller runs here to release it): a delete takes it at once, and with it
 * what this file checks, the store's cleanup of the nodes' statuses.
 */
async function withStatuses(name: string, from: string[]): Promise<void> {
  await store.create(mvn(name));
  for (let i = 0; i < from.length; i += 50) {
    await Promise.all(from.slice(i, i + 50).map((node) => store.writeStatus('MacvlanNet', name, { node }, { name: node, ready: true })));
  }
}

/** Whether the transaction deletes `key`. */
const deletes = (req: TxnRequest, key: string) => !!req.success?.some((op) => op.request_delete_range?.key?.toString() === key);

/** Every node that has a status key of the MacvlanNet in etcd. */
async function reporters(name: string): Promise<string[]> {
  const prefix = store.keys.nodeStatuses();
  const keys = await client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix), keys_only: true });
  return keys.kvs.map((kv) => store.keys.parseStatusKey(kv.key.toString())!)
    .filter((p) => p.kind === 'MacvlanNet' && p.name === name).map((p) => ('node' in p.writer ? p.writer.node : '')).sort();
}

const stored = async (name: string) => (await client.kv.range({ key: Buffer.from(store.keys.object('MacvlanNet', name)) })).kvs.length > 0;

describe('deleting an object that 200 nodes report on, at etcd default limits', () => {
  it('xctl delete macvlannet succeeds and takes the object and every node status', async () => {
    await withStatuses('lan', nodes(200));
    expect(await reporters('lan')).toHaveLength(200);
    const r = await xctl(['delete', 'macvlannet', 'lan']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('macvlannet/lan deleted');
    expect(await stored('lan')).toBe(false);
    expect(await reporters('lan')).toEqual([]);
  });

  it('a batch delete containing it succeeds too', async () => {
    await withStatuses('lan2', nodes(200));
    await store.create(mvn('small'));
    await store.writeStatus('MacvlanNet', 'small', { node: 'node-1' }, { ready: true });
    const done = await store.deleteAll([{ kind: 'MacvlanNet', name: 'small' }, { kind: 'MacvlanNet', name: 'lan2' }]);
    expect(done).toEqual(['deleted', 'deleted']);
    expect(await stored('lan2')).toBe(false);
    expect(await reporters('lan2')).toEqual([]);
    expect(await reporters('small')).toEqual([]);
  });

  it('does not strip a MacvlanNet of the same name made again while the old statuses are cleaned up', async () => {
    await withStatuses('again', nodes(200));
    // The test's client makes the object again, with 60 statuses (some nodes old, some new),
    // as soon as the old object's delete is committed, before the store cleans up.
    const racing = etcd.client();
    const racer = createEtcdStore(racing);
    const fresh = [...nodes(30, 0), ...nodes(30, 500)];
    let raced = false;
    const done = await throughTxnHook(client, async (req, send) => {
      const res = await send(req);
      if (!raced && deletes(req, store.keys.object('MacvlanNet', 'again')) && res.succeeded) {
        raced = true;
        await racer.applyAll([mvn('again')]);
        await Promise.all(fresh.map((node) => racer.writeStatus('MacvlanNet', 'again', { node }, { name: node, ready: true, fresh: true })));
      }
      return res;
    }, () => store.deleteAll([{ kind: 'MacvlanNet', name: 'again' }]));
    expect(done).toEqual(['deleted']);
    expect(raced).toBe(true);
    expect(await stored('again')).toBe(true);
    expect(await reporters('again')).toEqual([...fresh].sort());
  });

  it('keeps a status written between the cleanup\'s read and its delete (the object made again meanwhile)', async () => {
    await withStatuses('window', nodes(200));
    const racer = createEtcdStore(etcd.client());
    let raced = false;
    const done = await throughTxnHook(client, async (req, send) => {
      const takesIt = deletes(req, store.keys.status('MacvlanNet', 'window', { node: 'node-0' }));
      if (!raced && takesIt && !deletes(req, store.keys.object('MacvlanNet', 'window'))) {
        // the cleanup has read node-0's old status as an orphan and is about to delete it
        raced = true;
        await racer.applyAll([mvn('window')]);
        await racer.writeStatus('MacvlanNet', 'window', { node: 'node-0' }, { name: 'node-0', fresh: true });
      }
      return send(req);
    }, () => store.deleteAll([{ kind: 'MacvlanNet', name: 'window' }]));
    expect(done).toEqual(['deleted']);
    expect(raced).toBe(true);
    expect(await reporters('window')).toEqual(['node-0']);
    const kv = await client.get(store.keys.status('MacvlanNet', 'window', { node: 'node-0' })).json();
    expect(kv).toMatchObject({ fresh: true });
  });

  it('deleting again finishes a cleanup that stopped: the statuses of a gone object go, nothing else', async () => {
    // what a delete that committed and then lost etcd leaves: the statuses without their object
    await withStatuses('orphaned', nodes(150));
    await client.delete().key(store.keys.object('MacvlanNet', 'orphaned'));
    await withStatuses('kept', nodes(3));
    const r = await xctl(['delete', 'macvlannet', 'orphaned', '--ignore-not-found']);
    expect(r.code).toBe(0);
    expect(await reporters('orphaned')).toEqual([]);
    expect(await reporters('kept')).toHaveLength(3);
  });
});
