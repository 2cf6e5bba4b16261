// One implementation of each address rule, used by every party that applies it: the validator
// (`xctl apply`, validate.ts), the allocator (../ipam/plan.ts, ../controller/nics.ts), the
// audit (../ipam/check.ts), the controller's check of what nodes report, and the agent before
// it touches the kernel. A rule that lived in two places would drift (an address `apply`
// accepted that the allocator then refused).
import {
  cidrContains, cidrCovers, cidrsOverlap, formatCidr, formatIPv4, lastAddress, parseCidr, parseIPv4, type Cidr,
} from '../ip/ipv4.js';
import { cidrInterval, contains, intersect, subtract, type Interval } from '../ipam/ranges.js';
import type { MacvlanNet } from './types.js';

// ---------------------------------------------------------------- addresses of a subnet

/** 'network' / 'broadcast' when `ip` is one of those of `sub` (subnets of /31 and /32 have none). */
export function reservedAddressWhy(sub: Cidr, ip: number): string | undefined {
  if (sub.prefix > 30) return undefined;
  if (ip === sub.base) return 'network';
  if (ip === lastAddress(sub)) return 'broadcast';
  return undefined;
}

const NOT_UNICAST: Array<[string, string]> = [
  ['0.0.0.0/8', 'is in 0.0.0.0/8 ("this network")'],
  ['127.0.0.0/8', 'is a loopback address'],
  ['169.254.0.0/16', 'is a link-local address'],
  ['224.0.0.0/4', 'is a multicast address'],
  ['240.0.0.0/4', 'is a reserved or the broadcast address'],
];

/** Why `text` cannot be a host's unicast IPv4 address, or undefined when it can. */
export function unicastWhy(text: string): string | undefined {
  let ip: number;
  try { ip = parseIPv4(text); } catch { return 'is not an IPv4 address'; }
  return NOT_UNICAST.find(([c]) => cidrContains(parseCidr(c), ip))?.[1];
}

// ---------------------------------------------------------------- where xnet may hand out

/** The subnet, gateway and Docker range of one HostSubnet, as the controller allocated them. */
export interface SubnetLayout { subnet: string; gateway: string; dockerRange: string; bridge?: string }

/** xnet's part of a HostSubnet: the subnet minus Docker's range, network, gateway and broadcast. */
export function hostSubnetXnetRange(layout: SubnetLayout): Interval[] {
  const s = parseCidr(layout.subnet);
  const bcast = lastAddress(s);
  const gw = parseIPv4(layout.gateway);
  return subtract([cidrInterval(s)], [
    cidrInterval(parseCidr(layout.dockerRange)),
    { first: s.base, last: s.base }, { first: bcast, last: bcast }, { first: gw, last: gw },
  ]);
}

/**
 * Where xnet may hand out addresses on a MacvlanNet: ipRange ∩ subnet minus exclude, gateway,
 * network, broadcast. Without spec.gateway the subnet's first address is Docker's gateway on
 * every node (Docker's own IPAM picks it, and xnet's plugin answers Docker with it), so it is
 * held back the same.
 */
export function macvlanRange(spec: MacvlanNet['spec']): Interval[] {
  const subnet = parseCidr(spec.subnet);
  const range = spec.ipRange ? parseCidr(spec.ipRange) : subnet;
  const cut: Interval[] = (spec.exclude ?? []).map((e) => cidrInterval(parseCidr(e)));
  cut.push({ first: subnet.base, last: subnet.base }, { first: lastAddress(subnet), last: lastAddress(subnet) });
  const g = spec.gateway ? parseIPv4(spec.gateway) : subnet.base + 1;
  cut.push({ first: g, last: g });
  return subtract(intersect([cidrInterval(subnet)], [cidrInterval(range)]), cut);
}

// ---------------------------------------------------------------- a ContainerNic's static address

/**
 * What a HostSubnet that leaves them out gets (the controller's layout, and every check that
 * runs before the controller filled them in): the gateway is the first address, Docker's
 * range the upper half.
 */
export function hostSubnetDefaults(subnetText: string): { gateway: string; dockerRange: string } {
  const subnet = parseCidr(subnetText);
  const size = 2 ** (32 - subnet.prefix);
  return { gateway: formatIPv4(subnet.base + 1), dockerRange: formatCidr({ base: subnet.base + size / 2, prefix: Math.min(32, subnet.prefix + 1) }) };
}

/** Why a NIC may not have `ipText` on ClusterNetwork `cn`, given its node's HostSubnet when known. */
export function clusterStaticIpWhy(
  cn: { name: string; cidr: string; reserved?: string[] }, ipText: string,
  hs?: { name: string; node: string; subnet: string; gateway?: string; dockerRange?: string },
): string | undefined {
  const ip = parseIPv4(ipText);
  if (!cidrContains(parseCidr(cn.cidr), ip)) return `${ipText} is outside ClusterNetwork "${cn.name}" (${cn.cidr})`;
  const r = cn.reserved?.find((x) => cidrContains(parseCidr(x), ip));
  if (r) return `${ipText} is in ClusterNetwork "${cn.name}"'s reserved range ${r}`;
  if (!hs) return undefined;
  const sub = parseCidr(hs.subnet);
  if (!cidrContains(sub, ip)) return `${ipText} is outside node ${hs.node}'s subnet ${hs.subnet} (HostSubnet "${hs.name}")`;
  // before the controller filled them in, the ones it will fill in
  const { gateway = hostSubnetDefaults(hs.subnet).gateway, dockerRange = hostSubnetDefaults(hs.subnet).dockerRange } = hs;
  if (gateway === ipText) return `${ipText} is the gateway of HostSubnet "${hs.name}"${hs.gateway ? '' : ' (its first address: it sets no gateway)'}`;
  const bad = reservedAddressWhy(sub, ip);
  if (bad) return `${ipText} is the ${bad} address of ${hs.subnet}`;
  // Docker's own IPAM hands out the dockerRange without asking xnet: a static IP there
  // would sooner or later be given to a container too.
  if (cidrContains(parseCidr(dockerRange), ip)) {
    return `${ipText} is in ${dockerRange}, the dockerRange of HostSubnet "${hs.name}" that Docker hands out itself${hs.dockerRange ? '' : ' (its upper half: it sets no dockerRange)'}`;
  }
  return undefined;
}

/**
 * Why an address of the subnet that passed the checks above is still not one macvlanRange
 * hands out: outside the ipRange, or (no spec.gateway) the first address, Docker's gateway.
 */
function heldBackWhy(m: { name: string; spec: MacvlanNet['spec'] }, ipText: string, ip: number): string {
  const s = m.spec;
  if (s.ipRange && !cidrContains(parseCidr(s.ipRange), ip)) return `${ipText} is outside MacvlanNet "${m.name}"'s ipRange ${s.ipRange}, the part xnet hands out`;
  if (!s.gateway && ip === parseCidr(s.subnet).base + 1) {
    return `${ipText} is the default gateway Docker uses on ${s.subnet} (MacvlanNet "${m.name}" sets no spec.gateway), so xnet never hands it out; set spec.gateway or pick another address`;
  }
  return `${ipText} is not among the addresses MacvlanNet "${m.name}" hands out on ${s.subnet}`;
}

export interface MacvlanNodePart { name: string; dockerRange?: string; previousDockerRange?: string; shimAddress?: string; addresses?: string[]; outsideRange?: string[] }

/**
 * Why a NIC may not have `ipText` on MacvlanNet `m` (whose nodes hold `nodes`' blocks, shims
 * and, with `dockerIPAM: xnet`, the addresses claimed for their IPAM plugins; `external` the
 * addresses that answered an ARP probe). Each of those is a claim the allocator will not give
 * a NIC (IPConflict), so `xctl apply` refuses it too.
 */
export function macvlanStaticIpWhy(m: { name: string; spec: MacvlanNet['spec'] }, ipText: string, nodes: MacvlanNodePart[] = [], external: string[] = []): string | undefined {
  const s = m.spec;
  const ip = parseIPv4(ipText);
  const sub = parseCidr(s.subnet);
  if (!cidrContains(sub, ip)) return `${ipText} is outside MacvlanNet "${m.name}" (${s.subnet})`;
  if (s.gateway === ipText) return `${ipText} is the gateway of MacvlanNet "${m.name}"`;
  const bad = reservedAddressWhy(sub, ip);
  if (bad) return `${ipText} is the ${bad} address of ${s.subnet}`;
  const ex = s.exclude?.find((x) => cidrContains(parseCidr(x), ip));
  if (ex) return `${ipText} is in MacvlanNet "${m.name}"'s exclude range ${ex}`;
  if (!contains(macvlanRange(s), ip)) return heldBackWhy(m, ipText, ip);
  for (const n of nodes) {
    if (n.shimAddress && n.shimAddress.split('/')[0] === ipText) return `${ipText} is node ${n.name}'s host shim address on MacvlanNet "${m.name}"`;
    if (n.dockerRange && cidrContains(parseCidr(n.dockerRange), ip)) {
      return `${ipText} is in ${n.dockerRange}, node ${n.name}'s block that Docker hands out itself on MacvlanNet "${m.name}"`;
    }
    // a moved block stays claimed while the node's Docker still has it (controller/macvlan-moving.ts)
    if (n.previousDockerRange && cidrContains(parseCidr(n.previousDockerRange), ip)) {
      return `${ipText} is in ${n.previousDockerRange}, the block node ${n.name}'s Docker still hands out on MacvlanNet "${m.name}" (it moved to ${n.dockerRange ?? 'another block'}; freed once its containers leave it)`;
    }
    if (n.addresses?.includes(ipText)) return `${ipText} is claimed for node ${n.name}'s Docker IPAM plugin on MacvlanNet "${m.name}" (its containers' addresses and those at hand)`;
    // kept for a container an edit left outside the range; listed here until the next round after the range grew back
    if (n.outsideRange?.includes(ipText)) return `${ipText} is used by a container on node ${n.name} on MacvlanNet "${m.name}" (claimed for it until the container is removed)`;
  }
  if (external.includes(ipText)) return `${ipText} answered an ARP probe on MacvlanNet "${m.name}": someone outside xnet uses it`;
  return undefined;
}

// ---------------------------------------------------------------- a HostSubnet inside its ClusterNetwork

/** Most hostPrefix blocks one HostSubnet may span: each is a claim in the one transaction that allocates it. */
export const MAX_HOST_SUBNET_BLOCKS = 64;

/** What hostSubnetFitWhy reads of a ClusterNetwork. */
export interface HostSubnetPool { name: string; cidr: string; hostPrefix: number }

/**
 * Why `subnet` cannot be a HostSubnet's subnet in ClusterNetwork `cn`: the cidr is no
 * ClusterNetwork's (clusterCidrWhy), the subnet lies outside it, or it is
 * larger than one hostPrefix block although the HostSubnet pins no subnet (`pinned`: it has a
 * spec.subnet; the controller gives an unpinned one exactly one block, a pinned one the blocks
 * it covers), or more blocks than the controller claims for one HostSubnet. Checked by
 * `xctl apply`, the controller and every agent: on its own HostSubnets and before it routes a peer's.
 */
export function hostSubnetFitWhy(subnet: string, cn: HostSubnetPool, pinned: boolean): string | undefined {
  return hostSubnetFit(subnet, cn, pinned)?.message;
}

/**
 * hostSubnetFitWhy with the controller's reason: `OutOfRange` for a subnet outside the
 * ClusterNetwork, `InvalidSpec` for the rest (a pool xnet does not route, too many blocks).
 */
export function hostSubnetFit(subnet: string, cn: HostSubnetPool, pinned: boolean): { reason: 'OutOfRange' | 'InvalidSpec'; message: string } | undefined {
  const pool = clusterCidrWhy(cn.cidr);
  if (pool) return { reason: 'InvalidSpec', message: `ClusterNetwork "${cn.name}" is no pool xnet routes: ${pool}` };
  const s = parseCidr(subnet, false);
  if (!cidrCovers(parseCidr(cn.cidr, false), s)) return { reason: 'OutOfRange', message: `${subnet} is not inside ClusterNetwork "${cn.name}" (${cn.cidr})` };
  if (s.prefix >= cn.hostPrefix) return undefined;
  if (!pinned) return { reason: 'InvalidSpec', message: `${subnet} is larger than ClusterNetwork "${cn.name}"'s hostPrefix /${cn.hostPrefix}, and the HostSubnet pins no spec.subnet` };
  const blocks = 2 ** (cn.hostPrefix - s.prefix);
  if (blocks > MAX_HOST_SUBNET_BLOCKS) return { reason: 'InvalidSpec', message: `${subnet} spans ${blocks} /${cn.hostPrefix} blocks of ClusterNetwork "${cn.name}"; at most ${MAX_HOST_SUBNET_BLOCKS} are supported` };
  return undefined;
}

/** A HostSubnet on a reserved range of its ClusterNetwork: which entry of spec.reserved, and why. */
export interface ReservedOverlap { index: number; range: string; message: string }

/**
 * Where `subnet` overlaps ClusterNetwork `cn`'s reserved ranges, which are never handed out
 * (the allocator skips them: ../ipam/plan.ts). A HostSubnet there would hand its addresses
 * to containers. Checked by `xctl apply` on a pinned spec.subnet and on a ClusterNetwork
 * edit that reserves a block a HostSubnet holds. Not part of hostSubnetFitWhy: that rule is
 * also the agents' check before they make a bridge or route a subnet, and a reserved range is
 * an allocation rule, not a routing one (an agent must not tear a bridge down over it).
 */
export function hostSubnetReservedWhy(subnet: string, cn: { name: string; reserved?: string[] }): ReservedOverlap | undefined {
  const s = parseCidr(subnet, false);
  const index = (cn.reserved ?? []).findIndex((r) => cidrsOverlap(s, parseCidr(r, false)));
  if (index < 0) return undefined;
  const range = cn.reserved![index];
  return { index, range, message: `${subnet} overlaps ClusterNetwork "${cn.name}"'s reserved range ${range}, which is never handed out` };
}

// ---------------------------------------------------------------- what a node may be told to route

/** Shortest prefix the agent ever routes: a /0-/7 would capture a large part of the Internet. */
export const MIN_ROUTE_PREFIX = 8;

/** The host's own addresses with their prefix ("198.18.0.11/24"): its underlay and local subnets. */
export type LocalAddresses = string[];

function localCidrs(local: LocalAddresses): Array<{ text: string; ip: number; net: Cidr }> {
  return local.flatMap((a) => {
    try {
      const [addr, len] = a.split('/');
      const ip = parseIPv4(addr);
      return [{ text: a, ip, net: parseCidr(`${addr}/${len ?? 32}`, false) }];
    } catch { return []; }
  });
}

/**
 * Why a ClusterNetwork's cidr cannot be one: shorter than /8 (xnet's NAT and forwarding rules
 * for it would take in nearly every address the hosts reach, and no route that short is ever
 * made), or not unicast space. Checked by the validator and by the agent before its rules.
 */
export function clusterCidrWhy(cidr: string): string | undefined {
  const c = parseCidr(cidr, false);
  if (c.prefix < MIN_ROUTE_PREFIX) return `${cidr} is a /${c.prefix}: a ClusterNetwork must be a /${MIN_ROUTE_PREFIX} or longer`;
  return unicastSpaceWhy(cidr);
}

function unicastSpaceWhy(cidr: string): string | undefined {
  const c = parseCidr(cidr, false);
  const special = NOT_UNICAST.find(([x]) => cidrsOverlap(c, parseCidr(x)));
  return special ? `${cidr} overlaps ${special[0]}, which is not unicast address space` : undefined;
}

/**
 * Why a MacvlanNet's subnet cannot be one: it is a segment of real hosts' addresses, so it
 * must be unicast space (not loopback, link-local, multicast, "this network" or reserved).
 * Checked by the validator and by the agent before it makes the segment.
 */
export function macvlanSubnetWhy(cidr: string): string | undefined {
  return unicastSpaceWhy(cidr);
}

/**
 * Why a MacvlanNet cannot have its `mode` passthru as written (undefined: it can, or it is not
 * passthru), and the spec field to name. A passthru macvlan takes its parent over: every
 * unicast frame of the parent goes to it, and a MAC set on it is set on the parent (the
 * kernel's passthru port). So the parent is named (without spec.parent it is the Node's
 * interface, which carries the host's own traffic) and no host shim is asked for (the parent
 * takes one macvlan only). Read by the validator and by the agent; the agent also refuses a
 * named parent the host relies on (../agent/passthru.ts).
 */
export function macvlanPassthruWhy(spec: Pick<MacvlanNet['spec'], 'mode' | 'parent' | 'hostShim'>): { field: 'mode' | 'hostShim'; message: string } | undefined {
  if (spec.mode !== 'passthru') return undefined;
  if (!spec.parent) {
    return { field: 'mode', message: 'passthru needs spec.parent: a passthru macvlan takes its parent over (every frame sent to it, and its MAC), and without spec.parent the parent is the Node\'s interface, which carries the host\'s own traffic; name an interface the host does not use, or use bridge' };
  }
  if (spec.hostShim ?? true) {
    return { field: 'hostShim', message: 'must be false with mode passthru: a passthru parent takes one macvlan only, and the host shim would take it from the containers' };
  }
  return undefined;
}

/**
 * Why the agent must not install `dst via via` on a host that holds `local`: a default or very
 * short route, a destination covering one of its own addresses or overlapping a network it is
 * directly on (the underlay, a bridge), or a next hop that is not a peer's unicast address.
 */
export function peerRouteWhy(dst: string, via: string | undefined, local: LocalAddresses): string | undefined {
  const d = parseCidr(dst, false);
  if (d.prefix < MIN_ROUTE_PREFIX) return `${dst} is a /${d.prefix}: xnet never routes prefixes shorter than /${MIN_ROUTE_PREFIX}`;
  const special = NOT_UNICAST.find(([c]) => cidrsOverlap(d, parseCidr(c)));
  if (special) return `${dst} overlaps ${special[0]}, which is not unicast address space`;
  const mine = localCidrs(local);
  const held = mine.find((l) => cidrContains(d, l.ip));
  if (held) return `${dst} covers ${held.text.split('/')[0]}, an address this node holds`;
  const net = mine.find((l) => cidrsOverlap(d, l.net));
  if (net) return `${dst} overlaps ${formatCidr(net.net)}, a network this node is directly on`;
  if (via !== undefined) {
    const bad = unicastWhy(via);
    if (bad) return `next hop ${via} ${bad}`;
    if (mine.some((l) => l.ip === parseIPv4(via))) return `next hop ${via} is this node's own address`;
  }
  return undefined;
}

// ---------------------------------------------------------------- the address a node reports

/** Addresses xnet hands out: `what` names the object, `cidr` says where, `ranges` (when given) exactly which. */
export interface AddressPool { what: string; cidr: string; ranges?: Interval[] }

/** A ClusterNetwork's whole cidr: its HostSubnets are routed to the nodes that hold them. */
export const clusterNetworkPool = (name: string, cidr: string): AddressPool => ({ what: `ClusterNetwork "${name}"`, cidr });

/**
 * What a MacvlanNet hands out (ipRange less exclude and the gateway): the rest of its subnet may
 * be the hosts' own LAN addresses, which `exclude` is for. undefined for a spec that does not parse.
 */
export function macvlanNetPool(name: string, spec: MacvlanNet['spec']): AddressPool | undefined {
  try { return { what: `MacvlanNet "${name}"`, cidr: spec.ipRange ?? spec.subnet, ranges: macvlanRange(spec) }; } catch { return undefined; }
}

function poolHolding(pools: AddressPool[], ip: number): AddressPool | undefined {
  return pools.find((p) => { try { return p.ranges ? contains(p.ranges, ip) : cidrContains(parseCidr(p.cidr), ip); } catch { return false; } });
}

/**
 * A Node's address as peers route by it, and where it comes from: the admin's spec.address, or
 * (`status`) the address its agent reported and the controller accepted (the controller's own
 * status.address: controller/node-address.ts).
 */
export interface RoutedNodeAddress { node: string; address: string; from: 'spec' | 'status' }

const whoseAddress = (n: RoutedNodeAddress) => (n.from === 'spec'
  ? `the spec.address of Node "${n.node}"`
  : `the address Node "${n.node}" reported (its status.address, which the controller accepted)`);

/**
 * The other side of nodeAddressWhy: why a pool (new, or edited) must not take in the address
 * where peers route a Node's subnets. undefined when it holds none of them.
 */
export function poolOverNodeWhy(pool: AddressPool, nodes: RoutedNodeAddress[]): string | undefined {
  const n = nodes.find((x) => !unicastWhy(x.address) && poolHolding([pool], parseIPv4(x.address)));
  if (!n) return undefined;
  if (pool.ranges) return `${pool.what} would hand out ${n.address}, ${whoseAddress(n)}; a host's own address belongs in spec.exclude`;
  return `${pool.cidr} holds ${n.address}, ${whoseAddress(n)}: a ClusterNetwork's addresses are handed out and routed to the nodes, so it must not hold the hosts' own (underlay) addresses`;
}

/**
 * The pool part of nodeAddressWhy: why a (unicast IPv4) node address must not be routed to,
 * being inside a pool xnet hands out. Also asked of an address accepted before, since a pool
 * can be made over it later (around xctl's check, which refuses that: poolOverNodeWhy).
 */
export function nodeAddressInPoolWhy(address: string, pools: AddressPool[]): string | undefined {
  const pool = poolHolding(pools, parseIPv4(address));
  if (pool?.ranges) return `${address} is one of the addresses ${pool.what} hands out (${pool.cidr}); a host's own address belongs in its spec.exclude`;
  if (pool) return `${address} is inside ${pool.what} (${pool.cidr}), whose addresses xnet hands out`;
  return undefined;
}

/**
 * A refused value as a message names it: a node's agent reports what it likes (a megabyte), and
 * the message goes into the Node's status, which must stay writable and readable.
 */
const clipped = (text: string) => (text.length > 64 ? `${text.slice(0, 61)}...` : text);

/**
 * Why `address` must not be where peers reach `node` (reported by its agent, or an admin's
 * spec.address): not a unicast IPv4 address, one a pool of xnet hands out, or already the
 * address of another Node.
 */
export function nodeAddressWhy(node: string, address: unknown, pools: AddressPool[], others: Array<{ node: string; address?: string }>): string | undefined {
  if (typeof address !== 'string') return `${clipped(JSON.stringify(address) ?? String(address))} is not an IPv4 address`;
  const bad = unicastWhy(address);
  if (bad) return `${clipped(address)} ${bad}`;
  const inPool = nodeAddressInPoolWhy(address, pools);
  if (inPool) return inPool;
  const other = others.find((o) => o.node !== node && o.address === address);
  if (other) return `${address} is already the address of Node "${other.node}"`;
  return undefined;
}

