// `xctl delete hs NAME` refuses a HostSubnet its node's NICs use (exit 3). Of two HostSubnets of
// one node and ClusterNetwork (written around xctl), the agent reports DockerNetworkConflict on
// one and the controller puts the NICs on the other (status.hostSubnet): deleting the unused
// one, the fix the conflict asks for, was refused naming NICs it would not touch.
import { describe, expect, it } from 'vitest';
import { hostSubnetUsers } from '../../pkg/api/network-users.js';
import type { ContainerNic, HostSubnet } from '../../pkg/api/index.js';

const hs = (name: string) => ({ apiVersion: 'xnet.io/v1alpha1', kind: 'HostSubnet', metadata: { name }, spec: { node: 'host-1', clusterNetwork: 'pods', icc: true } }) as unknown as HostSubnet;
const nic = (name: string, hostSubnet?: string) => ({
  apiVersion: 'xnet.io/v1alpha1', kind: 'ContainerNic', metadata: { name },
  spec: { node: 'host-1', container: name, ifName: 'eth1', network: { clusterNetwork: 'pods' } },
  ...(hostSubnet ? { status: { hostSubnet } } : {}),
}) as unknown as ContainerNic;

describe('the NICs that use a HostSubnet', () => {
  const nics = [nic('a', 'pods-host-1'), nic('b', 'pods-host-1'), nic('pending')];
  it('are those the controller put on it, and those not placed yet', () => {
    expect(hostSubnetUsers(hs('pods-host-1'), nics, new Set())).toEqual(['a', 'b', 'pending']);
  });
  it('exclude NICs the controller put on another HostSubnet of the same node and network', () => {
    expect(hostSubnetUsers(hs('pods-host-1-dup'), nics, new Set())).toEqual(['pending']);
  });
});
