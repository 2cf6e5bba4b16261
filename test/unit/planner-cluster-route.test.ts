// A ClusterNetwork NIC in a container whose own network is not xnet's (Docker's default bridge)
// carries a route to its ClusterNetwork's CIDR through the NIC's gateway: without it the NIC
// reached its own host's containers only. None where the container already reaches the CIDR
// (its default route goes via an address inside it, or some route to the CIDR is there), for
// the default-route NIC, and for a MacvlanNet NIC.
import { describe, expect, it } from 'vitest';
import type { Link, Route } from '../../pkg/netlink/types.js';
import {
  bridgeAlias, clusterRouteDifference, FALLBACK_DEFAULT_METRIC, ipLine, nicAlias, nicDifferences, planClusterRoute, planNic, vethHostName,
  type ContainerState, type DesiredNic,
} from '../../pkg/agent/planner/index.js';

const NS = { path: '/proc/1/fd/42', pid: 4242 };
const link = (name: string, ifindex: number, extra: Partial<Link> = {}): Link => ({ name, ifindex, mac: '02:00:00:00:00:0' + ifindex, mtu: 1500, up: true, promisc: false, ...extra });
const nic: DesiredNic = {
  name: 'web-eth1', ifName: 'eth1', cidr: '10.76.1.84/24', gateway: '10.76.1.1', defaultRoute: false, clusterCidr: '10.76.0.0/16',
  mac: '02:42:0a:4c:01:54', mtu: 1500, netns: NS, attach: { kind: 'veth', bridge: 'br01', hostSubnet: 'hs1' },
};
/** Docker's default bridge: the container's default route is not xnet's network */
const DOCKER_BRIDGE: Route[] = [
  { dst: 'default', via: '172.17.0.1', dev: 'eth0', proto: 'boot' },
  { dst: '172.17.0.0/16', dev: 'eth0', proto: 'kernel', scope: 'link', prefsrc: '172.17.0.2' },
];
const CONNECTED: Route = { dst: '10.76.1.0/24', dev: 'eth1', proto: 'kernel', scope: 'link', prefsrc: '10.76.1.84' };
const OURS: Route = { dst: '10.76.0.0/16', via: '10.76.1.1', dev: 'eth1', proto: '76' };

describe('the route to the rest of the ClusterNetwork', () => {
  it('is added through the NIC where the container\'s default route is elsewhere, with xnet\'s proto', () => {
    const ops = planClusterRoute(nic, [...DOCKER_BRIDGE, CONNECTED]);
    expect(ops).toEqual([{ op: 'route.replace', dst: '10.76.0.0/16', via: '10.76.1.1', dev: 'eth1', netns: NS }]);
    expect(ipLine(ops[0])).toEqual(['route', 'replace', '10.76.0.0/16', 'via', '10.76.1.1', 'dev', 'eth1', 'proto', '76']);
    expect(clusterRouteDifference(nic, [...DOCKER_BRIDGE, CONNECTED])).toBe('no route to ClusterNetwork 10.76.0.0/16 via 10.76.1.1 on eth1');
  });

  it('is in place once there, and made again when it went', () => {
    expect(planClusterRoute(nic, [...DOCKER_BRIDGE, CONNECTED, OURS])).toEqual([]);
    expect(clusterRouteDifference(nic, [...DOCKER_BRIDGE, CONNECTED, OURS])).toBeUndefined();
  });

  it('is moved to the NIC\'s gateway when xnet\'s route through the NIC has another', () => {
    expect(planClusterRoute(nic, [...DOCKER_BRIDGE, { ...OURS, via: '10.76.1.254' }])).toEqual([{ op: 'route.replace', dst: '10.76.0.0/16', via: '10.76.1.1', dev: 'eth1', netns: NS }]);
  });

  it('is not added where the container reaches the CIDR already', () => {
    // on an xnet bridge network: the default route's gateway is inside the CIDR
    expect(planClusterRoute(nic, [{ dst: 'default', via: '10.76.1.1', dev: 'eth0', proto: 'boot' }, CONNECTED])).toEqual([]);
    // another NIC's route to it (xnet's, on eth2), or the user's own
    expect(planClusterRoute(nic, [...DOCKER_BRIDGE, { ...OURS, dev: 'eth2' }])).toEqual([]);
    expect(planClusterRoute(nic, [...DOCKER_BRIDGE, { dst: '10.76.0.0/16', via: '172.17.0.9', dev: 'eth0', proto: 'boot' }])).toEqual([]);
  });

  it('is not added for the default-route NIC, a MacvlanNet NIC, or a NIC without a gateway', () => {
    expect(planClusterRoute({ ...nic, defaultRoute: true }, DOCKER_BRIDGE)).toEqual([]);
    expect(planClusterRoute({ ...nic, clusterCidr: undefined }, DOCKER_BRIDGE)).toEqual([]);
    expect(planClusterRoute({ ...nic, gateway: undefined }, DOCKER_BRIDGE)).toEqual([]);
  });

  it('replaces the route to a ClusterNetwork CIDR that was changed, and goes when the NIC becomes the default route', () => {
    const old = { ...OURS, dst: '10.76.0.0/17' };
    const grown = { ...nic, clusterCidr: '10.76.0.0/15' };
    expect(planClusterRoute(grown, [...DOCKER_BRIDGE, CONNECTED, old])).toEqual([
      { op: 'route.del', dst: '10.76.0.0/17', via: '10.76.1.1', dev: 'eth1', proto: '76', netns: NS },
      { op: 'route.replace', dst: '10.76.0.0/15', via: '10.76.1.1', dev: 'eth1', netns: NS },
    ]);
    expect(clusterRouteDifference(grown, [...DOCKER_BRIDGE, CONNECTED, old])).toBe('xnet\'s route to 10.76.0.0/17 through eth1 is left over');
    expect(planClusterRoute({ ...nic, defaultRoute: true }, [...DOCKER_BRIDGE, CONNECTED, OURS])).toEqual([
      { op: 'route.del', dst: '10.76.0.0/16', via: '10.76.1.1', dev: 'eth1', proto: '76', netns: NS },
    ]);
    // never the default route (default-route.ts), nor a route of another NIC or of the user
    const others: Route[] = [{ dst: 'default', via: '10.76.1.1', dev: 'eth1', proto: '76' }, { ...OURS, dev: 'eth2' }, { dst: '10.99.0.0/16', via: '10.76.1.1', dev: 'eth1', proto: 'boot' }];
    expect(planClusterRoute({ ...nic, defaultRoute: true }, [...DOCKER_BRIDGE, ...others])).toEqual([]);
  });

  it('comes after the address and the link up in a NIC made anew, and counts in nicDifferences', () => {
    const host = { links: [link('lo', 1), link('eth0', 2), link('br01', 3, { kind: 'bridge', alias: bridgeAlias('hs1') })], addrs: [], routes: [] };
    const container: ContainerState = { links: [link('lo', 1), link('eth0', 2)], addrs: [], routes: DOCKER_BRIDGE };
    const plan = planNic(nic, host, container);
    expect(plan.problems).toEqual([]);
    const ops = plan.ops.map((o) => o.op);
    const at = ops.indexOf('route.replace');
    expect(at, ops.join(' ')).toBeGreaterThan(0);
    // the gateway is reachable only once the NIC has its address and is up
    expect(ops.lastIndexOf('addr.add')).toBeLessThan(at);
    expect(ops.lastIndexOf('link.set.up')).toBeLessThan(at);
    const made: ContainerState = {
      links: [link('lo', 1), link('eth0', 2), link('eth1', 9, { kind: 'veth', alias: nicAlias(nic.name), mac: nic.mac })],
      addrs: [{ dev: 'eth1', cidr: nic.cidr }], routes: [...DOCKER_BRIDGE, CONNECTED],
    };
    expect(nicDifferences(nic, made)).toEqual(['no route to ClusterNetwork 10.76.0.0/16 via 10.76.1.1 on eth1']);
    expect(nicDifferences(nic, { ...made, routes: [...made.routes, OURS] })).toEqual([]);
  });
});

// Found by review: routes planned against what the same plan (or the kernel, as it runs) removes.
const hostWithEnd = { links: [link('lo', 1), link('eth0', 2), link('br01', 3, { kind: 'bridge', alias: bridgeAlias('hs1') }),
  link(vethHostName(nic.name), 10, { kind: 'veth', alias: nicAlias(nic.name), master: 'br01', linkIndex: 9 })], addrs: [], routes: [] };
const inContainer = link('eth1', 9, { kind: 'veth', alias: nicAlias(nic.name), mac: nic.mac, linkIndex: 10 });

/** the container's routes once the plan's route ops ran (a crude model of the kernel) */
function routesAfter(routes: Route[], ops: { op: string; dst?: string; dev?: string; via?: string; metric?: number }[], flushDev?: string): Route[] {
  let r = flushDev ? routes.filter((x) => x.dev !== flushDev || x.proto === 'kernel') : [...routes];
  for (const o of ops) {
    if (o.op === 'route.del') r = r.filter((x) => !(x.dst === o.dst && x.dev === o.dev));
    if (o.op === 'route.replace' || o.op === 'route.default') {
      const dst = o.op === 'route.default' ? 'default' : o.dst!;
      r = r.filter((x) => !(x.dst === dst && (x.metric ?? 0) === (o.metric ?? 0)));
      r.push({ dst, via: o.via, dev: o.dev, proto: '76', ...(o.metric ? { metric: o.metric } : {}) });
    }
  }
  return r;
}

describe('the NIC\'s routes in a plan that changes them', () => {
  it('defaultRoute turned off: the cluster route comes in the same plan (else NotInPlace after it)', () => {
    const routes: Route[] = [
      { dst: 'default', via: '10.76.1.1', dev: 'eth1', proto: '76' },
      { dst: 'default', via: '172.17.0.1', dev: 'eth0', proto: '76', metric: FALLBACK_DEFAULT_METRIC },
      { dst: '172.17.0.0/16', dev: 'eth0', proto: 'kernel', scope: 'link' }, CONNECTED,
    ];
    const container: ContainerState = { links: [link('lo', 1), link('eth0', 2), inContainer], addrs: [{ dev: 'eth1', cidr: nic.cidr }], routes };
    const plan = planNic(nic, hostWithEnd, container);
    expect(plan.problems).toEqual([]);
    const state = { ...container, routes: routesAfter(routes, plan.ops as never) };
    expect(nicDifferences(nic, state)).toEqual([]);
  });

  it('an address change (spec.ip) flushes the cluster route: the plan must put it back', () => {
    const routes: Route[] = [{ dst: 'default', via: '172.17.0.1', dev: 'eth0', proto: 'boot' }, CONNECTED, OURS];
    const moved = { ...nic, cidr: '10.76.1.85/24' };
    const container: ContainerState = { links: [link('lo', 1), link('eth0', 2), inContainer], addrs: [{ dev: 'eth1', cidr: nic.cidr }], routes };
    const plan = planNic(moved, hostWithEnd, container);
    expect(plan.ops.map((o) => o.op)).toContain('addr.del');
    // the kernel drops every route through eth1 when its last address goes (checked with ip netns)
    const state = { ...container, addrs: [{ dev: 'eth1', cidr: moved.cidr }], routes: routesAfter(routes, plan.ops as never, 'eth1') };
    expect(nicDifferences(moved, state)).toEqual([]);
  });
});
