// A routes pass after store events about a few peers plans only their destinations
// (pkg/agent/routes-delta.ts). Each step below runs two agents side by side on their own
// kernels: one told which peers changed, one that looks at every peer on every pass (the
// level-triggered reference). Their kernels and route problems must be the same after every
// step; the first must not walk the peers (its HostSubnet list throws) except where the full
// pass has to decide: a problem, two peers on one destination, this host's addresses changed,
// a pass that failed, or a resync.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type ClusterNetwork, type HostSubnet, type Node } from '../../pkg/api/index.js';
import type { AgentContext } from '../../pkg/agent/context.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import { reconcileRoutes } from '../../pkg/agent/reconcilers/routes.js';
import { HostSubnetNodes, routePeers } from '../../pkg/agent/events.js';
import { MAX_DELTA_PEERS, RoutesDirty } from '../../pkg/agent/routes-delta.js';
import { XNET_RT_PROTO, type Route } from '../../pkg/netlink/types.js';

const addr = (i: number) => `198.18.${1 + (i >> 8)}.${i & 255}`;
const hs = (i: number, status: Record<string, unknown> = {}): HostSubnet => ({
  apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: `default-host-${i}` },
  spec: { node: `host-${i}`, clusterNetwork: 'default', icc: true },
  status: { subnet: `10.${64 + (i >> 8)}.${i & 255}.0/24`, nodeAddress: addr(i), ...status },
});
const node = (i: number, address?: string): Node => ({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: `host-${i}` }, spec: address ? { address } : {} });

/** One agent's routes reconciler on a kernel of its own. */
class Host {
  readonly kernel = new Map<string, Route>();
  connected: Route = { dst: '198.18.0.0/16', dev: 'eth0', proto: 'kernel', scope: 'link', prefsrc: addr(0) };
  walks = 0;
  failNext = false;
  clusterNetworksListed = true;
  readonly ctx: AgentContext;

  constructor(readonly world: World, readonly dirty?: RoutesDirty) {
    const host = this;
    this.ctx = {
      node: 'host-0', routeProblems: [], routesDirty: dirty, log: { info: () => undefined },
      caches: {
        hostSubnets: { get: (n: string) => world.subnets.get(n), list: () => { host.walks++; return [...world.subnets.values()]; } },
        nodes: { get: (n: string) => world.nodes.get(n) },
        clusterNetworks: { get: (n: string) => world.clusterNetworks.get(n), hasSynced: () => host.clusterNetworksListed },
      },
      dp: {
        ip: {
          routes: async () => [host.connected, ...host.kernel.values()],
          // the address the connected route is there for: a change of it is the host's addresses changing
          addrs: async () => [{ dev: 'eth0', cidr: `${host.connected.prefsrc}/${host.connected.dst.split('/')[1]}` }],
        },
        execute: async (ops: Op[]) => {
          if (host.failNext) { host.failNext = false; throw new Error('ip -batch failed'); }
          for (const o of ops) {
            if (o.op === 'route.replace') host.kernel.set(o.dst, { dst: o.dst, via: o.via, proto: String(XNET_RT_PROTO) });
            else if (o.op === 'route.del') host.kernel.delete(o.dst);
          }
        },
      },
    } as unknown as AgentContext;
  }

  async pass(): Promise<number> {
    const before = this.walks;
    await reconcileRoutes(this.ctx).catch(() => undefined);
    return this.walks - before;
  }
}

class World {
  subnets = new Map<string, HostSubnet>();
  nodes = new Map<string, Node>();
  clusterNetworks = new Map<string, ClusterNetwork>([['default', {
    apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: { name: 'default' }, spec: { cidr: '10.64.0.0/10', hostPrefix: 24, bridgePrefix: 'br', masquerade: true },
  }]]);
  readonly index = new HostSubnetNodes();
  readonly told = new RoutesDirty();
  readonly delta = new Host(this, this.told);
  readonly full = new Host(this);

  putSubnet(h: HostSubnet): void {
    const old = this.subnets.get(h.metadata.name);
    if (old) this.index.remove(old);
    this.subnets.set(h.metadata.name, h);
    this.index.add(h);
    this.tell(routePeers(h, 'host-0', this.index, old));
  }

  deleteSubnet(name: string): void {
    const h = this.subnets.get(name)!;
    this.subnets.delete(name);
    this.index.remove(h);
    this.tell(routePeers(h, 'host-0', this.index));
  }

  putNode(n: Node): void {
    this.nodes.set(n.metadata.name, n);
    this.tell(routePeers(n, 'host-0', this.index));
  }

  tell(peers: string[] | undefined): void {
    if (peers) this.told.peers(peers); else this.told.everything();
  }

  /** Both hosts run a pass; the same kernel and problems; how many peer walks the told one made. */
  async step(): Promise<number> {
    const walks = await this.delta.pass();
    await this.full.pass();
    expect([...this.delta.kernel.entries()].sort()).toEqual([...this.full.kernel.entries()].sort());
    expect(this.delta.ctx.routeProblems).toEqual(this.full.ctx.routeProblems);
    return walks;
  }
}

async function world(peers: number): Promise<World> {
  const w = new World();
  for (let i = 0; i <= peers; i++) { w.subnets.set(`default-host-${i}`, hs(i)); w.index.add(hs(i)); w.nodes.set(`host-${i}`, node(i)); }
  expect(await w.step()).toBe(1);
  expect(w.delta.kernel.size).toBe(peers);
  return w;
}

describe('a routes pass for the peers that changed', () => {
  it('routes a new peer, a moved next hop and a deleted peer without walking every peer', async () => {
    const w = await world(300);
    w.putNode(node(301));
    w.putSubnet(hs(301, { subnet: undefined, nodeAddress: undefined }));
    expect(await w.step()).toBe(0);
    w.putSubnet(hs(301));
    expect(await w.step()).toBe(0);
    expect(w.delta.kernel.get('10.65.45.0/24')).toMatchObject({ via: addr(301) });
    w.putSubnet(hs(7, { nodeAddress: '198.18.9.9' }));
    expect(await w.step()).toBe(0);
    expect(w.delta.kernel.get('10.64.7.0/24')).toMatchObject({ via: '198.18.9.9' });
    w.deleteSubnet('default-host-8');
    expect(await w.step()).toBe(0);
    expect(w.delta.kernel.has('10.64.8.0/24')).toBe(false);
    // a peer whose next hop is its Node's address: the Node's change is its HostSubnet's
    w.putSubnet(hs(9, { nodeAddress: undefined }));
    w.putNode(node(9, '198.18.7.7'));
    expect(await w.step()).toBe(0);
    expect(w.delta.kernel.get('10.64.9.0/24')).toMatchObject({ via: '198.18.7.7' });
  });

  it('says a peer that joins with part of its subnet routed elsewhere conflicts, as the full pass does', async () => {
    const w = await world(20);
    // an admin's /25 already there for the subnet host-22 will have (a foreign route, left alone)
    const foreign: Route = { dst: '10.64.22.0/25', via: '198.18.0.1', proto: 'static' };
    for (const h of [w.delta, w.full]) h.kernel.set(foreign.dst, foreign);
    w.putNode(node(22));
    w.putSubnet(hs(22));
    await w.step();
    expect(w.delta.ctx.routeProblems.map((p) => p.reason)).toEqual(['RouteConflict']);
    expect(w.delta.kernel.get('10.64.22.0/25')).toEqual(foreign);
  });

  it('leaves to the full pass a problem, two peers on one destination, new local addresses, a failed pass and a resync', async () => {
    const w = await world(50);
    w.putSubnet(hs(60, { subnet: 'not-a-cidr' }));
    expect(await w.step()).toBe(1);
    expect(w.delta.ctx.routeProblems).toHaveLength(1);
    w.deleteSubnet('default-host-60');
    expect(await w.step()).toBe(1); // the last full pass reported a problem: nothing is remembered
    expect(w.delta.ctx.routeProblems).toEqual([]);
    w.putSubnet({ ...hs(61), status: { subnet: '10.64.5.0/24', nodeAddress: addr(61) } });
    expect(await w.step()).toBe(1);
    w.deleteSubnet('default-host-61');
    expect(await w.step()).toBe(1);
    w.putSubnet(hs(62));
    expect(await w.step()).toBe(0);
    for (const h of [w.delta, w.full]) h.connected = { ...h.connected, prefsrc: '198.18.200.200' };
    w.putSubnet(hs(63));
    expect(await w.step()).toBe(1);
    w.delta.failNext = w.full.failNext = true;
    w.putSubnet(hs(64));
    expect(await w.step()).toBe(0);
    expect(w.delta.kernel.has('10.64.64.0/24')).toBe(false);
    expect(await w.step()).toBe(1); // after a failed pass: every peer
    expect(w.delta.kernel.has('10.64.64.0/24')).toBe(true);
    w.tell(undefined); // a resync, a kernel route event, this host's own Node
    expect(await w.step()).toBe(1);
  });

  it('looks at every peer when a ClusterNetwork changes, and decides nothing before the ClusterNetworks are listed', async () => {
    const w = await world(20);
    const wide = w.clusterNetworks.get('default')!;
    const narrowed: ClusterNetwork = { ...wide, spec: { ...wide.spec, cidr: '10.64.0.0/20' } };
    w.clusterNetworks.set('default', narrowed);
    w.tell(routePeers(narrowed, 'host-0', w.index));
    expect(await w.step()).toBe(1);
    expect([...w.delta.kernel.keys()].sort()).toEqual(Array.from({ length: 15 }, (_, i) => `10.64.${i + 1}.0/24`).sort());
    expect(w.delta.ctx.routeProblems.map((p) => p.message)).toEqual(Array.from({ length: 5 }, (_, i) => expect.stringContaining(`default-host-${16 + i}: no route for 10.64.${16 + i}.0/24`)));
    // an agent whose ClusterNetworks are not listed yet would see every peer's as deleted
    w.delta.clusterNetworksListed = false;
    w.clusterNetworks.clear();
    w.tell(undefined);
    const before = [...w.delta.kernel.keys()];
    await w.delta.pass();
    expect([...w.delta.kernel.keys()]).toEqual(before);
  });

  it('walks every peer once more than MAX_DELTA_PEERS changed', async () => {
    const w = await world(100);
    for (let i = 0; i <= MAX_DELTA_PEERS; i++) w.putSubnet(hs(1 + i, { nodeAddress: addr(200 + i) }));
    expect(await w.step()).toBe(1);
    for (let i = 0; i < MAX_DELTA_PEERS; i++) w.putSubnet(hs(1 + i, { nodeAddress: addr(1 + i) }));
    expect(await w.step()).toBe(0);
  });
});

describe('routePeers', () => {
  it("names a peer's HostSubnet, a peer Node's HostSubnets, and nothing (every peer) for this host's own", () => {
    const index = new HostSubnetNodes();
    index.add(hs(2));
    index.add({ ...hs(2), metadata: { name: 'other-host-2' } });
    expect(routePeers(hs(3), 'host-0', index)).toEqual(['default-host-3']);
    expect(routePeers(node(2), 'host-0', index)!.sort()).toEqual(['default-host-2', 'other-host-2']);
    expect(routePeers(node(4), 'host-0', index)).toEqual([]);
    expect(routePeers(node(0), 'host-0', index)).toBeUndefined();
    expect(routePeers(hs(0), 'host-0', index)).toBeUndefined();
    expect(routePeers(hs(5), 'host-0', index, hs(0))).toBeUndefined();
  });
});
