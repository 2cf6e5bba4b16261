// Which Docker networks are xnet's. xnet marks each network it makes with OWNER_LABEL =
// `<Kind>/<name>` of the object it made it for, but anyone can put that label on a network
// (docker network create --label io.xnet.owner=...): the label alone makes no network xnet's.
// One rule, used by every pass that asks (each through labelledFor):
//  - served: labelled for an object of a kind that makes such networks (a HostSubnet: bridge,
//    a MacvlanNet: macvlan) that this node serves (its HostSubnets, those whose key does not
//    decode too; the MacvlanNets that select it). Only such a network is xnet's live network:
//    the NAT pass returns every other one inside a ClusterNetwork's CIDR to Docker's chains.
//  - left over: labelled for an object of such a kind, by a name such an object can have, that
//    this node no longer serves (under that name: a MacvlanNet's network under an older name is
//    left over too). xnet cannot tell it from its own network of an object deleted (or moved off
//    the node) while the agent was down by the label, so the agent keeps evidence: the ids of the
//    networks it made, or found in place as a served network (network-record.ts); only a network
//    so recorded (madeHere) is removed as a leftover (host-subnets.ts staleNetworks,
//    planner/macvlan.ts), and until then a HostSubnet's holds its name and bridge as xnet's.
//    One not recorded stays, whoever made it: xnet's own whose record was lost is an orphan the
//    agent names in its log, never a user's network removed.
//  - under the name xnet wants for an object: that object's network only when labelled for it
//    and of the kind's driver (holderOf); any other label, or the right label on a network of
//    another driver, is a NetworkConflict, never removed or made again.
// Anything else (no label, another kind, `HostSubnet/`, a name no object can have) is a user's.
import { DNS1123_LABEL } from '../../api/fields.js';
import { OWNER_LABEL, type DockerNetwork, type DockerNetworkSpec } from '../../docker/types.js';

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


/**
 * Whose the network `have`, under the name of the network `want` that xnet makes for one
 * `kind` object, is: 'own' when it is that object's by the rule above (its very label, on a
 * network of the kind's driver), 'unlabelled' without a label (a user's or Docker's: adopted
 * only when it matches, never removed), else why it is not that object's: a label of another
 * object, or this object's label on a network of a driver xnet never makes for the kind (a
 * user's ipvlan network labelled MacvlanNet/<name>). Neither of the last is xnet's to remove
 * or make again (planner/docker-networks.ts).
 */
export function holderOf(want: Pick<DockerNetworkSpec, 'labels'>, have: Pick<DockerNetwork, 'labels' | 'driver'>, kind: OwnerKind): 'own' | 'unlabelled' | string {
  const owner = have.labels[OWNER_LABEL];
  if (owner === undefined) return 'unlabelled';
  const label = `labelled ${OWNER_LABEL}=${owner}`;
  if (owner !== want.labels[OWNER_LABEL]) return `belongs to ${owner} (${label})`;
  if (labelledFor(have, kind) === undefined) return `is ${label} but its driver is ${have.driver}, and xnet makes a ${kind} only ${DRIVER[kind]} networks: it is not xnet's`;
  return 'own';
}

/**
 * The ids of the Docker networks this node's agent made, with the label each carries
 * (network-record.ts): a network labelled for a HostSubnet or MacvlanNet that this node no
 * longer serves under it is removed as xnet's leftover only when its id is there (madeHere).
 */
export type MadeNetworks = ReadonlyMap<string, string>;

/**
 * Whether this node is known to have made network `n` for the `kind` object its label names:
 * labelled for one (labelledFor) and in the record of what this node's agent made, under that
 * label. A label is anyone's to write, and an object deleted while the agent was down leaves
 * nothing in etcd to tell xnet's network of it from a user's so labelled: the record does.
 */
export function madeHere(n: Pick<DockerNetwork, 'labels' | 'driver' | 'id'>, kind: OwnerKind, made: MadeNetworks | undefined): boolean {
  const name = labelledFor(n, kind);
  return name !== undefined && made?.get(n.id) === `${kind}/${name}`;
}
