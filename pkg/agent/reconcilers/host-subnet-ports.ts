// The ports Docker had on a HostSubnet's bridge that was deleted from the kernel: the host
// ends of its endpoints' veths, which the kernel released (no master) with the bridge. Docker
// never puts them back, and they carry no name or mark that says whose they are, so each one is
// proven from Docker's side: the endpoint's MAC (the network's inspect) names the container's
// link, in that container's own namespace (pinned and confirmed, as a NIC's reconcile does),
// whose peer is the host link. Nothing else on the host is touched.
import type { NetworkEndpoint } from '../../docker/types.js';
import type { Link } from '../../netlink/types.js';
import type { AgentContext } from '../context.js';
import { containerTarget } from '../dataplane.js';
import { pinOwnNamespace } from './nic-namespace.js';

/**
 * The host end of one endpoint's veth: the one veth in the container with the endpoint's MAC,
 * its peer (iflink) a host veth whose own peer is that link (ifindexes are per namespace: one
 * match alone could be a coincidence), on no bridge (a port of another bridge is no orphan).
 */
export function endpointHostEnd(mac: string | undefined, container: Link[], host: Link[], bridge?: string): string | undefined {
  if (!mac) return undefined;
  const inC = container.filter((l) => l.kind === 'veth' && l.mac === mac.toLowerCase());
  if (inC.length !== 1 || inC[0].linkIndex === undefined || inC[0].linkNetnsId === undefined) return undefined;
  const c = inC[0];
  const h = host.find((l) => l.ifindex === c.linkIndex);
  if (!h || h.kind !== 'veth' || h.linkIndex !== c.ifindex || h.linkNetnsId === undefined || (h.master && h.master !== bridge)) return undefined;
  return h.name;
}

/**
 * The host ends of the endpoints of Docker network `network` (running containers), as read in
 * `host` (the host's links). A container that stopped meanwhile took its veth with it; an
 * endpoint whose link cannot be proven is left alone (logged). A Docker or `ip` failure is
 * thrown: the bridge is made again only with every port that can be put back.
 */
export async function orphanedEndpointPorts(ctx: AgentContext, network: string, host: Link[], bridge?: string): Promise<string[]> {
  const endpoints = (await ctx.dp.docker.networkEndpoints(network)) ?? [];
  const ports: string[] = [];
  for (const ep of endpoints) {
    const port = await endpointPort(ctx, ep, host, bridge);
    // `bridge`: a remake that stopped midway; a port it already put back needs nothing
    if (port) { if (!host.some((l) => l.name === port && bridge && l.master === bridge)) ports.push(port); }
    else ctx.log.warn('the host end of a container\'s endpoint on a deleted bridge was not found; it is left alone', { network, container: ep.name || ep.container, mac: ep.mac });
  }
  return ports;
}

async function endpointPort(ctx: AgentContext, ep: NetworkEndpoint, host: Link[], bridge?: string): Promise<string | undefined> {
  const ns = await pinOwnNamespace(ctx, ep.container);
  if (!ns) return undefined;
  try {
    const { links } = await ctx.dp.containerState(containerTarget({ path: ns.path, pid: ns.pid }), { routes: false });
    return endpointHostEnd(ep.mac, links, host, bridge);
  } finally {
    await ns.close();
  }
}
