// xnet's marked HostSubnet bridges that no Docker network holds any more. A bridge Docker made
// goes with its network, but one xnet made again after it was deleted by hand (bridgeGone in
// host-subnet-network.ts) is not Docker's: `docker network rm` leaves it, with the gateway
// address of its subnet. Left there, it blackholes that subnet on the host once a HostSubnet
// on the same subnet gets another bridge (the kernel keeps two routes to it and picks the
// dead one), and nothing reports it. So it goes, when nothing can still need it.
import type { DockerNetwork, DockerNetworkSpec } from '../../docker/types.js';
import type { Link } from '../../netlink/types.js';
import type { AgentContext } from '../context.js';
import type { IpOp } from '../planner/ops.js';
import { bridgeAlias, nicOfAlias } from '../planner/names.js';
import { BRIDGE_OPTION } from './host-subnet-network.js';

const MARK_PREFIX = bridgeAlias('');

/**
 * Marked bridges with no port but xnet's NICs (put back on their own bridge by their
 * reconcile), that no Docker network read in this pass names as its bridge
 * (also one waiting for the controller, or one of a HostSubnet that does not decode) and that
 * no HostSubnet here wants (the one it is about to make a network on: leftoverBridge), nor one
 * of a HostSubnet here whose bridge was renamed by hand (host-subnet-network.ts renamedBridge).
 */
export function leftoverBridges(links: Link[], networks: DockerNetwork[], specs: Map<string, DockerNetworkSpec>): string[] {
  const held = new Set([...networks, ...specs.values()].map((n) => n.options[BRIDGE_OPTION]));
  const withPorts = new Set(links.flatMap((l) => (l.master && nicOfAlias(l.alias) === undefined ? [l.master] : [])));
  // the mark of a HostSubnet wanted here whose bridge Docker's network names but no link has:
  // renamed by hand, that bridge gets its name back in the HostSubnet's pass
  const gone = (bridge: string) => !links.some((l) => l.name === bridge) && networks.some((n) => n.options[BRIDGE_OPTION] === bridge);
  const renamed = new Set([...specs].filter(([, s]) => gone(s.options[BRIDGE_OPTION])).map(([hs]) => bridgeAlias(hs)));
  return links
    .filter((l) => l.kind === 'bridge' && l.alias?.startsWith(MARK_PREFIX) && !held.has(l.name) && !withPorts.has(l.name) && !renamed.has(l.alias))
    .map((l) => l.name);
}

/**
 * Deletes the leftover bridges. `removed`: the networks removed in this pass; their bridges
 * were read before the removal, so the links are read again to see which Docker left. A dry
 * run (verify) removed none: the network whose removal it planned still holds its bridge, which
 * Docker takes with it in the real run, so that bridge is not shown as one to delete.
 */
export async function removeLeftoverBridges(ctx: AgentContext, links: Link[], networks: DockerNetwork[], specs: Map<string, DockerNetworkSpec>, removed?: Set<string>): Promise<void> {
  const gone = ctx.dp.dryRun ? undefined : removed;
  const fresh = gone?.size ? (await ctx.dp.ip.linksAndAddrs()).links : links;
  const still = networks.filter((n) => !gone?.has(n.name));
  const names = leftoverBridges(fresh, still, specs);
  if (!names.length) return;
  ctx.log.info('removing bridges xnet made that no Docker network holds', { bridges: names });
  await ctx.dp.execute(names.map((name): IpOp => ({ op: 'link.del', name })));
}
