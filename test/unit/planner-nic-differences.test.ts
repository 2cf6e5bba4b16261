// The macvlan NIC chaos fault 6 left behind (docs/faults.md): in the restarted container's new
// namespace, marked as xnet's but with another MAC, down and without its address. The planner
// must converge it, and nicDifferences (what decides Ready after a change) must name each gap.
import { describe, expect, it } from 'vitest';
import type { Link } from '../../pkg/netlink/types.js';
import { nicAlias, nicDifferences, planNic, type ContainerState, type DesiredNic } from '../../pkg/agent/planner/index.js';

const link = (name: string, ifindex: number, extra: Partial<Link> = {}): Link => ({ name, ifindex, mac: '02:00:00:00:00:0' + ifindex, mtu: 1500, up: true, promisc: false, ...extra });
const MAC = '02:42:c0:a8:dc:14';
const NS = { path: '/proc/1/fd/77', pid: 77 };
const d: DesiredNic = { name: 'web-mv', ifName: 'mv0', cidr: '192.168.220.20/24', mac: MAC, defaultRoute: false, netns: NS, attach: { kind: 'macvlan', parent: 'eth0', mode: 'bridge' } };
const host = { links: [link('lo', 1), link('eth0', 2)], addrs: [], routes: [] };
const mv0 = (extra: Partial<Link>): Link => link('mv0', 5, { kind: 'macvlan', linkIndex: 2, alias: nicAlias('web-mv'), ...extra });
const whole: ContainerState = { links: [mv0({ mac: MAC })], addrs: [{ dev: 'mv0', cidr: '192.168.220.20/24' }], routes: [] };
const halfMade: ContainerState = { links: [mv0({ mac: '5a:11:22:33:44:55', up: false })], addrs: [], routes: [] };

describe('a macvlan NIC half made in a restarted container', () => {
  it('is converged: address, up, then the MAC (live, last: a refusal leaves it working)', () => {
    expect(planNic(d, host, halfMade)).toEqual({
      problems: [],
      ops: [
        { op: 'addr.add', dev: 'mv0', cidr: '192.168.220.20/24', netns: NS },
        { op: 'link.set.up', name: 'mv0', netns: NS },
        { op: 'sysctl.set', netns: NS, values: { 'net.ipv4.conf.mv0.arp_notify': '1' } },
        { op: 'link.set.mac', name: 'mv0', mac: MAC, netns: NS },
      ],
    });
  });

  it('is named by nicDifferences, gap by gap; a whole NIC has none', () => {
    expect(nicDifferences(d, halfMade)).toEqual([`MAC 5a:11:22:33:44:55, declared ${MAC}`, 'mv0 is down', '192.168.220.20/24 missing']);
    expect(nicDifferences(d, whole)).toEqual([]);
    expect(nicDifferences({ ...d, mac: MAC.toUpperCase() }, whole)).toEqual([]);
    expect(nicDifferences(d, { ...whole, links: [] })).toEqual(['no interface mv0']);
    expect(nicDifferences(d, { ...whole, links: [mv0({ mac: MAC, alias: undefined })] })).toEqual(['mv0 is not marked as xnet:nic:web-mv']);
  });

  it('names an undeclared address and a missing default route', () => {
    const extra = { ...whole, addrs: [...whole.addrs, { dev: 'mv0', cidr: '192.168.220.99/24' }] };
    expect(nicDifferences(d, extra)).toEqual(['undeclared address 192.168.220.99/24']);
    const withDefault: DesiredNic = { ...d, defaultRoute: true, gateway: '192.168.220.1' };
    expect(nicDifferences(withDefault, whole)).toEqual(['no default route via 192.168.220.1 on mv0']);
    expect(nicDifferences(withDefault, { ...whole, routes: [{ dst: 'default', via: '192.168.220.1', dev: 'mv0', proto: 'static' }] })).toEqual([]);
  });
});
