// From stored objects to the planner's desired state. Pure: the agent's caches come in, plain
// values go out, so the mapping from the API to the kernel is unit-tested without I/O.
import { matchLabels, type ClusterNetwork, type ContainerNic, type HostSubnet, type MacvlanNet, type Node } from '../api/index.js';
import { OWNER_LABEL, type DockerNetworkSpec } from '../docker/types.js';
import { formatIPv4, hostRange, parseCidr } from '../ip/ipv4.js';
import type { DesiredNat } from './planner/nat.js';
import type { DesiredMacvlan } from './planner/macvlan.js';
import { effectiveParent } from './planner/macvlan.js';
import type { DesiredRoute } from './planner/routes.js';
import type { Problem } from './planner/ops.js';

export interface HostSubnetView {
  subnet?: string;
  gateway?: string;
  bridge?: string;
  dockerRange?: string;
  nodeAddress?: string;
}

/** The controller's status wins over the spec: it holds what was actually allocated. */
export function hostSubnetView(hs: HostSubnet): HostSubnetView {
  const st = (hs.status ?? {}) as HostSubnetView;
  const subnet = st.subnet ?? hs.spec.subnet;
  let gateway = st.gateway ?? hs.spec.gateway;
  if (!gateway && subnet) gateway = formatIPv4(hostRange(parseCidr(subnet)).first);
  const v: HostSubnetView = {};
  if (subnet) v.subnet = subnet;
  if (gateway) v.gateway = gateway;
  const bridge = st.bridge ?? hs.spec.bridge;
  if (bridge) v.bridge = bridge;
  const dockerRange = st.dockerRange ?? hs.spec.dockerRange;
  if (dockerRange) v.dockerRange = dockerRange;
  if (st.nodeAddress) v.nodeAddress = st.nodeAddress;
  return v;
}

/**
 * The MAC a NIC gets when the user names none: 02:42 + the IPv4 address, Docker's own rule.
 * Stable across container restarts, so neighbours' ARP caches stay right when the NIC is
 * made again (a random MAC would leave peers sending to the old one until their entries age).
 */
export function macFromIp(ip: string): string {
  return ['02', '42', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

export const isDeleting = (o: { metadata: { deletionTimestamp?: string } }) => !!o.metadata.deletionTimestamp;

export function nodeAddress(n: Node | undefined): string | undefined {
  return n?.spec?.address ?? (n?.status as { address?: string } | undefined)?.address;
}

export function nodeInterface(n: Node | undefined): string | undefined {
  return n?.spec?.interface ?? (n?.status as { interface?: string } | undefined)?.interface;
}

export function dockerNetworkName(cn: ClusterNetwork): string {
  return cn.spec.dockerNetwork ?? cn.metadata.name;
}

export function selects(sel: { matchLabels?: Record<string, string> } | undefined, node: Node | undefined): boolean {
  return matchLabels(sel?.matchLabels, node?.metadata.labels);
}

export interface BridgeNetworkResult {
  spec?: DockerNetworkSpec;
  problem?: Problem;
}

/** The local Docker bridge network of one of this node's HostSubnets. */
export function bridgeNetworkSpec(hs: HostSubnet, cn: ClusterNetwork | undefined): BridgeNetworkResult {
  if (!cn) return { problem: { reason: 'ClusterNetworkMissing', message: `ClusterNetwork ${hs.spec.clusterNetwork} does not exist` } };
  const v = hostSubnetView(hs);
  if (!v.subnet || !v.bridge) {
    return { problem: { reason: 'NotAllocated', message: 'waiting for the controller to allocate the subnet and bridge name' } };
  }
  const options: Record<string, string> = {
    'com.docker.network.bridge.name': v.bridge,
    'com.docker.network.bridge.enable_icc': String(hs.spec.icc ?? true),
    'com.docker.network.bridge.enable_ip_masquerade': String(cn.spec.masquerade ?? true),
  };
  if (cn.spec.mtu) options['com.docker.network.driver.mtu'] = String(cn.spec.mtu);
  const spec: DockerNetworkSpec = {
    name: dockerNetworkName(cn), driver: 'bridge', subnet: v.subnet, options,
    labels: { [OWNER_LABEL]: `HostSubnet/${hs.metadata.name}` },
  };
  if (v.gateway) spec.gateway = v.gateway;
  if (v.dockerRange) spec.ipRange = v.dockerRange;
  return { spec };
}

export interface PeerRoutes {
  routes: DesiredRoute[];
  /** peer subnets whose node address is unknown for now: their existing routes are kept */
  keep: string[];
}

/** `subnet via <peer address>` for every other node's HostSubnet whose address is known. */
export function peerRoutes(self: string, hostSubnets: HostSubnet[], nodes: Map<string, Node>): PeerRoutes {
  const out: PeerRoutes = { routes: [], keep: [] };
  for (const hs of hostSubnets) {
    if (hs.spec.node === self || isDeleting(hs)) continue;
    const v = hostSubnetView(hs);
    const via = v.nodeAddress ?? nodeAddress(nodes.get(hs.spec.node));
    if (v.subnet && via) out.routes.push({ dst: v.subnet, via });
    else if (v.subnet) out.keep.push(v.subnet);
  }
  return out;
}

export function desiredNat(cns: ClusterNetwork[], localSubnets: HostSubnet[]): DesiredNat {
  return {
    clusterCidrs: cns.map((c) => c.spec.cidr),
    bridges: localSubnets.map((h) => hostSubnetView(h).bridge).filter((b): b is string => !!b),
  };
}

type MacvlanNodeStatus = { name: string; parent?: string; dockerRange?: string; shimAddress?: string };

export function macvlanNodeStatus(m: MacvlanNet, self: string): MacvlanNodeStatus | undefined {
  return ((m.status?.nodes ?? []) as MacvlanNodeStatus[]).find((n) => n.name === self);
}

/** Parent precedence: per-node override, then the network's parent, then the node's interface. */
export function macvlanParent(m: MacvlanNet, self: Node | undefined, selfName: string): string | undefined {
  return m.spec.nodes?.find((n) => n.name === selfName)?.parent ?? m.spec.parent ?? nodeInterface(self);
}

export function dockerMacvlanName(m: MacvlanNet): string {
  return m.spec.dockerNetwork ?? m.metadata.name;
}

export interface MacvlanResult {
  desired?: DesiredMacvlan;
  problem?: Problem;
  /** set while the controller has not given this node its block */
  pending?: Problem;
}

export function desiredMacvlan(m: MacvlanNet, selfName: string, self: Node | undefined, localNics: ContainerNic[]): MacvlanResult {
  const parent = macvlanParent(m, self, selfName);
  if (!parent) return { problem: { reason: 'ParentMissing', message: 'no parent interface: set spec.parent, spec.nodes[].parent or the Node\'s interface' } };
  const ns = macvlanNodeStatus(m, selfName);
  const d: DesiredMacvlan = { name: m.metadata.name, parent, promiscuous: m.spec.promiscuous ?? true };
  if (m.spec.vlan) d.vlan = m.spec.vlan;
  const r: MacvlanResult = { desired: d };
  if (!ns?.dockerRange) {
    r.pending = { reason: 'NotAllocated', message: 'waiting for the controller to give this node its address block' };
    return r;
  }
  const options: Record<string, string> = { parent: effectiveParent(d), macvlan_mode: m.spec.mode ?? 'bridge' };
  d.network = {
    name: dockerMacvlanName(m), driver: 'macvlan', subnet: m.spec.subnet, ipRange: ns.dockerRange, options,
    labels: { [OWNER_LABEL]: `MacvlanNet/${m.metadata.name}` },
    ...(m.spec.gateway ? { gateway: m.spec.gateway } : {}),
  };
  if ((m.spec.hostShim ?? true) && ns.shimAddress) {
    const nicIps = localNics
      .filter((n) => n.spec.network.macvlanNet === m.metadata.name && n.status?.ip)
      .map((n) => `${n.status!.ip}/32`);
    d.shim = { address: ns.shimAddress, routes: [ns.dockerRange, ...nicIps] };
  }
  return r;
}
