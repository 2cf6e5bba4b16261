// A MacvlanNet with a VLAN on a host whose kernel has no 802.1Q (its agent reports the Node's
// capabilities.vlan false, and the MacvlanNet VlanUnsupported there): verify lists it once per
// host with that reason, as docs/xctl.md promises, not every op of a plan the agent never runs
// (the VLAN link, its alias, up, promisc, the Docker network, the shim, its address and routes:
// 17 lines per host before). Found by a new user's trial of `xctl lab verify`.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type MacvlanNet, type Node } from '../../pkg/api/index.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import type { HostState } from '../../pkg/netlink/ip.js';
import { differences, type DifferencesInput } from '../../pkg/verify/verify.js';
import type { Store } from '../../pkg/store/index.js';

const vlan: MacvlanNet = {
  apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: { name: 'vlan300', generation: 1 },
  spec: { subnet: '198.19.30.0/24', gateway: '198.19.30.1', parent: 'eth0', vlan: 300, mode: 'bridge', promiscuous: true, hostShim: true, blockPrefix: 28, dockerIPAM: 'blocks' },
  status: { nodes: [{ name: 'host-1', dockerRange: '198.19.30.128/28', shimAddress: '198.19.30.250' }] },
} as MacvlanNet;
const host: HostState = {
  links: [{ name: 'lo', ifindex: 1, mac: '00:00:00:00:00:00', mtu: 65536, up: true, promisc: false }, { name: 'eth0', ifindex: 2, mac: '02:00:00:00:00:02', mtu: 1500, up: true, promisc: false }],
  addrs: [], routes: [],
};

function input(capabilities: Record<string, boolean> | undefined): DifferencesInput {
  const self: Node = { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'host-1' }, spec: {}, status: { interface: 'eth0', ...(capabilities ? { capabilities } : {}) } };
  const list = <T extends { metadata: { name: string } }>(xs: T[]) => ({ list: () => xs, get: (n: string) => xs.find((x) => x.metadata.name === n), hasSynced: () => true });
  const recorded: Op[] = [];
  const dp = {
    ip: { links: async () => host.links, addrs: async () => [], linksAndAddrs: async () => ({ links: host.links, addrs: [] }), routes: async () => [] },
    hostState: async () => host,
    dockerNetworks: async () => [],
    execute: async (ops: Op[]) => { recorded.push(...ops); },
    take: () => recorded.splice(0),
  };
  return {
    node: 'host-1', store: {} as Store, dp: dp as unknown as DifferencesInput['dp'],
    caches: { nodes: list([self]), clusterNetworks: list([]), hostSubnets: list([]), nics: list([]), macvlanNets: list([vlan]) } as unknown as DifferencesInput['caches'],
  };
}

/** what verify says, but of the NAT pass: it reads iptables, which this stand-in does not hold */
const run = async (caps: Record<string, boolean> | undefined) => (await differences(input(caps))).filter((d) => d.what !== 'NAT');

describe('verify of a VLAN MacvlanNet on a kernel without 802.1Q', () => {
  it('is one line with its reason, VlanUnsupported, and none of the ops the kernel cannot do', async () => {
    const diffs = await run({ macvlan: true, vlan: false });
    expect(diffs).toEqual([{ host: 'host-1', what: 'macvlannet/vlan300', expected: 'Ready', found: "VlanUnsupported: VLAN 300 needs interface eth0.300, but this node's kernel has no 802.1Q support" }]);
  });

  it('is still every op it would make where the kernel can (or the agent has not said)', async () => {
    for (const caps of [{ macvlan: true, vlan: true }, undefined]) {
      const diffs = await run(caps);
      expect(diffs.map((d) => d.expected)).toContain('eth0.300 (vlan)');
      expect(diffs.some((d) => d.what === 'macvlannet/vlan300')).toBe(false);
    }
  });
});
