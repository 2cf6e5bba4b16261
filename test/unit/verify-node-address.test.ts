// `xctl verify` of a host whose Node pins a spec.address the host does not have (a typo):
// every peer routes the node's subnets to nobody while the Node is Ready and every route is
// "in place". Found in the lab: `apply` of Node host-1 with address 198.18.0.99 left host-2's
// pings to host-1's containers unanswered, and `xctl verify` and `xctl lab verify` reported no
// difference for it. Now one line names it, as the agent's AddressOnHost condition does.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type Node } from '../../pkg/api/index.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import { differences, type DifferencesInput } from '../../pkg/verify/verify.js';
import type { Store } from '../../pkg/store/index.js';

function input(address?: string, iface?: string): DifferencesInput {
  const self: Node = { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'host-1' }, spec: { ...(address ? { address } : {}), ...(iface ? { interface: iface } : {}) } };
  const list = <T extends { metadata: { name: string } }>(xs: T[]) => ({ list: () => xs, get: (n: string) => xs.find((x) => x.metadata.name === n) });
  const recorded: Op[] = [];
  const dp = {
    ip: { links: async () => [], addrs: async () => [], linksAndAddrs: async () => ({ links: [], addrs: [] }), routes: async () => [] },
    dockerNetworks: async () => [],
    // the host has eth0 and eth1 (detectUnderlay looks the pinned interface up by name)
    underlay: async (pinned?: string) => ({
      address: '198.18.0.11', interface: 'eth0', local: ['198.18.0.11', '10.76.1.1'],
      ...(pinned ? { pinned: { name: pinned, ...(['eth0', 'eth1'].includes(pinned) ? { ifindex: pinned === 'eth0' ? 2 : 3 } : {}) } } : {}),
    }),
    execute: async (ops: Op[]) => { recorded.push(...ops); },
    take: () => recorded.splice(0),
  };
  return {
    node: 'host-1', store: {} as Store, dp: dp as unknown as DifferencesInput['dp'],
    caches: { nodes: list([self]), clusterNetworks: list([]), hostSubnets: list([]), nics: list([]), macvlanNets: list([]) } as unknown as DifferencesInput['caches'],
  };
}

describe('verify of a Node whose spec.address the host does not have', () => {
  it('is a difference naming the address, what the host has and the detected one', async () => {
    const diffs = (await differences(input('198.18.0.99'))).filter((d) => d.what === 'node/host-1');
    expect(diffs).toHaveLength(1);
    expect(diffs[0].expected).toBe('spec.address 198.18.0.99 on this host');
    expect(diffs[0].found).toMatch(/^NotOnHost: spec\.address 198\.18\.0\.99 is not an address of this host \(it has 198\.18\.0\.11, 10\.76\.1\.1\).*remove it to use the detected 198\.18\.0\.11$/);
  });

  it('is none when the host has it, or when no address is pinned', async () => {
    const of = async (a?: string) => (await differences(input(a))).filter((d) => d.what.startsWith('node/'));
    expect(await of('198.18.0.11')).toEqual([]);
    expect(await of()).toEqual([]);
  });
});

describe('verify of a Node whose spec.interface the host does not have', () => {
  it('is a difference naming the interface and the detected one', async () => {
    const diffs = (await differences(input(undefined, 'enp0s5'))).filter((d) => d.what === 'node/host-1');
    expect(diffs).toHaveLength(1);
    expect(diffs[0].expected).toBe('spec.interface enp0s5 on this host');
    expect(diffs[0].found).toMatch(/^NotOnHost: spec\.interface enp0s5 is not a link of this host: .*remove it to use the detected eth0$/);
  });

  it('is none when the host has it; both pinned and both missing: two lines', async () => {
    const of = async (a?: string, f?: string) => (await differences(input(a, f))).filter((d) => d.what.startsWith('node/'));
    expect(await of(undefined, 'eth1')).toEqual([]);
    expect((await of('198.18.0.99', 'enp0s5')).map((d) => d.expected)).toEqual(['spec.address 198.18.0.99 on this host', 'spec.interface enp0s5 on this host']);
  });
});
