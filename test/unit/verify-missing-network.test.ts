// `xctl verify` (and each agent's self-check) runs the agent's reconcilers against a recording
// dataplane and writes nothing. A HostSubnet whose Docker network is missing is one difference
// (the network), not also a report that the network is being made: the agent's first report on
// a HostSubnet (Unknown, CreatingNetwork) is written only when it really makes the network.
// Found by review of 1879886.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type ClusterNetwork, type HostSubnet, type Node } from '../../pkg/api/index.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import { differences, type DifferencesInput } from '../../pkg/verify/verify.js';
import type { Store } from '../../pkg/store/index.js';

const cn = { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: { name: 'default', generation: 1 }, spec: { cidr: '10.76.0.0/16', hostPrefix: 24, dockerNetwork: 'net1' } } as ClusterNetwork;
const hs = { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: 'default-host-1', uid: 'u1', generation: 1 }, spec: { node: 'host-1', clusterNetwork: 'default', subnet: '10.76.1.0/24', bridge: 'xbr1' } } as HostSubnet;
const self: Node = { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'host-1' }, spec: {} };

function input(): DifferencesInput {
  const list = <T extends { metadata: { name: string } }>(xs: T[]) => ({ list: () => xs, get: (n: string) => xs.find((x) => x.metadata.name === n) });
  const recorded: Op[] = [];
  const dp = {
    ip: { links: async () => [], addrs: async () => [], linksAndAddrs: async () => ({ links: [], addrs: [] }), routes: async () => [] },
    dockerNetworks: async () => [],
    execute: async (ops: Op[]) => { recorded.push(...ops); },
    take: () => recorded.splice(0),
  };
  return {
    node: 'host-1', store: {} as Store, dp: dp as unknown as DifferencesInput['dp'],
    caches: { nodes: list([self]), clusterNetworks: list([cn]), hostSubnets: list([hs]), nics: list([]), macvlanNets: list([]) } as unknown as DifferencesInput['caches'],
  };
}

describe('verify of a host whose HostSubnet network is missing', () => {
  it('names the missing network, and no report of a network being made', async () => {
    const diffs = await differences(input());
    expect(diffs.filter((d) => d.what === 'docker network').map((d) => d.expected)).toEqual(['net1 bridge 10.76.1.0/24']);
    expect(diffs.filter((d) => d.what === 'hostsubnet/default-host-1')).toEqual([]);
  });
});
