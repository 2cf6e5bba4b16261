// A delete -f of several transactions whose manifest lists a network before the ContainerNics
// on it: the transactions went in manifest order, so the network was deleted in the first and
// a delete stopped after it (Ctrl-C, etcd gone) left NICs on a network that no longer existed
// until the re-run. The objects now go dependents first (ContainerNics, then HostSubnets, then
// networks and Nodes), each kind in manifest order; stdout still lists them in manifest order.
// Checked here for NICs before their ClusterNetwork, and HostSubnets before theirs (a manifest
// listing the network first, its delete over two transactions, stopped after the first).
import { describe, expect, it } from 'vitest';
import { xctlInProcess, type XctlRun as Run } from '../harness/xctl-in-process.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { Keys } from '../../pkg/store/keys.js';
import type { ContainerNic, HostSubnet } from '../../pkg/api/types.js';

const lab = xctlInProcess('xctl-delete-dependents');
const keys = new Keys();

const V = 'apiVersion: xnet.io/v1alpha1';
const cnDoc = (name: string, cidr = '10.122.0.0/16') => `${V}\nkind: ClusterNetwork\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n  hostPrefix: 24\n  dockerNetwork: d-${name}\n`;
const nicDoc = (name: string, net: string) =>
  `${V}\nkind: ContainerNic\nmetadata:\n  name: ${name}\nspec:\n  node: host-1\n  container: c-${name}\n  ifName: eth1\n  network: {clusterNetwork: ${net}}\n`;
/** The network first, then `n` NICs on it: `<net>-0` .. `<net>-(n-1)` */
const manifest = (net: string, n: number) =>
  lab.file(`${net}.yaml`, [cnDoc(net), ...Array.from({ length: n }, (_, i) => nicDoc(`${net}-${i}`, net))].join('---\n'));

async function applied(file: string): Promise<void> {
  const r = await lab.xctl(['apply', '-f', file]);
  expect(r.code, r.err).toBe(0);
}

const hsDoc = (name: string, net: string, node: string) =>
  `${V}\nkind: HostSubnet\nmetadata:\n  name: ${name}\nspec:\n  clusterNetwork: ${net}\n  node: ${node}\n`;
/** The network first, then `n` HostSubnets made for it: `<net>-h<i>` on node `<net>-node-<i>` */
const hostSubnetManifest = (net: string, n: number) =>
  lab.file(`${net}.yaml`, [cnDoc(net, '10.123.0.0/16'), ...Array.from({ length: n }, (_, i) => hsDoc(`${net}-h${i}`, net, `${net}-node-${i}`))].join('---\n'));

/**
 * Runs `args` through a proxy that holds each request 300 ms, as Ctrl-C is pressed when the
 * first object of `kind` is written (marked: a ContainerNic and a HostSubnet wait for their finalizers).
 */
async function interruptedAtFirst(kind: 'ContainerNic' | 'HostSubnet', args: string[]): Promise<Run> {
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: lab.etcd.members[0].clientPort }, { holdMs: 300 });
  const watcher = await lab.client.watch().prefix(keys.objects(kind)).create();
  const ctrlC = new AbortController();
  watcher.once('put', () => ctrlC.abort());
  try {
    return await lab.xctl(args, { endpoints: proxy.endpoint, signal: ctrlC.signal });
  } finally {
    await watcher.cancel();
    await proxy.close();
  }
}

/** The stored NICs on `net` that are not being deleted. */
async function liveNicsOn(net: string): Promise<string[]> {
  const nics = (await lab.store.list('ContainerNic', { withoutStatus: true })).items as ContainerNic[];
  return nics.filter((n) => n.spec.network.clusterNetwork === net && !n.metadata.deletionTimestamp).map((n) => n.metadata.name);
}

/** The stored HostSubnets made for `net` that are not being deleted (marked, they wait for the controller's finalizer). */
async function liveHostSubnetsOf(net: string): Promise<string[]> {
  const hs = (await lab.store.list('HostSubnet', { withoutStatus: true })).items as HostSubnet[];
  return hs.filter((h) => h.spec.clusterNetwork === net && !h.metadata.deletionTimestamp).map((h) => h.metadata.name);
}

describe('xctl delete -f of a network listed before its ContainerNics, over several transactions', () => {
  it('stopped midway (Ctrl-C as its first transaction commits), leaves the network and no NIC on a deleted network; the same delete converges', async () => {
    const f = manifest('dep', 150);
    await applied(f);
    const r = await interruptedAtFirst('ContainerNic', ['delete', '-f', f]);
    expect(r.code, r.err).toBe(130);
    const live = await liveNicsOn('dep');
    expect(live.length, 'some NICs were not reached').toBeGreaterThan(0);
    expect(await lab.store.get('ClusterNetwork', 'dep'), 'the network is still there').toBeDefined();
    expect(live.length).toBeLessThan(150);
    // the NICs the message says are done are those marked: the objects are named in the order deleted
    const done = Number(r.err.match(/: (\d+) of 151 objects deleted/)?.[1]);
    expect(r.err).toContain(`of 151 objects deleted (the first ${done} in manifest order, ContainerNics first and HostSubnets next, are done, up to and including containernic/dep-${done - 1}): interrupted\n`);
    expect(live).toHaveLength(150 - done);

    const again = await lab.xctl(['delete', '-f', f, '--ignore-not-found']);
    expect(again.code, again.err).toBe(0);
    expect(await lab.store.get('ClusterNetwork', 'dep')).toBeUndefined();
    expect(await liveNicsOn('dep')).toEqual([]);
  }, 60_000);

  it('of a network listed before its HostSubnets, stopped midway, leaves the network and no HostSubnet without it; the same delete converges', async () => {
    const n = 100;
    const f = hostSubnetManifest('hsdep', n);
    await applied(f);
    const r = await interruptedAtFirst('HostSubnet', ['delete', '-f', f]);
    expect(r.code, r.err).toBe(130);
    const live = await liveHostSubnetsOf('hsdep');
    expect(live.length, 'some HostSubnets were not reached').toBeGreaterThan(0);
    expect(live.length, 'some HostSubnets were reached').toBeLessThan(n);
    expect(await lab.store.get('ClusterNetwork', 'hsdep'), 'the ClusterNetwork of the HostSubnets left').toBeDefined();
    const done = Number(r.err.match(/: (\d+) of 101 objects deleted/)?.[1]);
    expect(r.err).toContain(`up to and including hostsubnet/hsdep-h${done - 1}): interrupted\n`);
    expect(live).toHaveLength(n - done);

    const again = await lab.xctl(['delete', '-f', f, '--ignore-not-found']);
    expect(again.code, again.err).toBe(0);
    expect(await lab.store.get('ClusterNetwork', 'hsdep')).toBeUndefined();
    expect(await liveHostSubnetsOf('hsdep')).toEqual([]);
  }, 60_000);

  it('run whole, prints its lines in manifest order, the network first', async () => {
    const f = manifest('dep2', 150);
    await applied(f);
    const r = await lab.xctl(['delete', '-f', f]);
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim().split('\n')).toEqual(['clusternetwork/dep2 deleted', ...Array.from({ length: 150 }, (_, i) => `containernic/dep2-${i} deleted`)]);
    expect(await lab.store.get('ClusterNetwork', 'dep2')).toBeUndefined();
    expect(await liveNicsOn('dep2')).toEqual([]);
  }, 60_000);
});
