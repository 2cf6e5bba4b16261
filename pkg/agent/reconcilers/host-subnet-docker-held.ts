// What this node reports on its HostSubnet of the addresses Docker's containers hold in xnet's
// part of it (status.dockerHeld, api/docker-held.ts): `docker run --ip` (or `network connect
// --ip`) outside the dockerRange, which Docker checks only against its own endpoints. The
// controller gives no ContainerNic such an address, and moves one it gave before the report came
// (controller/hostsubnet-docker-held.ts). Read in each pass over the HostSubnets, which a
// container's connect or disconnect (Docker's events; a `docker stop` disconnects) and destroy
// queue: the network's endpoints (running containers) and the static addresses of the containers
// that reference it, stopped ones included (they get their --ip address back at their next start).
import type { HostSubnet } from '../../api/index.js';
import { dockerHeldIn, xnetPart } from '../../api/docker-held.js';
import type { DockerNetworkSpec } from '../../docker/types.js';
import { formatIPv4 } from '../../ip/ipv4.js';
import type { AgentContext } from '../context.js';

/**
 * The report's field: `{ dockerHeld }` when containers hold addresses of xnet's part, else none.
 * When Docker does not answer, what was reported before (the HostSubnet as this node sees it):
 * a failed read is no sign the containers left.
 */
export async function dockerHeldFields(ctx: AgentContext, hs: HostSubnet, spec: DockerNetworkSpec): Promise<Record<string, unknown>> {
  const ranges = xnetPart({ subnet: spec.subnet, gateway: spec.gateway, dockerRange: spec.ipRange });
  if (!ranges) return {};
  let ips: string[];
  try {
    // a stopped container holds no endpoint, but keeps its --ip address for its next start
    const [endpoints, statics] = await Promise.all([ctx.dp.docker.networkEndpoints(spec.name), ctx.dp.docker.staticAddressesOn(spec.name)]);
    ips = [...(endpoints ?? []).map((e) => e.ip), ...statics];
  } catch (e) {
    ctx.log.warn('could not read the containers on a HostSubnet network; its report of the addresses they hold is kept', { hostSubnet: hs.metadata.name, error: (e as Error).message });
    return keptDockerHeld(hs);
  }
  const held = dockerHeldIn(ranges, ips);
  return held.length ? { dockerHeld: held.map(formatIPv4) } : {};
}

/**
 * What was reported before (the HostSubnet as this node sees it, its own report merged in): the
 * field of a report written when the pass could not read the containers (Docker down or timed
 * out, a step of the pass failed). A failed pass is no sign the containers left; written without
 * it, the controller handed their addresses out again, and moved those NICs once Docker answered.
 */
export function keptDockerHeld(hs: HostSubnet): Record<string, unknown> {
  const before = (hs.status as { dockerHeld?: unknown } | undefined)?.dockerHeld;
  return Array.isArray(before) && before.length ? { dockerHeld: before } : {};
}
