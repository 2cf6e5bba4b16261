// `xctl verify` of a host where a route xnet did not make is more specific than a peer's subnet
// (an admin's 10.76.2.0/25 over host-2's 10.76.2.0/24): the kernel sends half of host-2's
// containers elsewhere while xnet's own route is in place. Found by an operator trial: verify,
// `lab verify` and RoutesReady all said nothing. docs/xctl.md lists such routes as differences.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type ClusterNetwork, type HostSubnet, type Node } from '../../pkg/api/index.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import type { Route } from '../../pkg/netlink/types.js';
import { differences, type DifferencesInput } from '../../pkg/verify/verify.js';
import type { Store } from '../../pkg/store/index.js';

const meta = (name: string) => ({ name, uid: `${name}-uid`, generation: 1 });

function input(routes: Route[]): DifferencesInput {
  const nodes: Node[] = [
    { apiVersion: API_VERSION, kind: 'Node', metadata: meta('host-1'), spec: { address: '198.18.0.11' } },
    { apiVersion: API_VERSION, kind: 'Node', metadata: meta('host-2'), spec: { address: '198.18.0.12' } },
  ] as Node[];
  const cn = { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: meta('default'), spec: { cidr: '10.76.0.0/16', hostPrefix: 24, bridgePrefix: 'br', masquerade: true } } as unknown as ClusterNetwork;
  const hs = { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: meta('default-host-2'), spec: { node: 'host-2', clusterNetwork: 'default' },
    status: { subnet: '10.76.2.0/24', gateway: '10.76.2.1', bridge: 'br02', dockerRange: '10.76.2.128/25', nodeAddress: '198.18.0.12' } } as unknown as HostSubnet;
  const list = <T extends { metadata: { name: string } }>(xs: T[]) => ({ list: () => xs, get: (n: string) => xs.find((x) => x.metadata.name === n), hasSynced: () => true });
  const recorded: Op[] = [];
  const dp = {
    ip: { links: async () => [], addrs: async () => [], linksAndAddrs: async () => ({ links: [], addrs: [] }), routes: async () => routes },
    dockerNetworks: async () => [],
    underlay: async () => ({ address: '198.18.0.11', interface: 'eth0', local: ['198.18.0.11'] }),
    execute: async (ops: Op[]) => { recorded.push(...ops); },
    take: () => recorded.splice(0),
  };
  return {
    node: 'host-1', store: {} as Store, dp: dp as unknown as DifferencesInput['dp'],
    caches: { nodes: list(nodes), clusterNetworks: list([cn]), hostSubnets: list([hs]), nics: list([]), macvlanNets: list([]) } as unknown as DifferencesInput['caches'],
  };
}

const peerRoute: Route = { dst: '10.76.2.0/24', via: '198.18.0.12', dev: 'eth0', proto: '76' };

describe('verify of a route that takes part of a peer subnet elsewhere', () => {
  it('is a difference naming both routes', async () => {
    // the fake host has no NAT or links to read: only what is said about routes counts here
    const routeDiffs = async (rs: Route[]) => (await differences(input(rs))).filter((d) => d.what === 'route' || d.found.includes('10.76.2.0'));
    expect(await routeDiffs([peerRoute])).toEqual([]);
    const diffs = await routeDiffs([peerRoute, { dst: '10.76.2.0/25', via: '198.18.0.1', dev: 'eth0', proto: 'static' }]);
    expect(diffs.map((d) => d.found)).toEqual(['a route that xnet did not make takes part of 10.76.2.0/24 elsewhere (10.76.2.0/25 via 198.18.0.1 dev eth0 proto static); remove it so xnet can route all of 10.76.2.0/24 via 198.18.0.12']);
  });
});
