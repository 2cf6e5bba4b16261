// The networks a host is directly on, which no peer route may overlap (peerRouteWhy), are those
// of its own IPv4 addresses. They were read off every main-table route with a `src`, so a
// static route such as `10.0.0.0/8 via 10.1.0.1 src 10.1.0.5` made 10.1.0.5/8 a "directly
// connected" network, and every peer of a 10.x ClusterNetwork was refused as UnsafeRoute; and
// `172.16.0.0/12 via 192.168.7.1 src 192.168.7.20` made up 192.160.0.0/12.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type ClusterNetwork, type HostSubnet, type Node } from '../../pkg/api/index.js';
import type { AgentContext } from '../../pkg/agent/context.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import { reconcileRoutes } from '../../pkg/agent/reconcilers/routes.js';
import type { Addr, Route } from '../../pkg/netlink/types.js';

const cn = (cidr: string): ClusterNetwork => ({
  apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: { name: 'default' }, spec: { cidr, hostPrefix: 24, bridgePrefix: 'br', masquerade: true },
});
const peer = (subnet: string, nodeAddress: string): HostSubnet => ({
  apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: 'default-host-2' },
  spec: { node: 'host-2', clusterNetwork: 'default', icc: true }, status: { subnet, nodeAddress },
});
const host2: Node = { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'host-2' }, spec: {} };

/** One routes pass of host-1's agent, whose host has `addrs` and the main table `routes`: what it did and the problems it reported. */
async function pass(network: ClusterNetwork, hs: HostSubnet, addrs: Addr[], routes: Route[]) {
  const executed: Op[] = [];
  const ctx = {
    node: 'host-1', routeProblems: [], log: { info: () => undefined },
    caches: {
      hostSubnets: { get: (n: string) => (n === hs.metadata.name ? hs : undefined), list: () => [hs] },
      nodes: { get: (n: string) => (n === 'host-2' ? host2 : undefined) },
      clusterNetworks: { get: () => network, hasSynced: () => true },
    },
    unreadable: () => [],
    dp: { ip: { routes: async () => routes, addrs: async () => addrs }, execute: async (ops: Op[]) => { executed.push(...ops); } },
  } as unknown as AgentContext;
  await reconcileRoutes(ctx);
  return { routes: executed.flatMap((o) => (o.op === 'route.replace' ? [`${o.dst} via ${o.via}`] : [])), problems: ctx.routeProblems.map((p) => p.message) };
}

describe('the networks a host is directly on, for its peer routes', () => {
  it('a static route with src (10.0.0.0/8 via 10.1.0.1 src 10.1.0.5) is no network the host is on', async () => {
    const r = await pass(cn('10.76.0.0/16'), peer('10.76.2.0/24', '10.1.0.9'), [{ dev: 'eth0', cidr: '10.1.0.5/24' }], [
      { dst: '10.1.0.0/24', dev: 'eth0', proto: 'kernel', scope: 'link', prefsrc: '10.1.0.5' },
      { dst: '10.0.0.0/8', via: '10.1.0.1', dev: 'eth0', proto: 'static', prefsrc: '10.1.0.5' },
    ]);
    expect(r.problems).toEqual([]);
    expect(r.routes).toEqual(['10.76.2.0/24 via 10.1.0.9']);
  });

  it('a route to another range sourced from an address invents no network (172.16.0.0/12 src 192.168.7.20)', async () => {
    const addrs = [{ dev: 'eth0', cidr: '10.1.0.5/24' }, { dev: 'eth1', cidr: '192.168.7.20/24' }];
    const routes: Route[] = [
      { dst: '10.1.0.0/24', dev: 'eth0', proto: 'kernel', scope: 'link', prefsrc: '10.1.0.5' },
      { dst: '172.16.0.0/12', via: '192.168.7.1', dev: 'eth1', proto: 'static', prefsrc: '192.168.7.20' },
      { dst: '192.168.7.0/24', dev: 'eth1', proto: 'kernel', scope: 'link', prefsrc: '192.168.7.20' },
    ];
    const r = await pass(cn('192.170.0.0/16'), peer('192.170.3.0/24', '10.1.0.9'), addrs, routes);
    expect(r.problems).toEqual([]);
    expect(r.routes).toEqual(['192.170.3.0/24 via 10.1.0.9']);
  });

  it('refuses a peer subnet over an address of the host that has no connected route (noprefixroute)', async () => {
    const r = await pass(cn('192.168.0.0/16'), peer('192.168.7.0/24', '10.1.0.9'), [{ dev: 'eth1', cidr: '192.168.7.20/24' }], []);
    expect(r.routes).toEqual([]);
    expect(r.problems).toEqual([expect.stringMatching(/192\.168\.7\.0\/24 covers 192\.168\.7\.20, an address this node holds/)]);
  });
});
