// The controller watches the registry and the IPAM claims only: what nodes write for users to
// read (their events, leases, observed reports) never reaches its cache, however much of it a
// node writes, and it still sees every object, status and claim. Real etcd, in-process
// controller.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd } from '../harness/etcd.js';
import { eventually, obj, startController, statusOf, storeFor, uniquePrefix, type ControllerFixture } from './controller-helpers.js';

const prefix = uniquePrefix();
const f = {} as ControllerFixture;
beforeAll(async () => { f.etcd = await startEtcd(); f.store = storeFor(f.etcd.client(), prefix); });
// etcd is stopped also when stopping the controller throws
afterAll(async () => { try { await f.c?.stop(); } finally { await f.etcd?.stop(); } });

const cached = (root: string) => [...f.c.cache.entries(root)].map((kv) => kv.key);

describe('what the controller watches', () => {
  it('holds none of the nodes\' events, leases and observed reports, and still every object, status and claim', async () => {
    const client = f.etcd.client();
    const nodeKeys = [
      ...Array.from({ length: 20 }, (_, i) => `${prefix}/events/nodes/host-1/containernics/nic-${i}/e${i}`),
      `${prefix}/leases/nodes/host-1`,
      `${prefix}/observed/nodes/host-1`,
    ];
    // large values, as a node may write them: 20 x 64 KiB of events alone
    const big = JSON.stringify({ message: 'x'.repeat(64 * 1024) });
    for (const k of nodeKeys) await client.put(k).value(big);
    expect(await client.getAll().prefix(`${prefix}/events/`).count()).toBe(20);
    // listed at its start ...
    f.c = await startController(client, prefix);

    await f.store.applyAll([obj('ClusterNetwork', 'default', { cidr: '10.96.0.0/16', hostPrefix: 24 }), obj('Node', 'host-1', { address: '198.18.0.11' })]);
    const hs = await eventually(async () => {
      const h = await f.store.get('HostSubnet', 'default-host-1');
      return h && statusOf(h).subnet ? h : undefined;
    }, 'default-host-1 allocated');
    // ... and watched after it: written now, they are not brought either
    await client.put(`${prefix}/events/nodes/host-1/nodes/host-1/late`).value(big);
    await client.put(`${prefix}/observed/nodes/host-1`).value('{"changed":true}');

    // the allocation's own keys are in the cache (the watch of both prefixes works) ...
    await eventually(async () => cached(`${prefix}/ipam/`).length > 0 && cached(`${prefix}/registry/objects/hostsubnets/`).length === 1, 'the claim and the HostSubnet cached');
    expect(statusOf(hs).subnet).toMatch(/^10\.96\.\d+\.0\/24$/);
    // ... and, once a write after the node's late ones is cached too, none of the node's keys
    await f.store.applyAll([obj('Node', 'host-2', { address: '198.18.0.12' })]);
    await eventually(async () => f.c.cache.get(`${prefix}/registry/objects/nodes/host-2`) !== undefined, 'host-2 cached');
    for (const root of ['events/', 'leases/', 'observed/']) expect(cached(`${prefix}/${root}`)).toEqual([]);
  });
});
