// A ClusterNetwork NIC's address that a container Docker put on the same network holds. Docker's
// IPAM checks a `docker run --ip` (or `network connect --ip`) only against its own endpoints, and
// accepts one in xnet's part of the HostSubnet (outside dockerRange), as seed 000's own
// `--ip 10.76.1.83` is; the controller knows nothing of Docker's endpoints. Two interfaces on one
// bridge with one address would answer ARP for each other, so the NIC waits, naming the
// container, and is looked at again every few seconds (the holder's leaving wakes no NIC).
import type { ContainerNic } from '../api/index.js';
import { notReady, type AgentContext, type Ready } from './context.js';
import { dockerNetworkName } from './desired.js';
import { ADDRESS_IN_USE_REASON } from '../api/docker-held.js';

export { ADDRESS_IN_USE_REASON };
/** how soon a NIC waiting for a container to give its address up is looked at again */
export const ADDRESS_IN_USE_RECHECK_MS = 3_000;

/** AddressInUse when a container Docker attached to the NIC's network holds `ip`; else none. */
export async function dockerHeldProblem(ctx: AgentContext, nic: ContainerNic, ip: string): Promise<Ready | undefined> {
  const cn = ctx.caches.clusterNetworks.get(nic.spec.network.clusterNetwork ?? '');
  if (!cn) return undefined;
  const network = dockerNetworkName(cn);
  const holder = (await endpointsOf(ctx, network))?.find((e) => e.ip === ip);
  if (!holder) return undefined;
  const who = holder.name || holder.container.slice(0, 12);
  return notReady(ADDRESS_IN_USE_REASON, `${ip} is also the address of container ${who} on Docker network ${network} (given by Docker, e.g. docker run --ip, outside the HostSubnet's dockerRange): `
    + 'the NIC is not added while that container holds it (one already in its container is left as it is); remove or reconnect that container, or give the NIC another spec.ip');
}

/** The network's endpoints; none when Docker cannot say (the container inspect before this reports Docker's trouble). */
async function endpointsOf(ctx: AgentContext, network: string): Promise<Array<{ container: string; name: string; ip: string }> | undefined> {
  try { return await ctx.dp.docker.networkEndpoints(network); } catch { return undefined; }
}
