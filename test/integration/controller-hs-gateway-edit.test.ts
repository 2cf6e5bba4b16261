// A HostSubnet's gateway edited (`gateway: 10.76.2.1` to `10.76.2.2` in seed000.yaml): the
// controller wrote the HostSubnet's new status, but its ContainerNics kept the old gateway in
// theirs (a commit of the controller's own wakes no reconcile), for ever. Seen in the lab: once
// the node's Docker network was made again on the new gateway, both NICs of host-2's container
// stayed Ready=False BridgeNotReady ("bridge br02 does not carry its gateway 10.76.2.1"), and
// `xctl get nic -o wide` showed GATEWAY 10.76.2.1. Real etcd, the real controller.
import { describe, it } from 'vitest';
import { obj, useControllerFixture, eventually, uniquePrefix, statusOf } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix);

const hostSubnet = (gateway: string) => obj('HostSubnet', 'gw-host-1', { node: 'host-1', clusterNetwork: 'gw', subnet: '10.63.1.0/24', gateway, bridge: 'brgw' });
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
});
