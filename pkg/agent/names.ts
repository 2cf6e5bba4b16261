// The agent's own check of the names its node's objects want (see ../api/names.ts): a bridge
// two HostSubnets of this node want, or a Docker network name two ClusterNetworks or
// MacvlanNets present here want, goes to the older object; the younger is not acted on and
// reports why. The controller already derives distinct names; this is the guard against
// objects written behind its back.
import type { ClusterNetwork, HostSubnet, MacvlanNet } from '../api/index.js';
import { dockerNetworkOf } from '../api/docker-network.js';
import { nameLosers, olderFirst, type NameClaim } from '../api/names.js';
import type { Problem } from './planner/ops.js';
import { hostSubnetView, isDeleting, selects } from './desired.js';
import type { AgentContext } from './context.js';

type Owner = HostSubnet | ClusterNetwork | MacvlanNet;

/** Problems keyed `HostSubnet/<name>` or `MacvlanNet/<name>`. */
export function localNameProblems(hostSubnets: HostSubnet[], cns: Map<string, ClusterNetwork>, mvns: MacvlanNet[]): Map<string, Problem> {
  const out = new Map<string, Problem>();
  const bridges: NameClaim<Owner>[] = [];
  const networks: Array<NameClaim<Owner> & { who: string[] }> = [];
  for (const hs of hostSubnets) {
    const bridge = hostSubnetView(hs).bridge;
    if (bridge) bridges.push({ name: bridge, owner: hs, explicit: hs.spec.bridge !== undefined, label: `HostSubnet "${hs.metadata.name}"` });
    const cn = cns.get(hs.spec.clusterNetwork);
    if (cn) networks.push({ name: dockerNetworkOf(cn), owner: cn, label: `ClusterNetwork "${cn.metadata.name}"`, who: [`HostSubnet/${hs.metadata.name}`] });
  }
  for (const m of mvns) networks.push({ name: dockerNetworkOf(m), owner: m, label: `MacvlanNet "${m.metadata.name}"`, who: [`MacvlanNet/${m.metadata.name}`] });
  for (const [lost, holder] of secondHostSubnets(hostSubnets)) {
    const net = cns.get(lost.spec.clusterNetwork);
    out.set(`HostSubnet/${lost.metadata.name}`, { reason: 'DockerNetworkConflict', message: `Docker network ${net ? dockerNetworkOf(net) : ''} of ClusterNetwork "${lost.spec.clusterNetwork}" is already HostSubnet "${holder.metadata.name}"'s on this node (one HostSubnet per node and ClusterNetwork)` });
  }
  for (const [lost, holder] of nameLosers(bridges)) {
    out.set(`HostSubnet/${lost.owner.metadata.name}`, { reason: 'BridgeConflict', message: `bridge ${lost.name} is already used on this node by ${holder.label}` });
  }
  for (const [lost, holder] of nameLosers<Owner>(networks)) {
    for (const w of (lost as typeof networks[number]).who) {
      out.set(w, { reason: 'DockerNetworkConflict', message: `Docker network ${lost.name} is already used on this node by ${holder.label}; set spec.dockerNetwork to another name` });
    }
  }
  return out;
}

/**
 * HostSubnets of this node on a ClusterNetwork that already has an older one here (written
 * around xctl, which refuses them): the ClusterNetwork's one Docker network is the older one's.
 */
function secondHostSubnets(hostSubnets: HostSubnet[]): Map<HostSubnet, HostSubnet> {
  const out = new Map<HostSubnet, HostSubnet>();
  const byNetwork = new Map<string, HostSubnet[]>();
  for (const h of hostSubnets) byNetwork.set(h.spec.clusterNetwork, [...(byNetwork.get(h.spec.clusterNetwork) ?? []), h]);
  for (const group of byNetwork.values()) {
    const [first, ...rest] = [...group].sort(olderFirst);
    for (const h of rest) out.set(h, first);
  }
  return out;
}

/** localNameProblems over this node's HostSubnets and the MacvlanNets that select it. */
export function nodeNameProblems(ctx: AgentContext): Map<string, Problem> {
  const self = ctx.caches.nodes.get(ctx.node);
  // one being deleted is still this node's (reconcilers/host-subnets.ts localHostSubnets)
  const hostSubnets = ctx.caches.hostSubnets.list().filter((h) => h.spec.node === ctx.node);
  const mvns = ctx.caches.macvlanNets.list().filter((m) => !isDeleting(m) && selects(m.spec.nodeSelector, self));
  return localNameProblems(hostSubnets, new Map(ctx.caches.clusterNetworks.list().map((c) => [c.metadata.name, c])), mvns);
}
