// A hollow node's host (kubemark's idea): the agent's dataplane with no kernel and no Docker
// behind it. Routes the agent plans are kept as if the kernel had them (so the next pass sees
// them in place and plans nothing), every other op is counted and dropped; containers never
// exist (a NIC's status says so), Docker has no networks and its event stream never fails.
import type { AgentDataplane } from '../../pkg/agent/dataplane.js';
import type { Underlay } from '../../pkg/agent/node.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import type { ContainerState } from '../../pkg/agent/planner/nic.js';
import type { ObservedNat } from '../../pkg/agent/planner/nat.js';
import type { HostState, HostUse } from '../../pkg/netlink/ip.js';
import type { Route } from '../../pkg/netlink/types.js';
import { XNET_RT_PROTO } from '../../pkg/netlink/types.js';
import type { NetTarget } from '../../pkg/netlink/target.js';
import { UNDERLAY_CIDR } from './config.js';

export class HollowDataplane implements AgentDataplane {
  /** never used to start a process: hollow agents run with kernel events off and no IPAM plugin */
  readonly target: NetTarget = { kind: 'netns', name: 'hollow' };
  private readonly routes = new Map<string, Route>();
  /** ops the agent asked for, of every kind */
  opsExecuted = 0;
  /** told of each route the agent puts in place */
  onRoute?: (r: { dst: string; via?: string }) => void;
  /** told each time the agent reads the routes (its routes reconcile starts with that) */
  onRoutesRead?: () => void;

  constructor(readonly address: string) {}

  readonly ip = {
    routes: async (): Promise<Route[]> => { this.onRoutesRead?.(); return [this.connected(), ...this.routes.values()]; },
    links: async () => [],
    addrs: async () => [],
    linksAndAddrs: async () => ({ links: [], addrs: [] }),
  };

  readonly docker = {
    events: (_on: unknown, h: { onConnect?: () => void } = {}) => {
      const t = setTimeout(() => h.onConnect?.(), 0);
      return { close: () => clearTimeout(t) };
    },
    inspectContainer: async () => undefined,
    runningContainers: async () => [],
    networkEndpoints: async () => undefined,
    staticAddressesOn: async () => [],
    staticHoldersOn: async () => [],
    reconnect: async () => undefined,
    listNetworks: async () => [],
    ping: async () => undefined,
  } as unknown as AgentDataplane['docker'];

  private connected(): Route {
    return { dst: UNDERLAY_CIDR, dev: 'eth0', proto: 'kernel', scope: 'link', prefsrc: this.address };
  }

  async underlay(): Promise<Underlay> { return { interface: 'eth0', address: this.address }; }
  async pinNetns(): Promise<never> { throw new Error('a hollow host has no containers to pin'); }
  async inHostNetns(): Promise<boolean> { return false; }
  async capabilities(): Promise<Record<string, boolean>> { return {}; }
  async hostState(): Promise<HostState> { return { links: [], addrs: [], routes: [this.connected(), ...this.routes.values()] }; }
  /** the same host: no addresses, its routes are all in the main table, and it has no policy rules */
  async hostUse(): Promise<HostUse> { const { addrs, routes } = await this.hostState(); return { addrs, routes, rules: [] }; }
  async containerState(): Promise<ContainerState> { return { links: [], addrs: [], routes: [] }; }
  async containerLinks(): Promise<ContainerState['links']> { return []; }
  async containerRoutes(): Promise<ContainerState['routes']> { return []; }
  async natState(): Promise<ObservedNat> { return { nat: { chains: [], rules: {} }, filter: { chains: [], rules: {} }, ipForward: '1', dockerNetworks: [] }; }
  async dockerNetworks(): Promise<never[]> { return []; }

  async execute(ops: Op[]): Promise<void> {
    this.opsExecuted += ops.length;
    for (const o of ops) {
      if (o.op === 'route.replace' && !o.netns) {
        this.routes.set(o.dst, { dst: o.dst, via: o.via, dev: o.dev, proto: String(XNET_RT_PROTO) });
        this.onRoute?.(o);
      } else if (o.op === 'route.del' && !o.netns) this.routes.delete(o.dst);
    }
  }
}
