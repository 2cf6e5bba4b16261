// A MacvlanNet's Docker network is a macvlan network labelled io.xnet.owner=MacvlanNet/<name>.
// Anyone can put that label on a network of another driver (a user's bridge, an ipvlan network):
// that network is not the MacvlanNet's, so it is never removed as its network or its leftover,
// and the parent of an ipvlan one keeps promiscuous mode whatever the MacvlanNet wishes. Nor is
// it the network of that name xnet makes, when it holds the name: a NetworkConflict naming it,
// never removed and made again (likewise a HostSubnet's name held by a network of another driver
// labelled for that HostSubnet).
import { describe, expect, it } from 'vitest';
import { macvlanLeftovers, planDockerNetworks, planMacvlan, planMacvlanRemoval, type DesiredMacvlan } from '../../pkg/agent/planner/index.js';
import { parentsWantingPromisc } from '../../pkg/agent/planner/parents.js';
import type { DockerNetwork, DockerNetworkSpec } from '../../pkg/docker/types.js';
import type { Link } from '../../pkg/netlink/types.js';
import type { Op } from '../../pkg/agent/planner/ops.js';

const link = (name: string, ifindex: number): Link => ({ name, ifindex, mac: `02:00:00:00:00:0${ifindex}`, mtu: 1500, up: true, promisc: true });
const host = { links: [link('lo', 1), link('eth0', 2)], routes: [], addrs: [] };
const network: DockerNetworkSpec = {
  name: 'lan', driver: 'macvlan', subnet: '192.168.200.0/24', ipRange: '192.168.200.128/28',
  options: { parent: 'eth0', macvlan_mode: 'bridge' }, labels: { 'io.xnet.owner': 'MacvlanNet/lan' },
};
const d: DesiredMacvlan = { name: 'lan', parent: 'eth0', promiscuous: true, network };
const xnets: DockerNetwork = { ...network, id: 'lan-id', containers: 0 };
/** A user's network labelled for MacvlanNet `lan`, of another driver. */
const users = (driver: string, options: Record<string, string> = {}): DockerNetwork =>
  ({ id: 'user-id', name: 'usernet', driver: driver as DockerNetwork['driver'], subnet: '10.50.0.0/24', options, labels: { 'io.xnet.owner': 'MacvlanNet/lan' }, containers: 0 });
const removals = (ops: Op[]) => ops.flatMap((o) => (o.op === 'docker.network.remove' ? [o.name] : []));

describe('a user\'s network of another driver labelled io.xnet.owner=MacvlanNet/<name>', () => {
  it('is not removed while that MacvlanNet selects this node (not its network), nor once it is gone (not its leftover)', () => {
    for (const driver of ['bridge', 'ipvlan']) {
      expect(removals(planMacvlan(d, host, [xnets, users(driver)]).ops), driver).toEqual([]);
      // even were it recorded under its label: only a macvlan network is a MacvlanNet's
      const made = new Map([['lan-id', 'MacvlanNet/lan'], ['user-id', 'MacvlanNet/lan']]);
      expect(removals(planMacvlanRemoval('lan', host, [xnets, users(driver)], made).ops), driver).toEqual(['lan']);
    }
  });

  it('names no MacvlanNet whose leftovers are to be removed; a macvlan network so labelled does', () => {
    const made = new Map([['user-id', 'MacvlanNet/lan']]);
    expect(macvlanLeftovers([users('bridge'), users('ipvlan')], new Set(), new Set(), made)).toEqual({ names: [], unproven: [] });
    expect(macvlanLeftovers([users('macvlan')], new Set(), new Set(), made).names).toEqual(['lan']);
  });

  it('keeps its parent promiscuous when the MacvlanNet it names does not want promiscuous mode', () => {
    const ipvlan = users('ipvlan', { parent: 'eth1' });
    expect([...parentsWantingPromisc([], [ipvlan, xnets], new Map([['lan', false]]))]).toEqual(['eth1']);
  });
});

describe('a network under the name xnet makes for an object, carrying that object\'s label but of another driver', () => {
  it('is a NetworkConflict naming it and why, never removed and made again (the MacvlanNet\'s name held by a user\'s ipvlan network)', () => {
    for (const driver of ['ipvlan', 'bridge']) {
      const theirs: DockerNetwork = { ...users(driver, { parent: 'eth0' }), name: 'lan' };
      const p = planMacvlan(d, host, [theirs]);
      expect(p.ops.filter((o) => o.op.startsWith('docker.')), driver).toEqual([]);
      expect(p.problems, driver).toEqual([{ reason: 'NetworkConflict', message: `Docker network lan exists and is labelled io.xnet.owner=MacvlanNet/lan but its driver is ${driver}, and xnet makes a MacvlanNet only macvlan networks: it is not xnet's; remove or rename it` }]);
    }
  });

  it('is a NetworkConflict for a HostSubnet too (a macvlan network labelled HostSubnet/<name> under its network\'s name)', () => {
    const spec: DockerNetworkSpec = { name: 'net1', driver: 'bridge', subnet: '10.76.1.0/24', gateway: '10.76.1.1', options: { 'com.docker.network.bridge.name': 'br01' }, labels: { 'io.xnet.owner': 'HostSubnet/default-host-1' } };
    const theirs: DockerNetwork = { id: 'u', name: 'net1', driver: 'macvlan', subnet: '10.76.1.0/24', options: {}, labels: spec.labels, containers: 0 };
    const p = planDockerNetworks([spec], [theirs], 'HostSubnet');
    expect(p.ops).toEqual([]);
    expect(p.problems).toEqual([{ reason: 'NetworkConflict', message: expect.stringMatching(/^Docker network net1 exists and is labelled io.xnet.owner=HostSubnet\/default-host-1 but its driver is macvlan/) }]);
    // of the kind's driver, it is the object's own: made again when it drifted and nothing is attached
    const own = { ...theirs, driver: 'bridge' as const, subnet: '10.76.9.0/24' };
    expect(planDockerNetworks([spec], [own], 'HostSubnet').ops.map((o) => o.op)).toEqual(['docker.network.remove', 'docker.network.create']);
  });
});
