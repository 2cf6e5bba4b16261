// A MacvlanNet that still selects this node but whose block for it is not known (no entry in
// status.nodes, or a controller status that did not decode and was skipped) is "pending": the
// agent prepares the parent and leaves the Docker network and the shim already here alone.
// Only a MacvlanNet that is deleted or no longer selects the node takes them away.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type MacvlanNet, type Node } from '../../pkg/api/index.js';
import { desiredMacvlan } from '../../pkg/agent/desired.js';
import { planMacvlan, planMacvlanRemoval, shimName } from '../../pkg/agent/planner/index.js';
import type { DockerNetwork } from '../../pkg/docker/types.js';
import type { HostState } from '../../pkg/netlink/ip.js';
import type { Link } from '../../pkg/netlink/types.js';

const link = (name: string, ifindex: number, extra: Partial<Link> = {}): Link => ({ name, ifindex, mac: '02:00:00:00:00:' + ifindex.toString(16).padStart(2, '0'), mtu: 1500, up: true, promisc: false, ...extra });
const self: Node = { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'host-1', generation: 1 }, spec: {}, status: { interface: 'eth0' } };
const blocks: MacvlanNet = {
  apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: { name: 'macvlan200', generation: 1 },
  spec: { subnet: '192.168.200.0/24', gateway: '192.168.200.1', mode: 'bridge', promiscuous: true, hostShim: true, blockPrefix: 28, dockerIPAM: 'blocks' },
  status: { nodes: [{ name: 'host-1', dockerRange: '192.168.200.128/28', shimAddress: '192.168.200.250' }] },
};
const xnetIpam: MacvlanNet = { ...blocks, spec: { ...blocks.spec, dockerIPAM: 'xnet' }, status: { nodes: [{ name: 'host-1', addresses: ['192.168.200.20'], shimAddress: '192.168.200.250' }] } };
const shim = shimName('macvlan200');
// what a converged node has: the parent up and promiscuous, the marked shim with its address and
// routes, and xnet's Docker network with no container attached (the case where it would go)
const converged: HostState = {
  links: [link('lo', 1), link('eth0', 2, { promisc: true }), link(shim, 5, { kind: 'macvlan', parent: 'eth0', alias: 'xnet:shim:macvlan200' })],
  addrs: [{ dev: shim, cidr: '192.168.200.250/32' }],
  routes: [{ dst: '192.168.200.128/28', dev: shim, proto: '76' }, { dst: '192.168.200.20', dev: shim, proto: '76' }],
};
const network: DockerNetwork = {
  id: 'n1', containers: 0, name: 'macvlan200', driver: 'macvlan', subnet: '192.168.200.0/24', gateway: '192.168.200.1', ipRange: '192.168.200.128/28',
  options: { parent: 'eth0', macvlan_mode: 'bridge' }, labels: { 'io.xnet.owner': 'MacvlanNet/macvlan200' },
};
const withoutMe = (m: MacvlanNet): MacvlanNet => ({ ...m, status: { nodes: [{ name: 'host-2', dockerRange: '192.168.200.144/28' }] } });
const noStatus = (m: MacvlanNet): MacvlanNet => ({ ...m, status: undefined });

describe('a pending MacvlanNet keeps the network and shim already on the node', () => {
  const cases: Array<[string, MacvlanNet]> = [
    ['blocks, this node missing from status.nodes', withoutMe(blocks)],
    ['blocks, no readable status (a controller status that did not decode is skipped)', noStatus(blocks)],
    ['blocks, this node listed without its dockerRange', { ...blocks, status: { nodes: [{ name: 'host-1', shimAddress: '192.168.200.250' }] } }],
    ['xnet IPAM, this node missing from status.nodes', withoutMe(xnetIpam)],
    ['xnet IPAM, no readable status', noStatus(xnetIpam)],
  ];
  for (const [what, m] of cases) {
    it(`plans nothing against a converged node: ${what}`, () => {
      const r = desiredMacvlan(m, 'host-1', self, [], 'xnet');
      expect(r.pending?.reason).toBe('NotAllocated');
      expect(planMacvlan(r.desired!, converged, [network])).toEqual({ ops: [], problems: [] });
    });
  }

  it('still prepares the parent (up, promiscuous), and only the parent', () => {
    const r = desiredMacvlan(withoutMe(blocks), 'host-1', self, [], 'xnet');
    const down = { ...converged, links: [link('lo', 1), link('eth0', 2, { up: false }), converged.links[2]] };
    expect(planMacvlan(r.desired!, down, [network]).ops).toEqual([
      { op: 'link.set.up', name: 'eth0' }, { op: 'link.set.promisc', name: 'eth0', on: true },
    ]);
  });

  it('leaves an unmarked link under the shim name alone while pending, without a problem', () => {
    const r = desiredMacvlan(withoutMe(blocks), 'host-1', self, [], 'xnet');
    const foreign = { ...converged, links: [link('lo', 1), link('eth0', 2, { promisc: true }), link(shim, 5, { kind: 'bridge' })] };
    expect(planMacvlan(r.desired!, foreign, [network])).toEqual({ ops: [], problems: [] });
  });

  it('the same node converged with its entry back plans nothing either (the network and shim it kept are right)', () => {
    const r = desiredMacvlan(blocks, 'host-1', self, [], 'xnet');
    expect(r.pending).toBeUndefined();
    const routes = converged.routes.filter((x) => x.dst !== '192.168.200.20');
    expect(planMacvlan(r.desired!, { ...converged, routes }, [network])).toEqual({ ops: [], problems: [] });
  });

  it('a MacvlanNet deleted or no longer selecting the node still takes its network and shim away', () => {
    expect(planMacvlanRemoval('macvlan200', converged, [network], new Map([['n1', 'MacvlanNet/macvlan200']])).ops).toEqual([
      { op: 'docker.network.remove', name: 'macvlan200', id: 'n1' }, { op: 'link.del', name: shim },
    ]);
  });
});
