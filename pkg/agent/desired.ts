// From stored objects to the planner's desired state. Pure: the agent's caches come in, plain
// values go out, so the mapping from the API to the kernel is unit-tested without I/O.
import { dockerNetworkOf, reservedDockerNetworkWhy } from '../api/docker-network.js';
import { MAX_USED_UP_REASON, macvlanBaseParent, matchLabels, type ClusterNetwork, type ContainerNic, type HostSubnet, type MacvlanNet, type Node } from '../api/index.js';
import { OWNER_LABEL, type DockerNetworkSpec } from '../docker/types.js';
import { MVN_OPTION } from '../dockeripam/node-ipam.js';
import { ANY_ADDRESS } from '../dockeripam/requests.js';
import { cidrContains, cidrCovers, formatIPv4, hostRange, parseCidr, parseIPv4 } from '../ip/ipv4.js';
import type { DesiredNat, LocalSubnet } from './planner/nat.js';
import type { DesiredMacvlan } from './planner/macvlan.js';
import { effectiveParent } from './planner/macvlan.js';
import type { Problem } from './planner/ops.js';
import { FIELD, invalidField, type FieldCheck } from './status-fields.js';
import { readMarks } from './mark-times.js';
import { clusterCidrWhy, hostSubnetFitWhy, macvlanPassthruWhy, macvlanSubnetWhy } from '../api/rules.js';
import { macvlanHostAddressWhy } from '../api/macvlan-host-address.js';
import { missingNetworkMessage } from '../api/validate.js';
import { refusedPin } from '../api/refused-pin.js';
import { bridgeNetworkOptions } from '../api/docker-network.js';

export interface HostSubnetView {
  subnet?: string;
  gateway?: string;
  bridge?: string;
  dockerRange?: string;
  nodeAddress?: string;
  /** a value that is not valid for its field: nothing of this HostSubnet may reach the kernel */
  problem?: Problem;
}

/**
 * The controller's status wins over the spec: it holds what was actually allocated. Every
 * value is checked (see status-fields.ts); with a problem the view holds no values at all.
 */
export function hostSubnetView(hs: HostSubnet): HostSubnetView {
  const st = (hs.status ?? {}) as Record<string, unknown>;
  const pick = (k: 'subnet' | 'gateway' | 'bridge' | 'dockerRange', schema: FieldCheck[2]): FieldCheck =>
    st[k] != null ? [`status.${k}`, st[k], schema] : [`spec.${k}`, hs.spec[k], schema];
  const checks: FieldCheck[] = [
    pick('subnet', FIELD.cidr), pick('gateway', FIELD.ipv4), pick('bridge', FIELD.ifName), pick('dockerRange', FIELD.cidr),
    ['status.nodeAddress', st.nodeAddress, FIELD.ipv4],
  ];
  const problem = invalidField('HostSubnet', hs.metadata.name, checks);
  if (problem) return { problem };
  const [subnet, gw, bridge, dockerRange, nodeAddress] = checks.map((c) => c[1] as string | undefined);
  const gateway = gw ?? (subnet ? formatIPv4(hostRange(parseCidr(subnet)).first) : undefined);
  const v: HostSubnetView = {};
  if (subnet) v.subnet = subnet;
  if (gateway) v.gateway = gateway;
  if (bridge) v.bridge = bridge;
  if (dockerRange) v.dockerRange = dockerRange;
  if (nodeAddress) v.nodeAddress = nodeAddress;
  return v;
}

// the refusal rule is shared with xctl (api/refused-pin.ts)
export { refusedPin };

export interface NicStatusView {
  ip?: string;
  prefixLength?: number;
  gateway?: string;
  mac?: string;
  /** the HostSubnet the controller chose for a ClusterNetwork NIC */
  hostSubnet?: string;
  problem?: Problem;
}

/** The controller's allocation for a ContainerNic, checked like hostSubnetView. */
export function nicStatusView(nic: ContainerNic): NicStatusView {
  const st = (nic.status ?? {}) as Record<string, unknown>;
  const problem = invalidField('ContainerNic', nic.metadata.name, [
    ['status.ip', st.ip, FIELD.ipv4], ['status.prefixLength', st.prefixLength, FIELD.prefixLength],
    ['status.gateway', st.gateway, FIELD.ipv4], ['status.mac', st.mac, FIELD.mac], ['status.hostSubnet', st.hostSubnet, FIELD.name],
  ]);
  if (problem) return { problem };
  const v: NicStatusView = {};
  for (const k of ['ip', 'gateway', 'mac', 'hostSubnet'] as const) if (st[k] != null) v[k] = st[k] as string;
  if (st.prefixLength != null) v.prefixLength = st.prefixLength as number;
  return v;
}

/**
 * Why a NIC without an address has none, for its node's Ready: the controller's own reason when
 * it refuses one (Allocated=False: its network being deleted, a pinned ip taken, a pool used
 * up), else that it waits for the controller. Before, a refused NIC's node said "waiting for the
 * controller" next to the controller saying it would give none. Text from etcd, bounded.
 */
export function noAddressMessage(nic: ContainerNic): string {
  const conditions = (nic.status as { conditions?: unknown } | undefined)?.conditions;
  const allocated = Array.isArray(conditions) ? conditions.find((c) => (c as { type?: unknown } | null)?.type === 'Allocated') as { status?: unknown; message?: unknown } | undefined : undefined;
  const why = allocated?.status === 'False' && typeof allocated.message === 'string' ? allocated.message.slice(0, 300) : '';
  return why ? `no address: the controller gives none (${why})` : 'waiting for the controller to allocate an address';
}

export interface NodeView {
  address?: string;
  interface?: string;
  problem?: Problem;
}

/** The admin's spec wins over what the node's agent detected; both are checked. */
export function nodeView(n: Node | undefined): NodeView {
  if (!n) return {};
  const st = (n.status ?? {}) as Record<string, unknown>;
  const address: FieldCheck = n.spec?.address != null ? ['spec.address', n.spec.address, FIELD.ipv4] : ['status.address', st.address, FIELD.ipv4];
  const iface: FieldCheck = n.spec?.interface != null ? ['spec.interface', n.spec.interface, FIELD.ifName] : ['status.interface', st.interface, FIELD.ifName];
  const problem = invalidField('Node', n.metadata.name, [address, iface]);
  if (problem) return { problem };
  const v: NodeView = {};
  if (address[1] != null) v.address = address[1] as string;
  if (iface[1] != null) v.interface = iface[1] as string;
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

// the rule lives with the Docker network's other options (api/docker-network.ts)
export { DEFAULT_CLUSTER_MTU } from '../api/docker-network.js';

export const isDeleting = (o: { metadata: { deletionTimestamp?: string } }) => !!o.metadata.deletionTimestamp;

/** undefined also when the Node holds an invalid value (nodeView says which) */
export function nodeAddress(n: Node | undefined): string | undefined {
  return nodeView(n).address;
}

export function nodeInterface(n: Node | undefined): string | undefined {
  return nodeView(n).interface;
}

export function dockerNetworkName(cn: ClusterNetwork): string {
  return dockerNetworkOf(cn);
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
  // the caller names the closest ClusterNetwork there is (missing-network.ts); this knows none
  if (!cn) return { problem: { reason: 'ClusterNetworkMissing', message: missingNetworkMessage('ClusterNetwork', hs.spec.clusterNetwork, []) } };
  const v = hostSubnetView(hs);
  if (v.problem) return { problem: v.problem };
  const refused = refusedPin(hs);
  if (refused) return { problem: { reason: 'NotAllocated', message: `the controller has not allocated spec.subnet ${hs.spec.subnet} (${refused}); waiting for it` } };
  if (!v.subnet || !v.bridge) {
    return { problem: { reason: 'NotAllocated', message: 'waiting for the controller to allocate the subnet and bridge name' } };
  }
  const outside = subnetOutsideWhy(hs, v.subnet, cn);
  if (outside) return { problem: { reason: 'InvalidSpec', message: outside } };
  // after the value checks: a bad status or spec is named as such before the name is judged
  const reserved = reservedDockerNetworkWhy(dockerNetworkName(cn));
  if (reserved) return { problem: { reason: 'ReservedDockerNetwork', message: reserved } };
  const options: Record<string, string> = { 'com.docker.network.bridge.name': v.bridge, ...bridgeNetworkOptions(cn, hs) };
  const spec: DockerNetworkSpec = {
    name: dockerNetworkName(cn), driver: 'bridge', subnet: v.subnet, options,
    labels: { [OWNER_LABEL]: `HostSubnet/${hs.metadata.name}` },
  };
  if (v.gateway) spec.gateway = v.gateway;
  if (v.dockerRange) spec.ipRange = v.dockerRange;
  return { spec };
}

/** The agent's own check of a local HostSubnet: the shared rule (hostSubnetFitWhy), as every peer applies it before it routes the subnet. */
function subnetOutsideWhy(hs: HostSubnet, subnet: string, cn: ClusterNetwork): string | undefined {
  const why = hostSubnetFitWhy(subnet, { name: cn.metadata.name, cidr: cn.spec.cidr, hostPrefix: cn.spec.hostPrefix }, hs.spec.subnet != null);
  return why && `subnet ${why}; nothing is made for it`;
}

/** Bridge and subnet of a local HostSubnet whose values pass and whose subnet lies inside its ClusterNetwork. */
function checkedLocal(h: HostSubnet, cn: ClusterNetwork | undefined): LocalSubnet | undefined {
  const v = hostSubnetView(h);
  if (!cn || v.problem || !v.bridge || !v.subnet || subnetOutsideWhy(h, v.subnet, cn) || refusedPin(h)) return undefined;
  const l: LocalSubnet = { bridge: v.bridge, subnet: v.subnet, hostSubnet: h.metadata.name };
  // the address the host's own cluster traffic leaves from (nat.ts): only one of the subnet's
  if (v.gateway && cidrContains(parseCidr(v.subnet, false), parseIPv4(v.gateway))) l.gateway = v.gateway;
  if (!clusterCidrWhy(cn.spec.cidr)) l.clusterCidr = cn.spec.cidr;
  return l;
}

/**
 * Only local HostSubnets that pass the checks get rules. `served`: the names of the HostSubnets
 * this node serves (DesiredNat.served), `localSubnets` among them.
 */
export function desiredNat(cns: ClusterNetwork[], localSubnets: HostSubnet[], served: string[] = []): DesiredNat {
  const byName = new Map(cns.map((c) => [c.metadata.name, c]));
  return {
    served: [...new Set([...localSubnets.map((h) => h.metadata.name), ...served])].sort(),
    // a cidr no validator would pass (written straight into etcd) gets no host-wide rule
    clusterCidrs: cns.map((c) => c.spec.cidr).filter((c) => !clusterCidrWhy(c)),
    local: localSubnets.map((h) => checkedLocal(h, byName.get(h.spec.clusterNetwork))).filter((l): l is LocalSubnet => !!l),
  };
}

type MacvlanNodeStatus = {
  name: string; parent?: string; dockerRange?: string; shimAddress?: string; addresses?: string[]; maxFree?: number;
  /** addresses this node's containers keep outside an edited range (never handed out): the shim still routes to them */
  outsideRange?: string[];
  /**
   * address asked for by name (docker run --ip) -> why the controller will not grant it; under
   * ANY_ADDRESS, why a request without --ip gets none (the pool is used up: usedUp, poolUsedUp)
   */
  refused?: Map<string, string>;
  /** idle pre-claims the controller asks back by name: another node's container asked for them (--ip) */
  giveBack?: string[];
  /** this node's external marks (answered its ARP probe): probed again after a quarantine */
  external?: string[];
  problem?: Problem;
  /** addresses of the list no container may hold (InvalidStatus), left out of `addresses` */
  addressProblem?: Problem;
};

/**
 * The addresses of status.nodes[i].addresses the IPAM plugin may hand to a container here
 * (the shim's rule: macvlan-host-address.ts), and what was left out, named, as addressProblem.
 * The valid ones are used: a container is not refused an address the controller did give.
 */
function hostAddresses(m: MacvlanNet, i: number, list: string[]): Pick<MacvlanNodeStatus, 'addresses' | 'addressProblem'> {
  const left: string[] = [];
  const addresses = list.filter((a, j) => {
    const why = macvlanHostAddressWhy(m.spec, a);
    if (why) left.push(`status.nodes[${i}].addresses[${j}] ${a} ${why}`);
    return !why;
  });
  if (!left.length) return { addresses };
  const more = left.length > 1 ? ` (and ${left.length - 1} more)` : '';
  return { addresses, addressProblem: { reason: 'InvalidStatus', message: `MacvlanNet ${m.metadata.name}: ${left[0]}${more}; not handed to a container until it is corrected` } };
}

/**
 * The controller's refusals of --ip requests, checked: IPv4 addresses with a short reason each
 * (it becomes a container's error message); anything else is dropped, and the request then
 * waits as before. So is its word that the pool is used up (usedUpWord).
 */
function refusedOf(v: unknown, usedUp: unknown): Map<string, string> | undefined {
  const out = new Map<string, string>();
  // the same path as a refused --ip (its staleness rule too), for a request without one
  if (typeof usedUp === 'string' && usedUp && usedUp.length <= MAX_USED_UP_REASON) out.set(ANY_ADDRESS, usedUp);
  for (const e of Array.isArray(v) ? v.slice(0, 64) as Array<{ ip?: unknown; reason?: unknown }> : []) {
    if (typeof e?.ip === 'string' && FIELD.ipv4.safeParse(e.ip).success && typeof e.reason === 'string' && e.reason.length <= 200) out.set(e.ip, e.reason);
  }
  return out.size ? out : undefined;
}

/**
 * The controller's word that the pool is used up for this node: status.poolUsedUp, written once
 * for every node whose part says usedUp; or, from a controller before that, the reason in the
 * part itself (status.nodes[].poolUsedUp). Either way the same sentence, refused the same way.
 */
function usedUpWord(m: MacvlanNet, ns: Record<string, unknown>): unknown {
  if (ns.usedUp === true) return m.status?.poolUsedUp;
  return ns.poolUsedUp;
}

/** The most status.nodes[].giveBack entries read: the controller writes at most 8 (macvlan-give-back.ts). */
const MAX_GIVE_BACK_READ = 64;

/** This node's entry of status.nodes, checked like hostSubnetView. */
export function macvlanNodeStatus(m: MacvlanNet, self: string): MacvlanNodeStatus | undefined {
  const nodes = (m.status?.nodes ?? []) as Array<Record<string, unknown>>;
  const i = nodes.findIndex((n) => n.name === self);
  if (i < 0) return undefined;
  const ns = nodes[i];
  const problem = invalidField('MacvlanNet', m.metadata.name, [
    [`status.nodes[${i}].parent`, ns.parent, FIELD.ifName], [`status.nodes[${i}].dockerRange`, ns.dockerRange, FIELD.cidr],
    [`status.nodes[${i}].shimAddress`, ns.shimAddress, FIELD.ipv4],
  ]);
  if (problem) return { name: self, problem };
  const shimWhy = ns.shimAddress != null ? macvlanHostAddressWhy(m.spec, ns.shimAddress as string) : undefined;
  if (shimWhy) return { name: self, problem: { reason: 'InvalidStatus', message: `MacvlanNet ${m.metadata.name}: status.nodes[${i}].shimAddress ${ns.shimAddress} ${shimWhy}; xnet does not act on it until it is corrected` } };
  const out: MacvlanNodeStatus = { name: self };
  for (const k of ['parent', 'dockerRange', 'shimAddress'] as const) if (ns[k] != null) out[k] = ns[k] as string;
  if (ns.addresses != null) {
    const list = ns.addresses as unknown[];
    const bad = Array.isArray(list) ? list.findIndex((a) => typeof a !== 'string' || !FIELD.ipv4.safeParse(a).success) : 0;
    if (bad >= 0) return { name: self, problem: { reason: 'InvalidStatus', message: `MacvlanNet ${m.metadata.name}: status.nodes[${i}].addresses${Array.isArray(list) ? `[${bad}]` : ''} is not a list of IPv4 addresses` } };
    Object.assign(out, hostAddresses(m, i, list as string[]));
  }
  // the controller's limit on free addresses held (a small pool another node starves in); one
  // that is no count is as none: the node keeps what it holds, as an agent before the limit did
  if (Number.isSafeInteger(ns.maxFree) && (ns.maxFree as number) >= 0) out.maxFree = ns.maxFree as number;
  // only routed (inside the subnet, below): an entry that is no address is dropped, not fatal
  if (Array.isArray(ns.outsideRange)) out.outsideRange = (ns.outsideRange as unknown[]).filter((a): a is string => FIELD.ipv4.safeParse(a).success);
  // entries that are no address are dropped: the node then gives nothing back for them
  if (Array.isArray(ns.giveBack)) out.giveBack = (ns.giveBack as unknown[]).slice(0, MAX_GIVE_BACK_READ).filter((a): a is string => FIELD.ipv4.safeParse(a).success);
  // this node's external marks and when each was made, probed again a quarantine after: one that is no address is never probed
  Object.assign(out, readMarks(ns));
  const refused = refusedOf(ns.refusedRequests, usedUpWord(m, ns));
  if (refused) out.refused = refused;
  return out;
}

/** Parent precedence: per-node override, then the network's parent, then the node's interface. */
export function macvlanParent(m: MacvlanNet, self: Node | undefined, selfName: string): string | undefined {
  return macvlanBaseParent(m.spec, selfName, nodeInterface(self));
}

export function dockerMacvlanName(m: MacvlanNet): string {
  return dockerNetworkOf(m);
}

export interface MacvlanResult {
  desired?: DesiredMacvlan;
  problem?: Problem;
  /** set while the controller has not given this node its block */
  pending?: Problem;
  /** part of the controller's status left out (its addresses no container may hold), the rest used: reported instead of Ready */
  statusProblem?: Problem;
}

/** The name of this node's xnet IPAM plugin, when the agent serves one. */
export function desiredMacvlan(m: MacvlanNet, selfName: string, self: Node | undefined, localNics: ContainerNic[], ipamPlugin?: string): MacvlanResult {
  const reserved = reservedDockerNetworkWhy(dockerMacvlanName(m));
  if (reserved) return { problem: { reason: 'ReservedDockerNetwork', message: reserved } };
  const notUnicast = macvlanSubnetWhy(m.spec.subnet);
  if (notUnicast) return { problem: { reason: 'InvalidSpec', message: `MacvlanNet ${m.metadata.name}: spec.subnet ${notUnicast}` } };
  const passthru = macvlanPassthruWhy(m.spec);
  if (passthru) return { problem: { reason: 'InvalidSpec', message: `MacvlanNet ${m.metadata.name}: spec.${passthru.field} ${passthru.message}` } };
  const parent = macvlanParent(m, self, selfName);
  if (!parent) {
    const bad = nodeView(self).problem;
    if (bad && !m.spec.nodes?.find((n) => n.name === selfName)?.parent && !m.spec.parent) return { problem: bad };
    return { problem: { reason: 'ParentMissing', message: 'no parent interface: set spec.parent, spec.nodes[].parent or the Node\'s interface' } };
  }
  const ns = macvlanNodeStatus(m, selfName);
  if (ns?.problem) return { problem: ns.problem };
  const d: DesiredMacvlan = { name: m.metadata.name, parent, promiscuous: m.spec.promiscuous ?? true };
  if (m.spec.vlan) d.vlan = m.spec.vlan;
  const r: MacvlanResult = { desired: d, ...(ns?.addressProblem ? { statusProblem: ns.addressProblem } : {}) };
  const xnetIpam = (m.spec.dockerIPAM ?? 'xnet') === 'xnet';
  if (xnetIpam && !ipamPlugin) {
    return { problem: { reason: 'IpamPluginOff', message: 'spec.dockerIPAM is xnet but this node\'s agent serves no IPAM plugin (--ipam-plugin); use dockerIPAM: blocks here' } };
  }
  if (xnetIpam ? !ns : !ns?.dockerRange) {
    r.pending = { reason: 'NotAllocated', message: xnetIpam ? 'waiting for the controller to give this node its addresses' : 'waiting for the controller to give this node its address block' };
    return r;
  }
  const options: Record<string, string> = { parent: effectiveParent(d), macvlan_mode: m.spec.mode ?? 'bridge' };
  d.network = {
    name: dockerMacvlanName(m), driver: 'macvlan', subnet: m.spec.subnet, options,
    ...(xnetIpam ? { ipamDriver: ipamPlugin, ipamOptions: { [MVN_OPTION]: m.metadata.name } } : { ipRange: ns!.dockerRange }),
    labels: { [OWNER_LABEL]: `MacvlanNet/${m.metadata.name}` },
    ...(m.spec.gateway ? { gateway: m.spec.gateway } : {}),
  };
  if ((m.spec.hostShim ?? true) && ns?.shimAddress) {
    // A NIC with an invalid status gets no route; its own status says why.
    const nicIps = localNics
      .filter((n) => n.spec.network.macvlanNet === m.metadata.name)
      .map((n) => nicStatusView(n).ip)
      .filter((ip): ip is string => !!ip)
      .map((ip) => `${ip}/32`);
    // Containers' addresses: the Docker block, or each address this node's plugin may hand out.
    // (and those its containers keep outside an edited range: they are still on this host)
    const docker = xnetIpam ? [...ns.addresses ?? [], ...ns.outsideRange ?? []].map((ip) => `${ip}/32`) : [ns.dockerRange!];
    // only inside the MacvlanNet: a status naming any other address (the etcd endpoint, a DNS
    // server, 0.0.0.0/0) must not send this host's own traffic for it onto the macvlan LAN
    d.shim = { address: ns.shimAddress, routes: [...docker, ...nicIps].filter((c) => insideSubnet(m.spec.subnet, c)) };
  }
  return r;
}

/** Whether `cidr` (an address as /32, or a block) lies inside `subnet`; false when it is not a CIDR. */
function insideSubnet(subnet: string, cidr: string): boolean {
  try { return cidrCovers(parseCidr(subnet), parseCidr(cidr, false)); } catch { return false; }
}

/** The interface each MacvlanNet attaches to on this node (its VLAN link when it has one), by MacvlanNet. */
export function macvlanParentsOn(mvns: MacvlanNet[], self: Node | undefined, node: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of mvns) {
    const p = macvlanParent(m, self, node);
    if (p) out.set(m.metadata.name, effectiveParent({ parent: p, vlan: m.spec.vlan }));
  }
  return out;
}
