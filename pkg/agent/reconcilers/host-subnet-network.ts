// One HostSubnet's Docker bridge network, made or fixed, and its outcome in the HostSubnet's status.
import type { HostSubnet } from '../../api/index.js';
import { OWNER_LABEL, DockerError, type DockerNetwork, type DockerNetworkSpec } from '../../docker/types.js';
import { notReady, ready, type AgentContext } from '../context.js';
import { planDockerNetworks } from '../planner/docker-networks.js';
import { ApplyError, type Executed } from '../dataplane.js';
import { nicKey } from '../events.js';
import { localNics } from './nics.js';
import { bridgeAlias } from '../planner/names.js';
import type { Op, Plan } from '../planner/ops.js';
import { bridgeMac, gatewayCidr, planBridgeRemake, planBridgeRename, planBridgeResume, planBridgeState, type BridgeRemake } from '../planner/bridge.js';
import { DEFAULT_CLUSTER_MTU } from '../desired.js';
import { orphanedEndpointPorts } from './host-subnet-ports.js';
import { noteMade } from './networks-made.js';
import { dockerHeldFields, keptDockerHeld } from './host-subnet-docker-held.js';
import type { Addr, Link } from '../../netlink/types.js';

export const BRIDGE_OPTION = 'com.docker.network.bridge.name';
const MTU_OPTION = 'com.docker.network.driver.mtu';

/** What the host has: xnet's bridge networks (and those named as wanted), links, IPv4 addresses. */
/**
 * `named`: every network under a name a HostSubnet here wants, of any driver or label.
 * `removed`: networks of gone HostSubnets removed in this pass, after `owned` was read.
 */
export interface ObservedHost { owned: DockerNetwork[]; named: DockerNetwork[]; links: Link[]; addrs: Addr[]; removed?: Set<string> }

/**
 * Makes or fixes one HostSubnet's network and reports the outcome in its status. The bridge of
 * a network in place is marked as this HostSubnet's (NICs attach only to a marked bridge): one
 * Docker made just now, or one Docker made before the mark existed.
 */
export async function applyNetwork(ctx: AgentContext, hs: HostSubnet, spec: DockerNetworkSpec, host: ObservedHost): Promise<void> {
  try {
    const gone = bridgeGone(hs, spec, host);
    // a bridge renamed by hand still has its ports
    const ports = gone && !gone.renamed ? await orphanedEndpointPorts(ctx, gone.network.id, host.links, gone.link?.name) : [];
    const { plan, ops, marking } = networkOps(hs, spec, host, gone && { ...gone, ports });
    if (ops.some((o) => o.op === 'docker.network.create') && !ctx.status.hasReport('HostSubnet', hs)) await reportMaking(ctx, hs, spec);
    if (ops.length) {
      ctx.log.info('host subnet network', { hostSubnet: hs.metadata.name, ops: ops.map((o) => o.op) });
      // the evidence that this node made it, should its HostSubnet go before a pass finds it in
      // place: also when a later op of the batch (the bridge's mark) or Docker's answer failed
      const making = ops.some((o) => o.op === 'docker.network.create');
      try { await executeDockerOwned(ctx, ops); } finally { if (making) await noteMade(ctx, 'HostSubnet', hs.metadata.name, spec); }
    }
    // its NICs waited for the mark (BridgeNotReady): they go onto the bridge now
    if (marking) ctx.enqueue?.(localNics(ctx).filter((n) => n.spec.network.clusterNetwork === hs.spec.clusterNetwork).map((n) => nicKey(n.metadata.name)));
    const p = plan.problems[0];
    // the addresses Docker's containers hold in xnet's part: only on xnet's own network; and the
    // subnet of the network in place, which lets the block it had before an edit go (api/hostsubnet-report.ts)
    const fields = p ? {} : { ...await dockerHeldFields(ctx, hs, spec), networkSubnet: spec.subnet };
    await ctx.status.write('HostSubnet', hs, fields, p ? notReady(p.reason, p.message)
      : ready(`Docker network ${spec.name} on bridge ${spec.options[BRIDGE_OPTION]} is in place`));
  } catch (e) {
    const reason = e instanceof DockerError || e instanceof ApplyError ? e.reason : 'Failed';
    // the containers' addresses were not read: what was reported stays
    await ctx.status.write('HostSubnet', hs, keptDockerHeld(hs), notReady(reason, (e as Error).message));
    throw e;
  }
}

/**
 * Runs ops that may make or remove Docker networks: Docker rewrites its iptables rules for them
 * (a MASQUERADE above xnet's jump), and the NAT pass that puts xnet's jump back on top is the
 * follow-up of xnet's own act, not a heal. Said before (a NAT pass may run while Docker works)
 * and after (Docker's rules may land after a pass that used the first).
 */
export async function executeDockerOwned(ctx: AgentContext, ops: Op[]): Promise<Executed | void> {
  const docker = ops.some((o) => o.op === 'docker.network.create' || o.op === 'docker.network.remove');
  if (docker) ctx.ownNatChange?.();
  const done = await ctx.dp.execute(ops);
  if (docker) ctx.ownNatChange?.();
  return done;
}

/**
 * This node's first report on a HostSubnet, written before Docker is asked to make its network
 * (a network made again, its report already there, keeps its Ready): the report keeps the HostSubnet's
 * block claimed after a delete while xnet's network of it is on the host (host-subnet-reports.ts).
 * Written after, a delete between the two found no report, the block was freed at once, and a
 * container attached meanwhile kept the network, and the subnet, live here while another node
 * could be given it. A HostSubnet already deleted fails this write (NotFound): nothing is made.
 */
async function reportMaking(ctx: AgentContext, hs: HostSubnet, spec: DockerNetworkSpec): Promise<void> {
  await ctx.status.write('HostSubnet', hs, {}, { status: 'Unknown', reason: 'CreatingNetwork', message: `making Docker network ${spec.name} on bridge ${spec.options[BRIDGE_OPTION]}` });
}

// a network of a gone HostSubnet removed under this name (one replaced by another) is made anew
const planOf = (spec: DockerNetworkSpec, host: ObservedHost): Plan => planDockerNetworks([spec], host.named.filter((n) => n.name === spec.name && !host.removed?.has(n.name)), 'HostSubnet');

/**
 * xnet's own network on the HostSubnet's bridge, also one waiting for its containers to leave
 * (NetworkInUse): its NICs stay converged and its bridge is marked.
 */
function isOurs(hs: HostSubnet, spec: DockerNetworkSpec, host: ObservedHost, plan: Plan): boolean {
  const bridge = spec.options[BRIDGE_OPTION];
  return !plan.problems.length || host.owned.some((n) => n.labels[OWNER_LABEL] === `HostSubnet/${hs.metadata.name}` && n.options[BRIDGE_OPTION] === bridge);
}

/**
 * The network Docker still has whose bridge is gone from the kernel (deleted by hand): kernel
 * drift, not a network to make again. Made anew it would be refused while containers are on it
 * (NetworkInUse, and the bridge stayed gone) and strand stopped ones; the bridge itself is made
 * again instead, as that network declares it (also one waiting for its containers to leave).
 * Only under a network labelled as this HostSubnet's: the ports of a network xnet did not make
 * are not xnet's to move. `link`: a bridge xnet made again whose batch stopped before it was
 * up (a port gone meanwhile, the agent stopped): its remaining ports, arp_notify and up follow.
 */
function bridgeGone(hs: HostSubnet, spec: DockerNetworkSpec, host: ObservedHost): { network: DockerNetwork; link?: Link; renamed?: Link } | undefined {
  const bridge = spec.options[BRIDGE_OPTION];
  const have = host.owned.find((n) => n.name === spec.name);
  const plan = planOf(spec, host);
  if (!have || have.driver !== 'bridge' || have.options[BRIDGE_OPTION] !== bridge || !have.gateway) return undefined;
  if (have.labels[OWNER_LABEL] !== `HostSubnet/${hs.metadata.name}`) return undefined;
  if (plan.ops.length || !isOurs(hs, spec, host, plan)) return undefined;
  const link = host.links.find((l) => l.name === bridge);
  if (!link) {
    const renamed = renamedBridge(host.links, bridgeAlias(hs.metadata.name));
    return { network: have, ...(renamed ? { renamed } : {}) };
  }
  const interrupted = link.kind === 'bridge' && !link.up && link.alias === bridgeAlias(hs.metadata.name) && link.mac === bridgeMac(have.gateway);
  return interrupted ? { network: have, link } : undefined;
}

/**
 * The HostSubnet's bridge under another name (`ip link set br01 name brx` by hand): the one
 * bridge that carries its mark. It keeps Docker's ports, the gateway and the subnet's connected
 * route, so a second bridge made beside it would share the gateway and the route with it, and
 * the subnet's traffic would go to one or the other; it gets its name back instead.
 */
function renamedBridge(links: Link[], mark: string): Link | undefined {
  const marked = links.filter((l) => l.kind === 'bridge' && l.alias === mark);
  return marked.length === 1 ? marked[0] : undefined;
}

/**
 * xnet's marked bridge with no Docker network on it, where Docker is to make the network: one
 * xnet made again in the moment a `docker network rm` had deleted the bridge but not yet the
 * network. Deleted first, so that Docker makes its own (its ports went with the network).
 */
function leftoverBridge(plan: Plan, link: Link | undefined, mark: string, host: ObservedHost, bridge: string): Op[] {
  if (!link || link.alias !== mark || !plan.ops.some((o) => o.op === 'docker.network.create')) return [];
  // a network of Docker's still on it (one made again removes its own bridge)
  if (host.owned.some((n) => n.options[BRIDGE_OPTION] === bridge)) return [];
  return [{ op: 'link.del', name: bridge }];
}

/** The MTU Docker gave the bridge of network `have` (its option; Docker's 1500 without it). */
function networkMtu(have: DockerNetwork): number {
  const mtu = Number(have.options[MTU_OPTION] ?? DEFAULT_CLUSTER_MTU);
  return Number.isInteger(mtu) && mtu > 0 ? mtu : DEFAULT_CLUSTER_MTU;
}

/** The bridge of network `have` as Docker made it: its own MTU and gateway, not the spec's. */
function remakeOf(have: DockerNetwork, mark: string, ports: string[]): BridgeRemake {
  return { bridge: have.options[BRIDGE_OPTION], mark, mtu: networkMtu(have), gateway: gatewayCidr(have.gateway!, have.subnet), ports };
}

/**
 * The Docker ops of the network, the bridge's mark, and for a network in place as declared,
 * its bridge's own state (up, with the gateway): Docker set it when it made the bridge and
 * never looks again. A network Docker makes now gets its bridge from Docker; one Docker has
 * whose bridge is gone (`gone`, with its orphaned ports) gets its bridge from xnet.
 */
function networkOps(hs: HostSubnet, spec: DockerNetworkSpec, host: ObservedHost, gone?: { network: DockerNetwork; link?: Link; renamed?: Link; ports: string[] }): { plan: Plan; ops: Op[]; marking: boolean } {
  const plan = planOf(spec, host);
  const bridge = spec.options[BRIDGE_OPTION];
  const link = host.links.find((l) => l.name === bridge);
  const mark = bridgeAlias(hs.metadata.name);
  const have = host.owned.find((n) => n.name === spec.name);
  if (!link && have && !plan.ops.length && !plan.problems.length && have.labels[OWNER_LABEL] !== `HostSubnet/${hs.metadata.name}`) {
    // its bridge is gone and it is not xnet's: neither its bridge nor its containers' ports are made or moved.
    // Only a network as declared: one that differs (another subnet, another bridge) never had
    // this bridge, and the planner's NetworkConflict says how it differs.
    const owner = have.labels[OWNER_LABEL];
    const whose = owner ? `belongs to ${owner} (labelled ${OWNER_LABEL}=${owner})` : `was not made by xnet (not labelled ${OWNER_LABEL}=HostSubnet/${hs.metadata.name})`;
    const problem = { reason: 'NetworkConflict', message: `Docker network ${spec.name} exists and ${whose}, and its bridge ${bridge} is gone; remove or rename it` };
    return { plan: { ops: [], problems: [problem, ...plan.problems] }, ops: [], marking: false };
  }
  const ops: Op[] = [...leftoverBridge(plan, link, mark, host, bridge), ...plan.ops];
  const marking = isOurs(hs, spec, host, plan) && (plan.ops.length > 0 || link?.alias !== mark);
  // a bridge made again is marked in the batch that makes it
  if (gone) {
    if (gone.renamed) ops.push(...planBridgeRename(gone.renamed.name, bridge));
    else ops.push(...(gone.link ? planBridgeResume(remakeOf(gone.network, mark, gone.ports), gone.link, host.addrs) : planBridgeRemake(remakeOf(gone.network, mark, gone.ports))));
    // its NICs go back on once it is done: also after a remake whose batch failed before they were queued
    return { plan, ops, marking: true };
  }
  if (marking) ops.push({ op: 'link.set.alias', name: bridge, alias: mark });
  const gateway = spec.gateway && gatewayCidr(spec.gateway, spec.subnet);
  if (!plan.ops.length && !plan.problems.length) ops.push(...planBridgeState(link, host.addrs, gateway, have && networkMtu(have)));
  return { plan, ops, marking };
}
