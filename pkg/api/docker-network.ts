// The Docker network a ClusterNetwork or MacvlanNet becomes on each host, and the names Docker
// keeps for itself. One owner: the validator (`xctl apply`) refuses a reserved name, given in
// spec.dockerNetwork or taken from metadata.name when that is not set, and the agent re-checks
// it before it asks Docker (ReservedDockerNetwork, for objects written around xctl), so a
// ClusterNetwork called `default` with no `dockerNetwork` is refused at apply instead of
// failing on every host for ever.
import type { FieldIssue } from './field-issue.js';
import { hostSubnetDefaults } from './rules.js';
import { refusedPin } from './refused-pin.js';

/** Docker's predefined networks; `docker network create` refuses these names. */
export const DOCKER_RESERVED_NETWORKS: readonly string[] = ['bridge', 'host', 'none', 'default'];

/** spec.dockerNetwork, else the object's name (the contract's default). */
export function dockerNetworkOf(o: { metadata: { name: string }; spec: { dockerNetwork?: string } }): string {
  return o.spec.dockerNetwork ?? o.metadata.name;
}

/** Why `name` cannot be an xnet Docker network, or undefined when it can. */
export function reservedDockerNetworkWhy(name: string): string | undefined {
  return DOCKER_RESERVED_NETWORKS.includes(name)
    ? `"${name}" is one of Docker's predefined networks (${DOCKER_RESERVED_NETWORKS.join(', ')}); set spec.dockerNetwork to another name`
    : undefined;
}

/**
 * A ClusterNetwork or MacvlanNet without spec.dockerNetwork whose name Docker keeps for itself
 * (`default`, the contract's example name, is the likely one): its Docker network could never
 * be made on any host. Named at metadata.name, the line the user wrote.
 */
export function derivedDockerNetworkIssues(o: { kind: string; metadata: { name: string }; spec?: unknown }): FieldIssue[] {
  if (o.kind !== 'ClusterNetwork' && o.kind !== 'MacvlanNet') return [];
  if ((o.spec as { dockerNetwork?: string } | undefined)?.dockerNetwork !== undefined) return [];
  const why = reservedDockerNetworkWhy(o.metadata.name);
  return why ? [{ path: ['metadata', 'name'], message: `also names the Docker network on every host when spec.dockerNetwork is not set, and ${why}` }] : [];
}

/**
 * A ClusterNetwork's MTU when it declares none: the kernel's default for a new veth and Docker's
 * for a bridge network. Declared rather than left out, on both ends of every veth NIC and on
 * the Docker network, so that removing `mtu` takes what was made with it back to what is made
 * without it (as if it had never been set), and so that a daemon default (Docker's
 * `default-network-opts`) cannot make xnet's network differ from its spec. Never on a macvlan:
 * its default is its parent's MTU.
 */
export const DEFAULT_CLUSTER_MTU = 1500;

/**
 * The options of a HostSubnet's Docker bridge network that its spec and its ClusterNetwork's
 * decide (the bridge's name aside). Docker changes none of them on a network that exists: the
 * agent makes the network again once no container is attached (planner/docker-networks.ts), and
 * xctl warns of that on an edit (remadeNetworkWarnings).
 */
export function bridgeNetworkOptions(cn: { spec: { masquerade?: boolean; mtu?: number } }, hs: { spec: { icc?: boolean } }): Record<string, string> {
  return {
    'com.docker.network.bridge.enable_icc': String(hs.spec.icc ?? true),
    'com.docker.network.bridge.enable_ip_masquerade': String(cn.spec.masquerade ?? true),
    'com.docker.network.driver.mtu': String(cn.spec.mtu ?? DEFAULT_CLUSTER_MTU),
  };
}

type Spec = { kind: string; metadata: { name: string }; spec?: unknown };
type OptionSpec = { spec: { masquerade?: boolean; mtu?: number; icc?: boolean } };
const NO_SPEC: OptionSpec = { spec: {} };
/** The options an object of either kind decides (those of the other kind at their defaults). */
const optionsOf = (x: Spec) => bridgeNetworkOptions(x.kind === 'ClusterNetwork' ? x as OptionSpec : NO_SPEC, x.kind === 'HostSubnet' ? x as OptionSpec : NO_SPEC);
const FIELDS: Record<string, Array<[field: string, option: string]>> = {
  ClusterNetwork: [['masquerade', 'com.docker.network.bridge.enable_ip_masquerade'], ['mtu', 'com.docker.network.driver.mtu']],
  HostSubnet: [['icc', 'com.docker.network.bridge.enable_icc']],
};

/**
 * An edit of a stored ClusterNetwork's masquerade or mtu, or a HostSubnet's icc, subnet, bridge,
 * gateway or dockerRange: each is part of a Docker network, which Docker cannot change in place, so on
 * a node with a container attached the change waits (NetworkInUse) until they are all
 * disconnected. Said by apply and diff, as kubectl prints an API server's warnings; the write
 * goes ahead.
 */
export function remadeNetworkWarnings(batch: Spec[], stored: Spec[]): string[] {
  const before = new Map(stored.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
  return batch.flatMap((o) => {
    const was = before.get(`${o.kind}/${o.metadata.name}`);
    const fields = FIELDS[o.kind];
    if (!was || !fields) return [];
    const [now, then] = [optionsOf(o), optionsOf(was)];
    const options = fields.filter(([, option]) => now[option] !== then[option]).map(([field, option]) => remadeLine(o, field, now[option], then[option], 'an option'));
    return [...options, ...(o.kind === 'HostSubnet' ? layoutWarnings(o, was) : [])];
  });
}

type Layout = { subnet?: unknown; bridge?: unknown; gateway?: unknown; dockerRange?: unknown };
const LAYOUT_FIELDS = ['subnet', 'bridge', 'gateway', 'dockerRange'] as const;

/**
 * A HostSubnet's subnet, bridge, gateway or dockerRange set to another value than it has (what
 * the controller gave it, the stored status, which its node uses; else its spec): Docker moves
 * no subnet, gateway or ip-range and renames no bridge of a network that exists. Compared as the
 * controller will have them (newLayout): a gateway or dockerRange left out becomes the subnet's
 * default again. A refused pin has no network anywhere (refusedPin): moving it remakes nothing.
 */
function layoutWarnings(o: Spec, was: Spec): string[] {
  const stored = was as { spec?: Layout; status?: Layout };
  if (refusedPin(was as Parameters<typeof refusedPin>[0])) return [];
  const then: Layout = Object.fromEntries(LAYOUT_FIELDS.map((f) => [f, stored.status?.[f] ?? stored.spec?.[f]]));
  const now = newLayout((o.spec ?? {}) as Layout, then);
  return LAYOUT_FIELDS.flatMap((f) => {
    const [n, t] = [now[f], then[f]];
    return typeof n === 'string' && typeof t === 'string' && n !== t ? [remadeLine(o, f, n, t, 'a setting')] : [];
  });
}

/**
 * The layout the controller gives the edited spec, where xctl can tell: a field it sets, else,
 * in the subnet the HostSubnet keeps, the gateway and dockerRange the controller fills in when
 * they are left out (hostSubnetDefaults: removing `gateway: 10.76.2.2` moves the network's
 * gateway to 10.76.2.1). A bridge or subnet left out the controller keeps; a subnet moved is
 * said once, not again as the defaults it moves with it.
 */
function newLayout(spec: Layout, then: Layout): Layout {
  if (typeof then.subnet !== 'string' || (spec.subnet !== undefined && spec.subnet !== then.subnet)) return spec;
  let defaults: { gateway: string; dockerRange: string };
  try { defaults = hostSubnetDefaults(then.subnet); } catch { return spec; }
  return { ...spec, gateway: spec.gateway ?? defaults.gateway, dockerRange: spec.dockerRange ?? defaults.dockerRange };
}

function remadeLine(o: Spec, field: string, now: string, then: string, what: string): string {
  return `${o.kind.toLowerCase()}/${o.metadata.name}: spec.${field} ${now} (was ${then}) is ${what} Docker cannot change on an existing network: ` +
    `on each node the agent makes ${o.kind === 'HostSubnet' ? 'its' : 'the'} Docker network again once no container is attached to it (stopped ones included); until then ` +
    `${o.kind === 'HostSubnet' ? 'it reports' : 'that node\'s HostSubnet reports'} NetworkInUse and keeps the old value`;
}
