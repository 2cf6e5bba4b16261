// A HostSubnet's gateway edited (`gateway: 10.76.2.1` to `10.76.2.2` in seed000.yaml): the
// controller wrote the HostSubnet's new status, but its ContainerNics kept the old gateway in
// theirs (a commit of the controller's own wakes no reconcile), for ever. Seen in the lab: once
// the node's Docker network was made again on the new gateway, both NICs of host-2's container
// stayed Ready=False BridgeNotReady ("bridge br02 does not carry its gateway 10.76.2.1"), and
// `xctl get nic -o wide` showed GATEWAY 10.76.2.1. Real etcd, the real controller.
import { describe, expect, it } from 'vitest';
import { listEvents } from '../../pkg/events/read.js';
import { allocations } from '../../pkg/metrics/metrics.js';
import { obj, useControllerFixture, eventually, uniquePrefix, statusOf } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix);

const hostSubnet = (gateway: string) => obj('HostSubnet', 'gw-host-1', { node: 'host-1', clusterNetwork: 'gw', subnet: '10.63.1.0/24', gateway, bridge: 'brgw' });
const allocatedEvents = async (name: string) => (await listEvents(fx.etcd.client(), prefix, { kind: 'ContainerNic', name })).items.filter((e) => e.reason === 'Allocated');
const nicAllocations = async () => (await allocations.get()).values.find((v) => v.labels.kind === 'ContainerNic' && v.labels.result === 'allocated')?.value ?? 0;
const gatewayOf = async (kind: 'HostSubnet' | 'ContainerNic', name: string) => statusOf(await fx.store.get(kind, name)).gateway;

describe('a HostSubnet gateway edit', () => {
  it('reaches the status of the ContainerNics on it', async () => {
    // the selector matches no node: the controller makes no HostSubnet of its own beside this one
    await fx.store.applyAll([
      obj('ClusterNetwork', 'gw', { cidr: '10.63.0.0/16', hostPrefix: 24, nodeSelector: { matchLabels: { pool: 'none' } } }),
      obj('Node', 'host-1', {}),
      hostSubnet('10.63.1.1'),
    ]);
    // the NICs come once the HostSubnet is allocated, as in a running cluster: none of them waited for it
    await eventually(async () => await gatewayOf('HostSubnet', 'gw-host-1') === '10.63.1.1', 'the HostSubnet allocated');
    await fx.store.applyAll([
      obj('ContainerNic', 'gw-eth1', { node: 'host-1', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'gw' }, ip: '10.63.1.84' }),
      obj('ContainerNic', 'gw-eth2', { node: 'host-1', container: 'c', ifName: 'eth2', network: { clusterNetwork: 'gw' } }),
    ]);
    await eventually(async () => await gatewayOf('ContainerNic', 'gw-eth1') === '10.63.1.1' && await gatewayOf('ContainerNic', 'gw-eth2') === '10.63.1.1', 'both NICs allocated');
    await fx.store.applyAll([hostSubnet('10.63.1.2')]);
    await eventually(async () => await gatewayOf('HostSubnet', 'gw-host-1') === '10.63.1.2', 'the HostSubnet\'s new gateway');
    // well inside the controller's 30 s garbage pass
    await eventually(async () => await gatewayOf('ContainerNic', 'gw-eth1') === '10.63.1.2' && await gatewayOf('ContainerNic', 'gw-eth2') === '10.63.1.2', 'the NICs\' new gateway', 10_000);
  });

  it('is no allocation of their addresses: no Allocated event, no xnet_allocations_total', async () => {
    // The NICs' status rewritten for the new gateway was counted as an allocation each: a
    // gateway edit under a few thousand NICs told each an "address ... allocated" it had kept.
    const edited = (gateway: string) => obj('HostSubnet', 'gwa-host-1', { node: 'host-1', clusterNetwork: 'gwa', subnet: '10.64.1.0/24', gateway, bridge: 'brgwa' });
    const nic = (name: string) => obj('ContainerNic', name, { node: 'host-1', container: 'c', ifName: name.slice(4), network: { clusterNetwork: 'gwa' } });
    await fx.store.applyAll([obj('ClusterNetwork', 'gwa', { cidr: '10.64.0.0/16', hostPrefix: 24, nodeSelector: { matchLabels: { pool: 'none' } } }), obj('Node', 'host-1', {}), edited('10.64.1.1')]);
    await eventually(async () => await gatewayOf('HostSubnet', 'gwa-host-1') === '10.64.1.1', 'the HostSubnet allocated');
    await fx.store.applyAll([nic('gwa-eth1')]);
    await eventually(async () => (await allocatedEvents('gwa-eth1')).length === 1, 'the NIC allocated');
    const before = await nicAllocations();
    await fx.store.applyAll([edited('10.64.1.100')]);
    await eventually(async () => await gatewayOf('ContainerNic', 'gwa-eth1') === '10.64.1.100', 'the NIC\'s new gateway');
    // a later allocation, recorded after the rewrite's by the controller's one ordered recorder
    await fx.store.applyAll([nic('gwa-eth2')]);
    await eventually(async () => (await allocatedEvents('gwa-eth2')).length === 1, 'the second NIC allocated');
    expect((await allocatedEvents('gwa-eth1')).map((e) => e.count)).toEqual([1]);
    expect(await nicAllocations()).toBe(before + 1);
  });
});
