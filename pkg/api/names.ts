// Names xnet gives to things on a host that other things can also be called: the Linux bridge
// of a HostSubnet and the Docker network of a ClusterNetwork or MacvlanNet. One owner for the
// rules, used by the validator (`xctl apply`), the controller (which derives default bridge
// names) and the agent (which re-checks before it asks Docker):
// - two ClusterNetworks with the same bridgePrefix get distinct default bridges on a node;
// - a name two objects want on one node goes to the older object (creationTimestamp, then
//   name); the younger is refused with a condition naming the holder;
// - a bridge never takes the name of a host link xnet did not make (eth0, docker0, lo...);
// - a ContainerNic never takes the name of a container's own interface (lo, eth0).
import { createHash } from 'node:crypto';

interface Named { metadata: { name: string; creationTimestamp?: string } }

/** Older first: creationTimestamp, then name (a deterministic order every party computes alike). */
export function olderFirst(a: Named, b: Named): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** Links of a host that are never an xnet bridge, whatever the host: `xctl apply` refuses them. */
export const HOST_LINK_NAMES: readonly string[] = ['lo', 'eth0', 'docker0', 'docker_gwbridge'];

/** Why `name` cannot be an explicit bridge name, or undefined. */
export function hostLinkBridgeWhy(name: string): string | undefined {
  if (HOST_LINK_NAMES.includes(name)) return `"${name}" is a host interface xnet does not own; choose another bridge name`;
  if (/^(x[vts][0-9a-f]{8}|veth)/.test(name)) return `"${name}" is a name xnet or Docker gives to other links; choose another bridge name`;
  return undefined;
}

/**
 * Interfaces every container has of its own: its loopback, and eth0, where Docker puts the
 * container's first network (the contract's NICs are eth1 and up). A ContainerNic of either
 * name collides with them (InterfaceNameTaken at best, a container without its Docker network
 * in a `--net none` one), so `xctl apply` refuses both.
 */
export const CONTAINER_OWN_IFNAMES: readonly string[] = ['lo', 'eth0'];

/** Why a ContainerNic may not be called `ifName` inside its container, or undefined. */
export function containerIfNameWhy(ifName: string): string | undefined {
  if (ifName === 'lo') return '"lo" is the container\'s loopback interface; choose another ifName, such as eth1';
  if (CONTAINER_OWN_IFNAMES.includes(ifName)) return `"${ifName}" is the interface Docker gives the container on its first network; choose another ifName, such as eth1`;
  return undefined;
}

/**
 * The default bridge of a HostSubnet: bridgePrefix + the block's 2-digit index for the oldest
 * ClusterNetwork using that prefix (br01, as in the manual procedure), and
 * `<prefix><index>-<rank>` for the next ones (br01-1), so two ClusterNetworks with the default
 * prefix never both want br01. A name longer than a link name may be becomes a hash.
 */
export function defaultBridgeName(prefix: string, slot: number, rank: number): string {
  const plain = prefix + String(slot).padStart(2, '0');
  const name = rank === 0 ? plain : `${plain}-${rank}`;
  if (name.length <= 15) return name;
  return `xb${createHash('sha1').update(`${prefix}/${slot}/${rank}`).digest('hex').slice(0, 10)}`;
}

/** A fallback bridge name for a HostSubnet whose derived name another object on its node holds. */
export function hashedBridgeName(hostSubnet: string): string {
  return `xb${createHash('sha1').update(hostSubnet).digest('hex').slice(0, 10)}`;
}

/** Rank of a ClusterNetwork among those sharing its bridgePrefix (0 = the oldest). */
export function bridgePrefixRank<T extends Named & { spec: { bridgePrefix?: string } }>(cn: T, all: Iterable<T>): number {
  const prefix = cn.spec.bridgePrefix ?? 'br';
  const same = [...all].filter((c) => (c.spec.bridgePrefix ?? 'br') === prefix);
  if (!same.some((c) => c.metadata.name === cn.metadata.name)) same.push(cn);
  return same.sort(olderFirst).findIndex((c) => c.metadata.name === cn.metadata.name);
}

export interface NameClaim<T> {
  /** the name wanted (a bridge or a Docker network) */
  name: string;
  /** the object wanting it */
  owner: T;
  /** an explicit name (a user wrote it) wins over a derived one */
  explicit?: boolean;
  /** what to call the owner in a message: `ClusterNetwork "a"` */
  label: string;
}

/**
 * Of several claims on names within one node: each claim that loses, with the claim that holds
 * its name. Explicit names beat derived ones; otherwise the older owner wins.
 */
export function nameLosers<T extends Named>(claims: NameClaim<T>[]): Map<NameClaim<T>, NameClaim<T>> {
  const byName = new Map<string, NameClaim<T>[]>();
  for (const c of claims) byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
  const out = new Map<NameClaim<T>, NameClaim<T>>();
  for (const group of byName.values()) {
    if (group.length < 2) continue;
    const [winner, ...rest] = [...group].sort((a, b) => Number(!!b.explicit) - Number(!!a.explicit) || olderFirst(a.owner, b.owner));
    for (const r of rest) if (r.label !== winner.label) out.set(r, winner);
  }
  return out;
}
