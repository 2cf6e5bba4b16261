// Which Docker networks the NAT pass leaves to xnet's rules and which it returns to Docker's own
// chains. Anyone can label a network `io.xnet.owner=...` (docker network create --label): the
// label alone makes no network xnet's. Only the network of a HostSubnet this node serves is;
// a user's network inside a ClusterNetwork's CIDR labelled anything else keeps Docker's NAT and
// isolation (-j RETURN ahead of xnet's ACCEPTs), as an unlabelled one does.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type ClusterNetwork, type HostSubnet, type Node } from '../../pkg/api/index.js';
import type { AgentContext } from '../../pkg/agent/context.js';
import { foreignNetworksOf } from '../../pkg/agent/dataplane.js';
import { FWD_CHAIN } from '../../pkg/agent/planner/index.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import { reconcileNat } from '../../pkg/agent/reconcilers/nat.js';
import type { DockerNetwork } from '../../pkg/docker/types.js';

const meta = (name: string) => ({ name, generation: 1 });
const dflt = { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: meta('default'), spec: { cidr: '10.76.0.0/16', hostPrefix: 24 } } as ClusterNetwork;
const hs = (name: string, subnet: string, bridge: string): HostSubnet =>
  ({ apiVersion: API_VERSION, kind: 'HostSubnet', metadata: meta(name), spec: { node: 'host-1', clusterNetwork: 'default', subnet, bridge } }) as HostSubnet;
const self: Node = { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'host-1' }, spec: {} };
const h1 = hs('default-host-1', '10.76.1.0/24', 'br01');

/** A bridge network on `bridge` with subnet `subnet`, labelled io.xnet.owner=`owner` (none when undefined). */
const net = (name: string, subnet: string, bridge: string, owner?: string): DockerNetwork => ({
  id: `${name}-id`, name, driver: 'bridge', subnet, options: { 'com.docker.network.bridge.name': bridge },
  labels: owner === undefined ? {} : { 'io.xnet.owner': owner }, containers: 0,
});

/** XNET-FORWARD as one NAT pass writes it on a host with these Docker networks (nothing of xnet's there yet). */
async function forwardChain(networks: DockerNetwork[], unreadable: string[] = [], more: HostSubnet[] = [], reports: string[] = []): Promise<string[]> {
  const executed: Op[] = [];
  const list = <T extends { metadata: { name: string } }>(xs: T[]) => ({ list: () => xs, get: (n: string) => xs.find((x) => x.metadata.name === n) });
  const ctx = {
    node: 'host-1', log: { info: () => undefined, warn: () => undefined, debug: () => undefined },
    caches: { hostSubnets: list([h1, ...more]), clusterNetworks: list([dflt]), macvlanNets: list([]), nics: list([]), nodes: list([self]) },
    unreadable: (kind: string) => (kind === 'HostSubnet' ? unreadable : []),
    ownReports: (kind: string) => (kind === 'HostSubnet' ? reports : []),
    dp: {
      natState: async () => ({ nat: { chains: [], rules: {} }, filter: { chains: [], rules: {} }, ipForward: '1', dockerNetworks: foreignNetworksOf(networks) }),
      execute: async (ops: Op[]) => { executed.push(...ops); },
    },
  } as unknown as AgentContext;
  await reconcileNat(ctx);
  const filter = executed.find((o) => o.op === 'iptables.restore' && o.table === 'filter');
  const lines = filter?.op === 'iptables.restore' ? filter.lines : [];
  return lines.filter((l) => l.startsWith(`-A ${FWD_CHAIN} `)).map((l) => l.slice(`-A ${FWD_CHAIN} `.length));
}

const returns = (subnet: string, bridge: string) => [`-s ${subnet} -i ${bridge} -j RETURN`, `-d ${subnet} -o ${bridge} -j RETURN`];

describe('a user\'s Docker network inside a ClusterNetwork\'s CIDR that carries an io.xnet.owner label', () => {
  const xnets = net('default', '10.76.1.0/24', 'br01', 'HostSubnet/default-host-1');

  it('has its traffic returned to Docker\'s chains whatever the label says, unless it names a HostSubnet this node serves', async () => {
    for (const owner of [undefined, 'whatever', 'HostSubnet/nonexistent', 'ClusterNetwork/default', 'MacvlanNet/default', 'HostSubnet/', 'HostSubnet/Not_A_Name']) {
      const rules = await forwardChain([xnets, net('usernet', '10.76.200.0/24', 'ubr0', owner)]);
      expect(rules, `labelled ${owner}`).toEqual(expect.arrayContaining(returns('10.76.200.0/24', 'ubr0')));
      // xnet's own network of this node's HostSubnet is never returned
      expect(rules.filter((r) => r.includes('RETURN') && r.includes('10.76.1.0/24'))).toEqual([]);
    }
  });

  it('of a HostSubnet neither this node\'s nor one it keeps a report of (a user\'s, or an older agent\'s left over) is returned too', async () => {
    const rules = await forwardChain([xnets, net('old', '10.76.9.0/24', 'br09', 'HostSubnet/default-host-9')]);
    expect(rules).toEqual(expect.arrayContaining(returns('10.76.9.0/24', 'br09')));
  });

  it('of a HostSubnet of this node whose key does not decode is still xnet\'s (unreadable is not absent): not returned', async () => {
    const rules = await forwardChain([xnets, net('odd', '10.76.9.0/24', 'br09', 'HostSubnet/default-host-9')], ['default-host-9']);
    expect(rules.filter((r) => r.includes('RETURN') && r.includes('br09'))).toEqual([]);
  });

  it('of a HostSubnet of this node being deleted, its containers still on it, is still xnet\'s: not returned to Docker\'s isolation', async () => {
    const dying = { ...hs('default-host-9', '10.76.9.0/24', 'br09'), metadata: { ...meta('default-host-9'), deletionTimestamp: '2026-12-05T14:00:00Z' } } as HostSubnet;
    const rules = await forwardChain([xnets, net('dying', '10.76.9.0/24', 'br09', 'HostSubnet/default-host-9')], [], [dying]);
    expect(rules.filter((r) => r.includes('RETURN') && r.includes('br09'))).toEqual([]);
  });

  it('of a HostSubnet gone from this node whose report it keeps until the network goes is still xnet\'s: not returned', async () => {
    const rules = await forwardChain([xnets, net('left', '10.76.9.0/24', 'br09', 'HostSubnet/default-host-9')], [], [], ['default-host-9']);
    expect(rules.filter((r) => r.includes('RETURN') && r.includes('br09'))).toEqual([]);
  });
});
