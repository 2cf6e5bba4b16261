// The controller's allocation transaction committed, and its answer lost with the connection:
// the commit fails (every call open on the connection fails with it; the leader's lease may go
// with it) and the controller plans again from what etcd holds. No NIC gets two addresses, no claim is
// left without its NIC, and `xctl ipam check` stays clean. Real etcd, reached through a TCP
// proxy that holds etcd's answers 300 ms, so that a watch seeing a claim committed can still
// lose that answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { prefixEnd } from '../../pkg/etcd/range.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import type { Controller } from '../../pkg/controller/controller.js';
import { obj, eventually, startController, statusOf, storeFor, uniquePrefix } from './controller-helpers.js';

let etcd: TestEtcd;
let direct: Etcd3;
beforeAll(async () => { etcd = await startEtcd(); direct = etcd.client(); });
afterAll(async () => { direct?.close(); await etcd?.stop(); });

const NICS = 40;

/**
 * A controller whose etcd client goes through `proxy`, a ClusterNetwork with host-1's
 * HostSubnet ready; then `fault` is armed on the first NIC address claim seen committed, and
 * NICS ContainerNics are applied (by a user, straight to etcd).
 */
async function allocateThroughFault(prefix: string, proxy: TcpProxy, fault: () => void): Promise<{ c: Controller; faulted: () => boolean }> {
  const store = storeFor(direct, prefix);
  const client = createEtcdClient({ endpoints: [proxy.endpoint] });
  const c = await startController(client, prefix);
  await store.applyAll([obj('ClusterNetwork', 'default', { cidr: '10.76.0.0/16', hostPrefix: 24 }), obj('Node', 'host-1', { address: '198.18.0.11' })]);
  await eventually(async () => !!statusOf(await store.get('HostSubnet', 'default-host-1')).subnet, 'HostSubnet default-host-1');
  const claims = `${prefix}/ipam/clusternetworks/default/addresses/`;
  const watcher = await direct.watch().prefix(claims).create();
  let faulted = false;
  watcher.on('put', () => { if (!faulted) { faulted = true; fault(); } });
  await store.applyAll(Array.from({ length: NICS }, (_, i) => obj('ContainerNic', `n${i}-eth1`, { node: 'host-1', container: `n${i}`, ifName: 'eth1', network: { clusterNetwork: 'default' } })));
  const stop = c.stop.bind(c);
  c.stop = async () => { await watcher.cancel(); await stop(); client.close(); };
  return { c, faulted: () => faulted };
}

/**
 * Once a NIC applied after the fault has its address too (the controller works again): every
 * NIC has one address of its own, held by exactly one claim that names it; ipam check is clean.
 */
async function expectOneAddressEach(prefix: string): Promise<void> {
  const store = storeFor(direct, prefix);
  await store.applyAll([obj('ContainerNic', 'late-eth1', { node: 'host-1', container: 'late', ifName: 'eth1', network: { clusterNetwork: 'default' } })]);
  const nics = await eventually(async () => {
    const items = (await store.list('ContainerNic')).items;
    return items.length === NICS + 1 && items.every((n) => statusOf(n).ip) ? items : undefined;
  }, 'every NIC has an address', 30_000);
  const ips = nics.map((n) => statusOf(n).ip as string);
  expect(new Set(ips).size).toBe(NICS + 1);
  const space = `${prefix}/ipam/clusternetworks/default/addresses/`;
  const kvs = (await direct.kv.range({ key: Buffer.from(space), range_end: prefixEnd(space) })).kvs;
  const claims = kvs.map((kv) => JSON.parse(kv.value.toString()) as { owner: { name: string; uid: string }; ip: string });
  expect(claims.map((cl) => `${cl.owner.name} ${cl.ip}`).sort()).toEqual(nics.map((n) => `${n.metadata.name} ${statusOf(n).ip}`).sort());
  const uids = new Map(nics.map((n) => [n.metadata.name, n.metadata.uid]));
  for (const cl of claims) expect(cl.owner.uid).toBe(uids.get(cl.owner.name));
  const report = await ipamCheck(direct, prefix);
  expect(report.problems, report.text).toBe(0);
}

describe('a controller whose allocation answer is lost after etcd committed it', () => {
  it('each NIC keeps the one address it was given, and a NIC applied after it gets its own', async () => {
    const prefix = uniquePrefix();
    const proxy = await startTcpProxy(etcd.endpoints[0], { replyHoldMs: 300 });
    let before = Infinity;
    const { c, faulted } = await allocateThroughFault(prefix, proxy, () => { before = proxy.accepted; void proxy.loseReplies(300); });
    try {
      await eventually(async () => faulted() && proxy.accepted > before, 'the answer lost, and the client connected again');
      await expectOneAddressEach(prefix);
    } finally {
      await c.stop();
      await proxy.close();
    }
  }, 90_000);
});
