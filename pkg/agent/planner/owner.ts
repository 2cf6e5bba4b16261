// Which Docker networks are xnet's. xnet marks each network it makes with OWNER_LABEL =
// `<Kind>/<name>` of the object it made it for, but anyone can put that label on a network
// (docker network create --label io.xnet.owner=...): the label alone makes no network xnet's.
// One rule, used by every pass that asks (each through labelledFor):
//  - served: labelled for an object of a kind that makes such networks (a HostSubnet: bridge,
//    a MacvlanNet: macvlan) that this node serves (its HostSubnets, those whose key does not
//    decode too; the MacvlanNets that select it). Only such a network is xnet's live network:
//    the NAT pass returns every other one inside a ClusterNetwork's CIDR to Docker's chains.
//  - left over: labelled for an object of such a kind, by a name such an object can have, that
//    this node no longer serves. xnet cannot tell it from its own network of an object deleted
//    (or moved off the node) while the agent was down, so it is xnet's to remove once no
//    container is on it (host-subnets.ts staleNetworks, planner/macvlan.ts macvlanLeftovers),
//    and until then it holds its name and bridge as xnet's, not as a user's.
// Anything else (no label, another kind, `HostSubnet/`, a name no object can have) is a user's.
import { DNS1123_LABEL } from '../../api/fields.js';
import { OWNER_LABEL, type DockerNetwork } from '../../docker/types.js';

export type OwnerKind = 'HostSubnet' | 'MacvlanNet';

/** The Docker driver of the networks each kind of object makes. */
const DRIVER: Record<OwnerKind, string> = { HostSubnet: 'bridge', MacvlanNet: 'macvlan' };

/**
 * The name of the `kind` object the network's label names, when it could be one: a network of
 * that kind's driver, a name an object can have. Undefined for any other network.
 */
export function labelledFor(n: Pick<DockerNetwork, 'labels' | 'driver'>, kind: OwnerKind): string | undefined {
  const owner = n.labels[OWNER_LABEL] ?? '';
  if (n.driver !== DRIVER[kind] || !owner.startsWith(`${kind}/`)) return undefined;
  const name = owner.slice(kind.length + 1);
  return name.length <= 63 && DNS1123_LABEL.test(name) ? name : undefined;
}

