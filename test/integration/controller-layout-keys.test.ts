// Keys written by hand under xnet's prefixes that the layout cannot have (an empty name, a
// name with a slash, an unknown kind, an address that is none) are refused by the controller's
// cache like values that do not decode: a controller that starts on them leads and allocates,
// and plans nothing from them. Real etcd, in-process controller.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestEtcd } from '../harness/etcd.js';
import { startEtcd } from '../harness/etcd.js';
import type { Controller } from '../../pkg/controller/controller.js';
import { obj, eventually, startController, storeFor, uniquePrefix, statusOf } from './controller-helpers.js';

let etcd: TestEtcd;
let c: Controller | undefined;
const prefix = uniquePrefix();
beforeAll(async () => { etcd = await startEtcd(); });
// etcd is stopped even when the controller does not stop (a term that crashed at its start
// never ends its campaign): the test that breaks the controller must not leave etcd running
afterAll(async () => {
  await Promise.race([c?.stop(), new Promise((r) => setTimeout(r, 5000))]).catch(() => undefined);
  await etcd?.stop();
});

const clusterNetwork = (name: string, cidr: string) => JSON.stringify({
  apiVersion: 'xnet.io/v1alpha1', kind: 'ClusterNetwork',
  metadata: { name, uid: `${name}-uid`, generation: 1, creationTimestamp: new Date().toISOString() },
  spec: { cidr, hostPrefix: 24 },
});

describe('keys outside the layout', () => {
  it('are ignored by a controller that starts on them: it leads, allocates, and plans none of them', async () => {
    const client = etcd.client();
    const odd: Array<[string, string]> = [
      [`${prefix}/registry/objects/nodes/`, 'x'],
      [`${prefix}/registry/objects/clusternetworks/evil/x`, clusterNetwork('evil', '10.98.0.0/16')],
      [`${prefix}/registry/objects/clusternetworks/`, clusterNetwork('blank', '10.97.0.0/16')],
      [`${prefix}/registry/status/nodes/host-1/bogus/x`, 'x'],
      [`${prefix}/registry/bynode/host-1/objects/nodes/host-1`, 'x'],
      [`${prefix}/ipam/clusternetworks/default/blocks/junk`, 'x'],
    ];
    for (const [k, v] of odd) await client.put(k).value(v);
    expect(await client.getAll().prefix(`${prefix}/`).count()).toBe(odd.length);

    c = await startController(client, prefix);
    const store = storeFor(client, prefix);
    await store.applyAll([obj('ClusterNetwork', 'default', { cidr: '10.96.0.0/16', hostPrefix: 24 }), obj('Node', 'host-1', { address: '198.18.0.11' })]);
    const hs = await eventually(async () => {
      const h = await store.get('HostSubnet', 'default-host-1');
      return h && statusOf(h).subnet ? h : undefined;
    }, 'default-host-1 allocated');
    expect(statusOf(hs).subnet).toMatch(/^10\.96\.\d+\.0\/24$/);
    expect(c.isLeader).toBe(true);
    // nothing was made for the ClusterNetworks under keys no object can have
    const hostSubnets = (await store.list('HostSubnet')).items.map((h) => (h.spec as { clusterNetwork: string }).clusterNetwork);
    expect(hostSubnets).toEqual(['default']);
    expect(await client.getAll().prefix(`${prefix}/ipam/clusternetworks/evil/`).keys()).toEqual([]);
    expect(await client.getAll().prefix(`${prefix}/ipam/clusternetworks/blank/`).keys()).toEqual([]);
    // and xctl's reads list the objects there are
    expect((await store.list('Node')).items.map((n) => n.metadata.name)).toEqual(['host-1']);
    expect((await store.list('ClusterNetwork')).items.map((n) => n.metadata.name)).toEqual(['default']);
  });
});
