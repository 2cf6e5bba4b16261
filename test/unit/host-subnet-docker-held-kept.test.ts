// A node's report of the addresses Docker's containers hold on its HostSubnet (status.dockerHeld)
// (running containers' endpoints, and the --ip addresses stopped ones keep) is kept as reported
// when the pass cannot read the containers: Docker down or timed out, or a
// step of the pass failing. A failed read is no sign the containers left (docs/agent.md); a
// report written without the list let the controller hand their addresses to NICs again, and
// then move those NICs off them once Docker answered. The pass against a recorded dataplane.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type ClusterNetwork, type HostSubnet, type Node } from '../../pkg/api/index.js';
import type { AgentContext } from '../../pkg/agent/context.js';
import { bridgeNetworkSpec } from '../../pkg/agent/desired.js';
import { reconcileHostSubnets } from '../../pkg/agent/reconcilers/host-subnets.js';
import { DockerError, type DockerNetwork } from '../../pkg/docker/types.js';
import type { Link } from '../../pkg/netlink/types.js';

const cn = { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: { name: 'default', generation: 1 }, spec: { cidr: '10.76.0.0/16', hostPrefix: 24, dockerNetwork: 'net1' } } as ClusterNetwork;
const self: Node = { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'host-1' }, spec: {} };
const HELD = ['10.76.1.200'];
/** The HostSubnet as the node sees it: its own report, listing one address, merged in. */
const hs = {
  apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: 'default-host-1', uid: 'u1', generation: 1 },
  spec: { node: 'host-1', clusterNetwork: 'default', subnet: '10.76.1.0/24', bridge: 'br01' },
  status: { subnet: '10.76.1.0/24', gateway: '10.76.1.1', dockerRange: '10.76.1.0/25', dockerHeld: HELD },
} as HostSubnet;
const spec = bridgeNetworkSpec(hs, cn).spec!;
const network: DockerNetwork = { id: 'n1', name: 'net1', driver: 'bridge', subnet: spec.subnet, gateway: spec.gateway, ipRange: spec.ipRange, options: spec.options, labels: spec.labels, containers: 1 };
const bridge: Link = { ifindex: 5, name: 'br01', kind: 'bridge', mac: '02:42:00:00:00:01', mtu: 1500, up: true, promisc: false, alias: 'xnet:hostsubnet:default-host-1' };

/** The pass with Docker's answers given; the fields of each report it writes. */
async function pass(docker: { networks: () => Promise<DockerNetwork[]>; endpoints: () => Promise<Array<{ ip: string }>>; statics?: () => Promise<string[]> }, up = true) {
  const written: Array<Record<string, unknown>> = [];
  const list = <T extends { metadata: { name: string } }>(xs: T[]) => ({ list: () => xs, get: (n: string) => xs.find((x) => x.metadata.name === n) });
  const ctx = {
    node: 'host-1', log: { info: () => undefined, warn: () => undefined, debug: () => undefined },
    caches: { hostSubnets: list([hs]), clusterNetworks: list([cn]), macvlanNets: list([]), nics: list([]), nodes: list([self]) },
    status: { write: async (_k: string, _o: HostSubnet, fields: Record<string, unknown>) => { written.push(fields); }, hasReport: () => true },
    dp: {
      ip: { linksAndAddrs: async () => ({ links: [{ ...bridge, up }], addrs: [{ ifindex: 5, family: 'inet', local: spec.gateway, prefixlen: 24 }] }) },
      dockerNetworks: docker.networks,
      docker: { networkEndpoints: docker.endpoints, staticAddressesOn: docker.statics ?? (async () => []), inspectNetwork: async () => network },
      // the step that brings the bridge back up fails
      execute: async () => { if (!up) throw new DockerError('DockerTimedOut', 'Docker did not answer in time'); },
    },
  } as unknown as AgentContext;
  await reconcileHostSubnets(ctx).catch(() => undefined);
  return written;
}

describe('the addresses Docker\'s containers hold, reported on a HostSubnet', () => {
  it('are reported from the network\'s endpoints when Docker answers', async () => {
    const w = await pass({ networks: async () => [network], endpoints: async () => [{ ip: '10.76.1.5' }, { ip: '10.76.1.201' }] });
    // the one in dockerRange is Docker's own to give; networkSubnet: the network is in place on it
    expect(w).toEqual([{ dockerHeld: ['10.76.1.201'], networkSubnet: '10.76.1.0/24' }]);
  });

  it('include the --ip addresses stopped containers keep on the network (they get them back at their next start)', async () => {
    const w = await pass({ networks: async () => [network], endpoints: async () => [{ ip: '10.76.1.201' }], statics: async () => ['10.76.1.201', '10.76.1.130', '10.76.1.7'] });
    expect(w).toEqual([{ dockerHeld: ['10.76.1.130', '10.76.1.201'], networkSubnet: '10.76.1.0/24' }]);
  });

  it('are kept as reported when the stopped containers cannot be listed', async () => {
    const w = await pass({ networks: async () => [network], endpoints: async () => [], statics: async () => { throw new DockerError('DockerTimedOut', 'Docker did not answer in time'); } });
    expect(w).toEqual([{ dockerHeld: HELD, networkSubnet: '10.76.1.0/24' }]);
  });

  it('come without networkSubnet while the network waits on its old subnet for its containers (NetworkInUse): the controller keeps that block', async () => {
    const before = { ...network, subnet: '10.76.9.0/24', gateway: '10.76.9.1', ipRange: '10.76.9.0/25' };
    const w = await pass({ networks: async () => [before], endpoints: async () => [] });
    expect(w.length).toBe(1);
    expect(w[0]).not.toHaveProperty('networkSubnet');
  });

  it('are kept as reported when Docker does not answer the pass\'s first read', async () => {
    const down = async () => { throw new DockerError('DockerUnavailable', 'cannot reach Docker'); };
    const w = await pass({ networks: down, endpoints: down });
    expect(w).toEqual([{ dockerHeld: HELD }]);
  });

  it('are kept as reported when a later step of the pass fails', async () => {
    const w = await pass({ networks: async () => [network], endpoints: async () => [] }, false);
    expect(w).toEqual([{ dockerHeld: HELD }]);
  });
});
