// Keeps the record of the Docker networks this node made for its HostSubnets and MacvlanNets
// (network-record.ts) up to date from each pass, and names in the log, once per agent run, each
// network labelled for such an object that this node no longer serves under it and that the
// record does not hold: it stays.
import { OWNER_LABEL, type DockerNetwork, type DockerNetworkSpec } from '../../docker/types.js';
import type { AgentContext } from '../context.js';
import { holderOf, type OwnerKind } from '../planner/owner.js';

/**
 * Records each `kind` object's network of this node found in place (its name, its label, the
 * kind's driver: owner.ts holderOf), and forgets what is no longer on the host (`observed`:
 * every network Docker has that carries a label or a wanted name, so every recorded one that is
 * still there: dataplane.ts dockerNetworks; read after `readAt`, the record's now(): one another
 * pass recorded since stays).
 */
export function noteInPlace(ctx: AgentContext, specs: Iterable<DockerNetworkSpec>, observed: DockerNetwork[], kind: OwnerKind, readAt: number | undefined): void {
  if (!ctx.networks) return;
  const add = new Map<string, string>();
  for (const spec of specs) {
    const have = observed.find((n) => n.name === spec.name);
    if (have && holderOf(spec, have, kind) === 'own') add.set(have.id, have.labels[OWNER_LABEL]);
  }
  ctx.networks.update(add, new Set(observed.map((n) => n.id)), readAt);
}

/**
 * Records the network Docker has just made for the `kind` object `name` (asked by name: the
 * create returns no more to the pass), also after a batch that failed past the create, or a
 * create whose answer was lost: Docker may have made it. A failure is logged: the next pass
 * finds the network in place and records it.
 */
export async function noteMade(ctx: AgentContext, kind: OwnerKind, name: string, spec: DockerNetworkSpec): Promise<void> {
  if (!ctx.networks) return;
  try {
    const have = await ctx.dp.docker.inspectNetwork(spec.name);
    if (have && holderOf(spec, have, kind) === 'own') ctx.networks.update(new Map([[have.id, have.labels[OWNER_LABEL]]]));
  } catch (e) {
    ctx.log.warn('could not ask Docker for the network it was to make, to record it; the next pass that finds it in place records it', { [kind === 'HostSubnet' ? 'hostSubnet' : 'macvlanNet']: name, network: spec.name, error: (e as Error).message });
  }
}

/** How tellUnproven says why a network of each kind is no longer served here. */
const GONE: Record<OwnerKind, string> = {
  HostSubnet: 'a HostSubnet no longer on this node',
  MacvlanNet: 'a MacvlanNet that has no network of that name on this node',
};

/**
 * Networks labelled for a `kind` object this node no longer serves under them that the record
 * does not hold: a user's so labelled, or xnet's own whose record was lost (deleted state
 * directory, an agent before the record, an object deleted in the moment after Docker made its
 * network). Each stays, and is named once per agent run. `renamed`: the name of the network its
 * object has here now, when it is still served here under another name (a renamed
 * `dockerNetwork`): not said to be gone.
 */
export function tellUnproven(ctx: AgentContext, unproven: DockerNetwork[], kind: OwnerKind, renamed?: (n: DockerNetwork) => string | undefined): void {
  for (const n of unproven) {
    if (ctx.networks && !ctx.networks.firstMention(n.id)) continue;
    const now = renamed?.(n);
    const why = now === undefined ? GONE[kind] : `a ${kind} of this node whose network is named ${now} now`;
    ctx.log.warn(`Docker network ${n.name} is labelled ${OWNER_LABEL}=${n.labels[OWNER_LABEL]}, ${why}, but this node has no record of making it: it stays. `
      + `If xnet made it, remove it by hand (docker network rm ${n.name})`, { network: n.name, id: n.id });
  }
}
