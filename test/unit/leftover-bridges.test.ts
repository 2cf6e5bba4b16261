// Which of xnet's marked HostSubnet bridges the agent deletes as left over (no Docker network
// holds them): not the bridge of a HostSubnet wanted here that was renamed by hand, which the
// HostSubnet's pass gives its name back (host-subnet-network.ts renamedBridge). Deleted first,
// it took the NICs' veths off with it and the pass's rename then failed on a link gone.
import { describe, expect, it } from 'vitest';
import { leftoverBridges } from '../../pkg/agent/reconcilers/host-subnet-leftover-bridges.js';
import type { DockerNetworkSpec } from '../../pkg/docker/types.js';
import type { Link } from '../../pkg/netlink/types.js';

const bridge = (name: string, hs: string, ifindex: number): Link => ({ ifindex, name, kind: 'bridge', mac: '02:42:0a:4c:01:01', mtu: 1500, up: true, promisc: false, alias: `xnet:hostsubnet:${hs}` });
const spec = (bridgeName: string): DockerNetworkSpec => ({ name: 'net1', driver: 'bridge', subnet: '10.76.1.0/24', options: { 'com.docker.network.bridge.name': bridgeName }, labels: {} });

describe('leftoverBridges', () => {
  it('keeps a wanted HostSubnet\'s bridge renamed by hand (Docker\'s network names br01, no link has that name), with no port on it', () => {
    const net1 = { ...spec('br01'), id: 'n1', containers: 0 };
    expect(leftoverBridges([bridge('brx', 'default-host-1', 5)], [net1], new Map([['default-host-1', spec('br01')]]))).toEqual([]);
    // no Docker network on br01 (one to be made, on a bridge renamed in the HostSubnet's spec): the old one goes
    expect(leftoverBridges([bridge('brx', 'default-host-1', 5)], [], new Map([['default-host-1', spec('br01')]]))).toEqual(['brx']);
  });
  it('deletes a marked bridge no network holds once the HostSubnet\'s own bridge is there, and one of a HostSubnet not wanted here', () => {
    const links = [bridge('br01', 'default-host-1', 5), bridge('brold', 'default-host-1', 6), bridge('br09', 'gone-host-1', 7)];
    expect(leftoverBridges(links, [], new Map([['default-host-1', spec('br01')]]))).toEqual(['brold', 'br09']);
  });
});
