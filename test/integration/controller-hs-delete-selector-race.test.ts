// A controller-made HostSubnet is deleted when its Node no longer matches its ClusterNetwork's
// nodeSelector. That verdict reads both the Node's labels and the ClusterNetwork's selector;
// the delete compared the Node only. A selector widened while the delete was in flight (the
// node matching again) did not stop it: the HostSubnet went, its NICs lost their addresses,
// and it was made again under another uid, the NICs renumbered by next fit. A create and an
// ensure already compare the ClusterNetwork.
// Real etcd; the controller's transactions are held back 1.5 s to open the window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import type { Controller } from '../../pkg/controller/controller.js';
import type { EtcdStore } from '../../pkg/store/index.js';
import { obj, eventually, startController, statusOf, storeFor, uniquePrefix } from './controller-helpers.js';

let etcd: TestEtcd;
let c: Controller | undefined;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { try { await c?.stop(); } finally { await etcd?.stop(); } });

/** The controller's client, its transactions held back `delay.ms` while set. */
function slowed(client: Etcd3, delay: { ms: number }): Etcd3 {
  const txn = client.kv.txn.bind(client.kv);
  client.kv.txn = (async (req: Parameters<typeof txn>[0], ...rest: unknown[]) => {
    if (delay.ms) await new Promise((r) => setTimeout(r, delay.ms));
    return (txn as (...a: unknown[]) => ReturnType<typeof txn>)(req, ...rest);
  }) as typeof client.kv.txn;
  return client;
}

describe('a HostSubnet whose node stops matching while its ClusterNetwork\'s selector widens', () => {
  it('is not deleted when the selector changed before the delete committed', async () => {
    const prefix = uniquePrefix();
    const store: EtcdStore = storeFor(etcd.client(), prefix);
    const delay = { ms: 0 };
    c = await startController(slowed(etcd.client(), delay), prefix);
    await store.applyAll([
      obj('ClusterNetwork', 'cn', { cidr: '10.96.0.0/16', hostPrefix: 24, nodeSelector: { matchLabels: { rack: 'a' } } }),
      obj('Node', 'x', {}, { rack: 'a' }),
    ]);
    const hs = await eventually(async () => { const h = await store.get('HostSubnet', 'cn-x'); return statusOf(h).subnet ? h : undefined; }, 'cn-x allocated');
    delay.ms = 1500;
    await store.applyAll([obj('Node', 'x', {}, { rack: 'b' })]);
    // the controller has planned the delete from the selector it had; its transaction waits
    await new Promise((r) => setTimeout(r, 400));
    await store.applyAll([obj('ClusterNetwork', 'cn', { cidr: '10.96.0.0/16', hostPrefix: 24 })]);
    await new Promise((r) => setTimeout(r, 2500));
    delay.ms = 0;
    await new Promise((r) => setTimeout(r, 1500));
    const now = await store.get('HostSubnet', 'cn-x');
    expect({ uid: now?.metadata.uid, subnet: statusOf(now).subnet }).toEqual({ uid: hs.metadata.uid, subnet: statusOf(hs).subnet });
  });
});
