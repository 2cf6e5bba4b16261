// One HostSubnet's Docker bridge network, made or fixed, and its outcome in the HostSubnet's status.
import type { HostSubnet } from '../../api/index.js';
import { OWNER_LABEL, DockerError, type DockerNetwork, type DockerNetworkSpec } from '../../docker/types.js';
import { notReady, ready, type AgentContext } from '../context.js';
import { planDockerNetworks } from '../planner/docker-networks.js';
import { ApplyError } from '../dataplane.js';
import { nicKey } from '../events.js';
import { localNics } from './nics.js';
import { bridgeAlias } from '../planner/names.js';
import type { Op, Plan } from '../planner/ops.js';
import { gatewayCidr, planBridgeState } from '../planner/bridge.js';
import type { Addr, Link } from '../../netlink/types.js';

export const BRIDGE_OPTION = 'com.docker.network.bridge.name';

/** What the host has: xnet's bridge networks (and those named as wanted), links, IPv4 addresses. */
export interface ObservedHost { owned: DockerNetwork[]; links: Link[]; addrs: Addr[] }

/**
 * Makes or fixes one HostSubnet's network and reports the outcome in its status. The bridge of
 * a network in place is marked as this HostSubnet's (NICs attach only to a marked bridge): one
 * Docker made just now, or one Docker made before the mark existed.
 */
export async function applyNetwork(ctx: AgentContext, hs: HostSubnet, spec: DockerNetworkSpec, host: ObservedHost): Promise<void> {
  const { plan, ops, marking } = networkOps(hs, spec, host);
  try {
    if (ops.some((o) => o.op === 'docker.network.create') && !ctx.status.hasReport('HostSubnet', hs)) await reportMaking(ctx, hs, spec);
    if (ops.length) {
      ctx.log.info('host subnet network', { hostSubnet: hs.metadata.name, ops: ops.map((o) => o.op) });
      await executeDockerOwned(ctx, ops);
    }
    // its NICs waited for the mark (BridgeNotReady): they go onto the bridge now
    if (marking) ctx.enqueue?.(localNics(ctx).filter((n) => n.spec.network.clusterNetwork === hs.spec.clusterNetwork).map((n) => nicKey(n.metadata.name)));
    const p = plan.problems[0];
    await ctx.status.write('HostSubnet', hs, {}, p ? notReady(p.reason, p.message)
      : ready(`Docker network ${spec.name} on bridge ${spec.options[BRIDGE_OPTION]} is in place`));
  } catch (e) {
    const reason = e instanceof DockerError || e instanceof ApplyError ? e.reason : 'Failed';
    await ctx.status.write('HostSubnet', hs, {}, notReady(reason, (e as Error).message));
    throw e;
  }
}

/**
 * Runs ops that may make or remove Docker networks: Docker rewrites its iptables rules for them
 * (a MASQUERADE above xnet's jump), and the NAT pass that puts xnet's jump back on top is the
 * follow-up of xnet's own act, not a heal. Said before (a NAT pass may run while Docker works)
 * and after (Docker's rules may land after a pass that used the first).
 */
export async function executeDockerOwned(ctx: AgentContext, ops: Op[]): Promise<void> {
  const docker = ops.some((o) => o.op === 'docker.network.create' || o.op === 'docker.network.remove');
  if (docker) ctx.ownNatChange?.();
  await ctx.dp.execute(ops);
  if (docker) ctx.ownNatChange?.();
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

/**
 * The Docker ops of the network, the bridge's mark, and for a network in place as declared,
 * its bridge's own state (up, with the gateway): Docker set it when it made the bridge and
 * never looks again. A network Docker makes now gets its bridge from Docker.
 */
function networkOps(hs: HostSubnet, spec: DockerNetworkSpec, host: ObservedHost): { plan: Plan; ops: Op[]; marking: boolean } {
  const plan = planDockerNetworks([spec], host.owned.filter((n) => n.name === spec.name), 'HostSubnet');
  const bridge = spec.options[BRIDGE_OPTION];
  const link = host.links.find((l) => l.name === bridge);
  const mark = bridgeAlias(hs.metadata.name);
  const ops: Op[] = [...plan.ops];
  // xnet's own network on this bridge, also one waiting for its containers to leave (NetworkInUse):
  // its NICs stay converged and its bridge is marked
  const ours = !plan.problems.length || host.owned.some((n) => n.labels[OWNER_LABEL] === `HostSubnet/${hs.metadata.name}` && n.options[BRIDGE_OPTION] === bridge);
  const marking = ours && (plan.ops.length > 0 || link?.alias !== mark);
  if (marking) ops.push({ op: 'link.set.alias', name: bridge, alias: mark });
  const gateway = spec.gateway && gatewayCidr(spec.gateway, spec.subnet);
  if (!plan.ops.length && !plan.problems.length) ops.push(...planBridgeState(link, host.addrs, gateway));
  return { plan, ops, marking };
}
