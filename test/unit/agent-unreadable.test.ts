// Unreadable is not absent (docs/security.md): an agent that starts while an object's key does
// not decode has no last good value of it, and must not take its absence for a delete. Its
// garbage passes leave alone what the unreadable objects have on the host: a NIC's host end
// (and with it the container's end), a HostSubnet's Docker network, a MacvlanNet's shim, the
// parents, peer routes, xnet's iptables chains. The same passes with the object truly gone remove them.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type Kind, type Node } from '../../pkg/api/index.js';
import type { AgentContext } from '../../pkg/agent/context.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import { nicAlias, shimAlias, shimName, vethHostName } from '../../pkg/agent/planner/names.js';
import { MacWaits } from '../../pkg/agent/mac-wait.js';
import { collectNicGarbage, reconcileNic } from '../../pkg/agent/reconcilers/nics.js';
import { reconcileHostSubnets } from '../../pkg/agent/reconcilers/host-subnets.js';
import { reconcileMacvlan } from '../../pkg/agent/reconcilers/macvlan.js';
import { recordedUnused } from '../../pkg/agent/reconcilers/parents.js';
import { reconcileRoutes } from '../../pkg/agent/reconcilers/routes.js';
import { reconcileNat } from '../../pkg/agent/reconcilers/nat.js';
import { FWD_CHAIN, NAT_CHAIN } from '../../pkg/agent/planner/nat.js';
import { OWNER_LABEL, type DockerNetwork } from '../../pkg/docker/types.js';
import { XNET_RT_PROTO, type Link, type Route } from '../../pkg/netlink/types.js';

const link = (name: string, alias: string, kind = 'veth'): Link => ({ ifindex: 1, name, kind, alias, mac: '02:00:00:00:00:01', mtu: 1500, up: true, promisc: false });
const network = (name: string, owner: string): DockerNetwork => ({
  id: name, name, driver: 'bridge', subnet: '10.76.9.0/24', containers: 0,
  labels: { [OWNER_LABEL]: owner }, options: { 'com.docker.network.bridge.name': `br-${name}` },
});
const self: Node = { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'host-1' }, spec: {} };

interface World { unreadable?: Partial<Record<Kind, string[]>>; links?: Link[]; networks?: DockerNetwork[]; routes?: Route[] }

/** An agent's context on a host that has `links`, Docker `networks` and `routes`, and no object in its caches but its Node. */
function agentOn(w: World) {
  const executed: Op[] = [];
  const statusRemoved: string[] = [];
  const empty = { get: () => undefined, list: () => [], hasSynced: () => true };
  const ctx = {
    node: 'host-1', routeProblems: [], removedNics: new Map(), macWaits: new MacWaits(),
    log: { info: () => undefined, warn: () => undefined, debug: () => undefined },
    caches: { nics: empty, hostSubnets: empty, macvlanNets: empty, clusterNetworks: empty, nodes: { get: (n: string) => (n === 'host-1' ? self : undefined), list: () => [self] } },
    unreadable: (k: Kind) => w.unreadable?.[k] ?? [],
    status: { remove: async (kind: Kind, name: string) => { statusRemoved.push(`${kind}/${name}`); }, write: async () => undefined },
    parents: { entries: () => ({ eth9: { promisc: true } }), serial: <T>(f: () => Promise<T>) => f(), forget: () => undefined },
    // this node made every Docker network on the host (its record, network-record.ts, says so)
    networks: { made: () => new Map((w.networks ?? []).map((n) => [n.id, n.labels[OWNER_LABEL]])), update: () => undefined, firstMention: () => false, now: () => 0 },
    unwatchNic: async () => undefined,
    dp: {
      hostState: async () => ({ links: w.links ?? [], addrs: [], routes: [] }),
      ip: { links: async () => w.links ?? [], addrs: async () => [], linksAndAddrs: async () => ({ links: w.links ?? [], addrs: [] }), routes: async () => w.routes ?? [] },
      dockerNetworks: async () => w.networks ?? [],
      natState: async () => ({
        nat: { chains: ['POSTROUTING', NAT_CHAIN], rules: { POSTROUTING: [`-j ${NAT_CHAIN}`], [NAT_CHAIN]: [] } },
        filter: { chains: ['FORWARD', FWD_CHAIN], rules: { FORWARD: [`-j ${FWD_CHAIN}`], [FWD_CHAIN]: [] } },
        ipForward: '1', dockerNetworks: [],
      }),
      docker: { inspectContainer: async () => undefined, runningContainers: async () => [] },
      execute: async (ops: Op[]) => { executed.push(...ops); },
    },
  } as unknown as AgentContext;
  return { ctx, executed, statusRemoved };
}

describe('an agent with keys that do not decode and no last good value of them', () => {
  const ends = [link(vethHostName('kept'), nicAlias('kept')), link(vethHostName('gone'), nicAlias('gone'))];

  it("keeps an unreadable NIC's host end in the garbage pass, and deletes a gone NIC's", async () => {
    const a = agentOn({ unreadable: { ContainerNic: ['kept'] }, links: ends });
    await collectNicGarbage(a.ctx);
    expect(a.executed).toEqual([{ op: 'link.del', name: vethHostName('gone') }]);
  });

  it('leaves an unreadable NIC and its status key alone when it is reconciled', async () => {
    const a = agentOn({ unreadable: { ContainerNic: ['kept'] }, links: ends });
    await reconcileNic(a.ctx, 'kept');
    expect(a.executed).toEqual([]);
    expect(a.statusRemoved).toEqual([]);
    await reconcileNic(a.ctx, 'gone');
    expect(a.executed).toEqual([{ op: 'link.del', name: vethHostName('gone') }]);
    expect(a.statusRemoved).toEqual(['ContainerNic/gone']);
  });

  it("keeps an unreadable HostSubnet's Docker network, and removes a gone one's", async () => {
    const a = agentOn({ unreadable: { HostSubnet: ['hs-kept'] }, networks: [network('kept', 'HostSubnet/hs-kept'), network('gone', 'HostSubnet/hs-gone')] });
    await reconcileHostSubnets(a.ctx);
    expect(a.executed).toEqual([{ op: 'docker.network.remove', name: 'gone', id: 'gone' }]);
  });

  it("keeps an unreadable MacvlanNet's shim, also when this Node's key is the unreadable one", async () => {
    const shims = [link(shimName('mvn'), shimAlias('mvn'), 'macvlan')];
    for (const unreadable of [{ MacvlanNet: ['mvn'] }, { Node: ['host-1'] }]) {
      const a = agentOn({ unreadable, links: shims });
      await reconcileMacvlan(a.ctx, 'mvn');
      expect(a.executed).toEqual([]);
      expect(a.statusRemoved).toEqual([]);
    }
    const a = agentOn({ links: shims });
    await reconcileMacvlan(a.ctx, 'mvn');
    expect(a.executed).toEqual([{ op: 'link.del', name: shimName('mvn') }]);
  });

  it('releases no parent while a MacvlanNet or this Node does not decode', () => {
    expect(recordedUnused(agentOn({}).ctx)).toBe(true);
    expect(recordedUnused(agentOn({ unreadable: { MacvlanNet: ['mvn'] } }).ctx)).toBe(false);
    expect(recordedUnused(agentOn({ unreadable: { Node: ['host-1'] } }).ctx)).toBe(false);
  });

  it('deletes no peer route while a HostSubnet does not decode', async () => {
    const routes: Route[] = [{ dst: '10.76.9.0/24', via: '198.18.0.19', proto: String(XNET_RT_PROTO) }];
    const a = agentOn({ unreadable: { HostSubnet: ['default-host-9'] }, routes });
    await reconcileRoutes(a.ctx);
    expect(a.executed).toEqual([]);
    const b = agentOn({ routes });
    await reconcileRoutes(b.ctx);
    expect(b.executed).toMatchObject([{ op: 'route.del', dst: '10.76.9.0/24' }]);
  });

  it("keeps xnet's chains and jumps while a ClusterNetwork or HostSubnet does not decode, and takes them off once none needs them", async () => {
    for (const unreadable of [{ ClusterNetwork: ['default'] }, { HostSubnet: ['default-host-1'] }]) {
      const a = agentOn({ unreadable });
      await reconcileNat(a.ctx);
      expect(a.executed, JSON.stringify(unreadable)).toEqual([]);
    }
    const b = agentOn({});
    await reconcileNat(b.ctx);
    expect(b.executed).toEqual([
      { op: 'iptables.restore', table: 'nat', lines: [`-D POSTROUTING -j ${NAT_CHAIN}`, `:${NAT_CHAIN} - [0:0]`, `-X ${NAT_CHAIN}`] },
      { op: 'iptables.restore', table: 'filter', lines: [`-D FORWARD -j ${FWD_CHAIN}`, `:${FWD_CHAIN} - [0:0]`, `-X ${FWD_CHAIN}`] },
    ]);
  });
});
