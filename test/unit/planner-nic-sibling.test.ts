// planNic when the declared ifName is another ContainerNic's interface (planNameHeldBySibling):
// this NIC's own links go, so that two NICs that swapped names can both move; a link under the
// NIC's host-end or temporary name that xnet did not mark is never among them (docs/api.md,
// InterfaceNameTaken: "that link is left alone").
import { describe, expect, it } from 'vitest';
import type { HostState } from '../../pkg/netlink/ip.js';
import type { Link } from '../../pkg/netlink/types.js';
import { planNic, type DesiredNic } from '../../pkg/agent/planner/nic.js';
import { tempName, vethHostName } from '../../pkg/agent/planner/names.js';

const link = (name: string, ifindex: number, extra: Partial<Link> = {}): Link => ({ name, ifindex, mac: '02:00:00:00:00:' + ifindex.toString(16).padStart(2, '0'), mtu: 1500, up: true, promisc: false, ...extra });
const host = (links: Link[]): HostState => ({ links, routes: [], addrs: [] });
const NS = { path: '/proc/1/fd/42', pid: 4242 };

describe('planNic: the ifName is held by another NIC of the container', () => {
  const d: DesiredNic = { name: 'a', ifName: 'eth2', cidr: '10.76.1.50/24', defaultRoute: false, netns: NS, attach: { kind: 'veth', bridge: 'br01', hostSubnet: 'hs1' } };
  const hostLinks = [link('lo', 1), link('eth0', 2), link('br01', 3, { kind: 'bridge', alias: 'xnet:hostsubnet:hs1' })];
  // b's interface holds eth2
  const siblingEth2 = link('eth2', 12, { kind: 'veth', alias: 'xnet:nic:b' });

  it('takes out its own marked links (its host end: the pair goes with it), InterfaceNameTaken', () => {
    const h = host([...hostLinks, link(vethHostName('a'), 20, { kind: 'veth', alias: 'xnet:nic:a', master: 'br01', linkIndex: 11, linkNetnsId: 0 })]);
    const c = { links: [link('lo', 1), link('eth1', 11, { kind: 'veth', alias: 'xnet:nic:a', linkIndex: 20, linkNetnsId: 0 }), siblingEth2], addrs: [], routes: [] };
    const p = planNic(d, h, c);
    expect(p.ops).toEqual([{ op: 'link.del', name: vethHostName('a') }]);
    expect(p.problems).toMatchObject([{ reason: 'InterfaceNameTaken', message: expect.stringContaining('ContainerNic b') }]);
  });

  it('leaves a link under its host-end or temporary name that xnet did not mark alone', () => {
    for (const [h, extra] of [
      [host([...hostLinks, link(vethHostName('a'), 20, { kind: 'dummy' })]), []],
      [host([...hostLinks, link(tempName('a'), 21, { kind: 'veth' })]), []],
      [host(hostLinks), [link(tempName('a'), 13, { kind: 'veth' })]],
    ] as const) {
      const c = { links: [link('lo', 1), siblingEth2, ...extra], addrs: [], routes: [] };
      const p = planNic(d, h, c);
      expect(p.ops).toEqual([]);
      expect(p.problems[0].reason).toBe('InterfaceNameTaken');
    }
  });
});
