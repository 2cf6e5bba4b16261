// The controller's garbage pass sweeps node statuses whose object is gone, or that were
// written for an earlier object of the same name: what a delete whose status cleanup
// stopped midway (status-cleanup.ts) left while the object's agents were down. It never
// takes a status of the object stored now, nor a Node's own report (written with or without
// a Node object).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';
import { collectGarbage } from '../../pkg/controller/gc.js';
import { prefixEnd } from '../../pkg/etcd/range.js';
import { obj } from './helpers.js';
import { uniquePrefix } from './controller-helpers.js';
import { leaderCtx } from './leader-ctx.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';

let etcd: TestEtcd;
let client: Etcd3;
let store: EtcdStore;
const prefix = uniquePrefix();

beforeAll(async () => {
  etcd = await startEtcd();
  client = etcd.client();
  store = createEtcdStore(client, prefix);
});
afterAll(async () => { await etcd?.stop(); });

const mvn = (name: string) => obj('MacvlanNet', name, { subnet: '10.20.0.0/16' });
const nodes = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `node-${from + i}`);

async function report(name: string, from: string[]): Promise<void> {
  await Promise.all(from.map((node) => store.writeStatus('MacvlanNet', name, { node }, { name: node, ready: true })));
}

/** The object key goes alone: what a delete leaves when its status cleanup never ran. */
const dropObject = (name: string) => client.delete().key(store.keys.object('MacvlanNet', name));

async function statusKeys(): Promise<string[]> {
  const p = store.keys.nodeStatuses();
  const r = await client.kv.range({ key: Buffer.from(p), range_end: prefixEnd(p), keys_only: true });
  return r.kvs.map((kv) => kv.key.toString());
}
const reporters = (keys: string[], kind: string, name: string) => keys.map((k) => store.keys.parseStatusKey(k)!)
  .filter((p) => p.kind === kind && p.name === name).map((p) => ('node' in p.writer ? p.writer.node : '')).sort();

describe('controller garbage pass: node statuses of deleted objects', () => {
  it('deletes the orphaned ones at etcd default limits and keeps every current one', async () => {
    await store.applyAll([mvn('gone'), mvn('again'), mvn('live')]);
    await report('gone', nodes(150));
    await report('again', nodes(10));
    await report('live', nodes(5));
    await dropObject('gone');
    // made again: nodes 0-2 report on the new one, 3-9 are left from the old
    await dropObject('again');
    await store.applyAll([mvn('again')]);
    await report('again', nodes(3));
    // a node's own report, with no Node object: the controller makes the Node from it
    await client.put(store.keys.status('Node', 'node-0', { node: 'node-0' })).value(JSON.stringify({ address: '192.0.2.1' }));

    const ctx = await leaderCtx(client, prefix);
    try {
      await collectGarbage(ctx);
    } finally {
      await ctx.model.cache.close();
    }
    const left = await statusKeys();
    expect(reporters(left, 'MacvlanNet', 'gone')).toEqual([]);
    expect(reporters(left, 'MacvlanNet', 'again')).toEqual(nodes(3).sort());
    expect(reporters(left, 'MacvlanNet', 'live')).toEqual(nodes(5).sort());
    expect(reporters(left, 'Node', 'node-0')).toEqual(['node-0']);
  });
});

// A batch of the pass refused because one of its keys changed after the pass read it: the
// others waited for the next pass (30 s), every delete of the batch with it. Now the batch is
// tried again step by step (red before: 'the other orphans, in the same pass' kept 5 of them).
describe('controller garbage pass: one key changed under a batch', () => {
  it('takes the others in the same pass, and leaves the changed one', async () => {
    await store.applyAll([mvn('race')]);
    await report('race', nodes(6, 500));
    await dropObject('race');
    const ctx = await leaderCtx(client, prefix);
    ctx.model.cache.hold();
    // rewritten after the pass read it: its delete (pinned to the status as read) is refused
    const changed = store.keys.status('MacvlanNet', 'race', { node: 'node-500' });
    await client.put(changed).value(JSON.stringify({ name: 'node-500', ready: false }));
    await collectGarbage(ctx);
    ctx.model.cache.release();
    expect(reporters(await statusKeys(), 'MacvlanNet', 'race'), 'the other orphans, in the same pass').toEqual(['node-500']);
  });
});

// A refused batch's deletes are tried again one by one (above): a claim's delete was pinned to its
// owner as read when the step ran, so after the refused batch's read-back it was pinned to the
// owner's new value, and a NIC moved back to the claim's pool lost the claim it holds again (red:
// 'the claim of the NIC now back on cna stays', the key gone). Its owner is pinned as the pass judged it.
describe('controller garbage pass: an owner changed under a batch', () => {
  it('keeps the claim of a NIC moved back to its pool after the pass read it, and frees the other', async () => {
    const nic = (net: string) => obj('ContainerNic', 'back1', { node: 'host-1', container: 'c', ifName: 'eth1', network: { clusterNetwork: net } });
    await store.applyAll([obj('ClusterNetwork', 'cna', { cidr: '10.76.0.0/16', hostPrefix: 24 }), obj('ClusterNetwork', 'cnb', { cidr: '10.77.0.0/16', hostPrefix: 24 })]);
    await store.applyAll([nic('cnb')]);
    const uid = (await store.get('ContainerNic', 'back1'))!.metadata.uid;
    const ipam = new IpamKeys(prefix);
    const mine = ipam.claim('clusternetworks', 'cna', 'addresses', parseIPv4('10.76.1.5'));
    const ghost = ipam.claim('clusternetworks', 'cna', 'addresses', parseIPv4('10.76.1.6'));
    await client.put(mine).value(JSON.stringify({ owner: { kind: 'ContainerNic', name: 'back1', uid }, role: 'nic', ip: '10.76.1.5' }));
    await client.put(ghost).value(JSON.stringify({ owner: { kind: 'ContainerNic', name: 'ghost', uid: 'u-ghost' }, role: 'nic', ip: '10.76.1.6' }));
    const ctx = await leaderCtx(client, prefix);
    ctx.model.cache.hold();
    // back on cna after the pass read it: its claim there is its own again
    await store.applyAll([nic('cna')]);
    await collectGarbage(ctx);
    ctx.model.cache.release();
    const left = await client.getAll().prefix(`${prefix}/ipam/clusternetworks/cna/`).keys();
    expect(left, 'the claim of the NIC now back on cna stays').toContain(mine);
    expect(left, 'the claim of no NIC, freed in the same pass').not.toContain(ghost);
  });
});
