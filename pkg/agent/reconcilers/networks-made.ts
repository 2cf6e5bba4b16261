// Keeps the record of the Docker networks this node made for its HostSubnets (network-record.ts)
// up to date from each HostSubnets pass, and names in the log, once per agent run, each network
// labelled for a HostSubnet gone from this node that the record does not hold: it stays.
import type { HostSubnet } from '../../api/index.js';
import { OWNER_LABEL, type DockerNetwork, type DockerNetworkSpec } from '../../docker/types.js';
import type { AgentContext } from '../context.js';
import { holderOf } from '../planner/owner.js';

/**
 * Records each HostSubnet's network of this node found in place (its name, its label, a bridge:
 * owner.ts holderOf), and forgets what is no longer on the host (`observed`: every network
 * Docker has that carries a label or a wanted name, so every recorded one that is still there).
 */
export function noteInPlace(ctx: AgentContext, specs: Map<string, DockerNetworkSpec>, observed: DockerNetwork[]): void {
  if (!ctx.networks) return;
  const add = new Map<string, string>();
  for (const spec of specs.values()) {
    const have = observed.find((n) => n.name === spec.name);
    if (have && holderOf(spec, have, 'HostSubnet') === 'own') add.set(have.id, have.labels[OWNER_LABEL]);
  }
  ctx.networks.update(add, new Set(observed.map((n) => n.id)));
}

/**
 * Records the network Docker has just made for `hs` (asked by name: the create returns no more
 * to the pass), also after a batch that failed past the create, or a create whose answer was
 * lost: Docker may have made it. A failure is logged: the next pass finds the network in place
 * and records it.
 */
export async function noteMade(ctx: AgentContext, hs: HostSubnet, spec: DockerNetworkSpec): Promise<void> {
  if (!ctx.networks) return;
  try {
    const have = await ctx.dp.docker.inspectNetwork(spec.name);
    if (have && holderOf(spec, have, 'HostSubnet') === 'own') ctx.networks.update(new Map([[have.id, have.labels[OWNER_LABEL]]]));
  } catch (e) {
    ctx.log.warn('could not ask Docker for the network it was to make, to record it; the next pass that finds it in place records it', { hostSubnet: hs.metadata.name, network: spec.name, error: (e as Error).message });
  }
}

/**
 * Networks labelled for a HostSubnet gone from this node that the record does not hold: a
 * user's so labelled, or xnet's own whose record was lost (deleted state directory, an agent
 * before the record, a HostSubnet deleted in the moment after Docker made its network). Each
 * stays, and is named once per agent run.
 */
export function tellUnproven(ctx: AgentContext, unproven: DockerNetwork[]): void {
  for (const n of unproven) {
    if (ctx.networks && !ctx.networks.firstMention(n.id)) continue;
    ctx.log.warn(`Docker network ${n.name} is labelled ${OWNER_LABEL}=${n.labels[OWNER_LABEL]}, a HostSubnet no longer on this node, but this node has no record of making it: it stays. `
      + `If xnet made it, remove it by hand (docker network rm ${n.name})`, { network: n.name, id: n.id });
  }
}
