// No NAT inside the cluster: a nat rule ahead of Docker's MASQUERADE keeps the source
// address of cluster->cluster traffic, and a filter rule lets routed cluster traffic reach
// the bridge (Docker's FORWARD policy is DROP for anything it did not publish). Every rule
// names one of this node's HostSubnets (its subnet, and its bridge where the table allows):
// a Docker network of the user's whose addresses fall inside a ClusterNetwork's CIDR keeps
// Docker's own NAT and filtering. The host itself reaches other hosts' containers from its
// gateway address on a HostSubnet of the same ClusterNetwork (hostSnatRules): flannel and
// Calico users expect `curl <container>` from any host to work.
import type { ChainDump } from '../../netlink/iptables.js';
import { cidrCovers, formatCidr, parseCidr } from '../../ip/ipv4.js';
import { ifName } from '../../api/fields.js';
import type { Op, Plan } from './ops.js';

export const NAT_CHAIN = 'XNET-POSTROUTING';
export const FWD_CHAIN = 'XNET-FORWARD';

/** One of this node's HostSubnets as the rules see it. */
export interface LocalSubnet {
  bridge: string;
  subnet: string;
  /** the bridge's address in the subnet (the containers' gateway) */
  gateway?: string;
  /** the CIDR of the ClusterNetwork the subnet belongs to */
  clusterCidr?: string;
  /** the HostSubnet's name: its Docker network may still be on another bridge (heldBridges) */
  hostSubnet?: string;
}

export interface DesiredNat {
  /** every ClusterNetwork CIDR: traffic between any two of them is cluster traffic */
  clusterCidrs: string[];
  /** this node's HostSubnets: same-bridge traffic stays under Docker's ICC setting */
  local: LocalSubnet[];
  /**
   * the names of the HostSubnets this node serves (all of its own, those that get no rules and
   * those whose key does not decode too): a Docker network labelled for one is xnet's, never
   * returned to Docker's chains; every other one is, whatever its label says (owner.ts)
   */
  served?: string[];
}

const sorted = (xs: string[]) => [...new Set(xs)].sort();
const localSorted = (d: DesiredNat) => [...new Map(d.local.map((l) => [`${l.bridge} ${l.subnet}`, l])).entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, l]) => l);

export interface ObservedNat {
  nat: ChainDump;
  filter: ChainDump;
  ipForward: string;
  /**
   * Docker's bridge networks (docker0, the user's own, xnet's): bridge and subnet; undefined
   * while Docker has not answered yet (the chain's returns for them are kept as they are)
   */
  dockerNetworks?: ForeignNetwork[];
}

/** A Docker bridge network the NAT pass returns to Docker's chains unless it is xnet's. */
export interface ForeignNetwork {
  bridge: string;
  subnet: string;
  /** the HostSubnet its owner label names (owner.ts labelledFor): xnet's when this node serves it */
  hostSubnet?: string;
}

/** From a local HostSubnet to any ClusterNetwork: not masqueraded (POSTROUTING cannot match the in-interface). */
export function natRules(d: DesiredNat): string[] {
  const cidrs = sorted(d.clusterCidrs);
  const keep = sorted(d.local.map((l) => l.subnet)).flatMap((s) => cidrs.map((t) => `-s ${s} -d ${t} -j ACCEPT`));
  return [...keep, ...hostSnatRules(d)];
}

/**
 * The host's own traffic into a ClusterNetwork, from an address outside it (its underlay
 * address, say), leaves from its gateway on a local HostSubnet of that ClusterNetwork: every
 * other host's XNET-FORWARD admits cluster sources only, and the answer is routed back to this
 * host's subnet. As the source address a route's `src` would pick, but a route with a `src` is
 * flushed by the kernel with its address (a bridge deleted would take every peer route with
 * it). In the rules' text as iptables-save prints it; the first local subnet (sorted as the
 * rules are) gives the address. Forwarded traffic (a source that is not the host's) is left
 * to Docker.
 */
function hostSnatRules(d: DesiredNat): string[] {
  const from = new Map<string, string>();
  for (const l of localSorted(d)) if (l.clusterCidr && l.gateway && !from.has(l.clusterCidr)) from.set(l.clusterCidr, l.gateway);
  return sorted(d.clusterCidrs).flatMap((c) => {
    const gw = from.get(c);
    return gw ? [`! -s ${c} -d ${c} -m addrtype --src-type LOCAL -j SNAT --to-source ${gw}`] : [];
  });
}

/**
 * Out of a local HostSubnet's bridge to the cluster, and from the cluster into it. A Docker
 * network that is not xnet's (on no local HostSubnet's bridge, and not labelled for a HostSubnet
 * this node serves: owner.ts; a label alone is anyone's to write) whose subnet lies in a
 * ClusterNetwork's CIDR (only such traffic could match an ACCEPT below) has its traffic sent
 * back to Docker's own chains first, by its bridge and its subnet both: a user's network there
 * keeps Docker's isolation, and a bridge that is also the host's underlay (dockerd
 * --bridge=br0) still carries the cluster's traffic.
 */
export function forwardRules(d: DesiredNat, dockerNetworks?: ForeignNetwork[], current: string[] = []): string[] {
  const cidrs = sorted(d.clusterCidrs);
  const local = localSorted({ ...d, local: [...d.local, ...heldBridges(d.local, dockerNetworks ?? heldInChain(d.local, current))] });
  if (!local.length || !cidrs.length) return [];
  const mine = new Set(local.map((l) => l.bridge));
  const served = new Set(d.served ?? []);
  const foreign = (n: ForeignNetwork) => !mine.has(n.bridge) && !(n.hostSubnet !== undefined && served.has(n.hostSubnet));
  const docker = dockerNetworks === undefined ? current.filter((r) => FOREIGN_RETURN.test(r))
    : foreignInCluster(dockerNetworks.filter(foreign), cidrs).flatMap((n) => [`-s ${n.subnet} -i ${n.bridge} -j RETURN`, `-d ${n.subnet} -o ${n.bridge} -j RETURN`]);
  const keepIcc = sorted([...mine]).map((b) => `-i ${b} -o ${b} -j RETURN`);
  const accept = local.flatMap((l) => cidrs.flatMap((t) => [`-s ${l.subnet} -d ${t} -i ${l.bridge} -j ACCEPT`, `-s ${t} -d ${l.subnet} -o ${l.bridge} -j ACCEPT`]));
  return [...docker, ...keepIcc, ...accept];
}

/**
 * A local HostSubnet's Docker network still on the bridge it had before `spec.bridge` was edited:
 * Docker cannot rename it, so it waits for its containers to leave (NetworkInUse) and they stay
 * on the old bridge meanwhile. Its rules stay with it, as the old value of any option Docker
 * cannot change in place holds until then; naming only the new bridge, which does not exist
 * yet, cut the node's containers off every other host.
 */
function heldBridges(local: LocalSubnet[], nets: ForeignNetwork[]): LocalSubnet[] {
  return local.flatMap((l) => nets
    .filter((n) => l.hostSubnet !== undefined && n.hostSubnet === l.hostSubnet && n.subnet === l.subnet && n.bridge !== l.bridge && ifName.safeParse(n.bridge).success)
    .map((n) => ({ ...l, bridge: n.bridge })));
}

/**
 * While Docker has not answered (the agent just started, its list slower than FOREIGN_WAIT_MS),
 * the old bridges the chain admits a local HostSubnet's subnet from now, as heldBridges wrote
 * them: kept as the returns are. Dropped, the containers still on the old bridge were cut off
 * every other host until the next pass, which Docker's late answer does not queue.
 */
function heldInChain(local: LocalSubnet[], current: string[]): ForeignNetwork[] {
  const bySubnet = new Map(local.map((l) => [l.subnet, l.hostSubnet]));
  return current.flatMap((r) => {
    const m = HELD_ACCEPT.exec(r);
    const hostSubnet = m ? bySubnet.get(m[1]) : undefined;
    return m && hostSubnet !== undefined ? [{ bridge: m[2], subnet: m[1], hostSubnet }] : [];
  });
}

/** A local subnet's traffic admitted out of a bridge, as forwardRules writes it. */
const HELD_ACCEPT = /^-s (\S+) -d \S+ -i (\S+) -j ACCEPT$/;

/** A return of another Docker network's traffic, as forwardRules writes it (the ICC line has both -i and -o). */
const FOREIGN_RETURN = /^-(s|d) \S+ -(i|o) \S+ -j RETURN$/;

/**
 * The foreign networks inside a cluster CIDR, sorted; one with an unreadable subnet is left out.
 * A network around a cluster CIDR (the host's underlay as a Docker bridge on 10.0.0.0/8) is not
 * returned: the cluster's traffic crosses it. So is one whose bridge name is not a plain
 * interface name (ifName): Docker takes any name the kernel does (`br"x`), and iptables-restore
 * reads a quote in a rule as the start of a quoted word, so the rule lost its target, never
 * read back as written, and the agent rewrote its chain in a loop (some 30 times a second).
 */
function foreignInCluster(nets: ForeignNetwork[], cidrs: string[]): ForeignNetwork[] {
  const cluster = cidrs.map((c) => parseCidr(c, false));
  const out = new Map<string, ForeignNetwork>();
  for (const n of nets) {
    if (!ifName.safeParse(n.bridge).success) continue;
    let c;
    try { c = parseCidr(n.subnet, false); } catch { continue; }
    if (cluster.some((x) => cidrCovers(x, c))) out.set(`${n.bridge} ${formatCidr(c)}`, { bridge: n.bridge, subnet: formatCidr(c) });
  }
  return [...out.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, n]) => n);
}

const JUMP_NAT = `-j ${NAT_CHAIN}`;
const JUMP_FWD = `-j ${FWD_CHAIN}`;

function chainLines(chain: string, rules: string[]): string[] {
  // Declaring an existing user chain under --noflush empties it, so this rewrites it whole.
  return [`:${chain} - [0:0]`, ...rules.map((r) => `-A ${chain} ${r}`)];
}

function sameList(a: string[] | undefined, b: string[]): boolean {
  return !!a && a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The jump must sit above every rule whose target could decide first (`blocking`), and below
 * `after` (the admin's own chain, DOCKER-USER, which Docker runs first) when that is above them.
 */
function jumpLines(builtin: string, jump: string, rules: string[] | undefined, blocking: RegExp, after?: string): string[] {
  const list = rules ?? [];
  const at = list.indexOf(jump);
  const firstBlocking = list.findIndex((r) => blocking.test(r));
  const limit = (l: string[]) => { const b = l.findIndex((r) => blocking.test(r)); return b < 0 ? l.length : b; };
  const afterAt = (l: string[]) => { const i = after ? l.indexOf(after) : -1; return i < limit(l) ? i : -1; };
  if (at >= 0 && at > afterAt(list) && (firstBlocking < 0 || at < firstBlocking)) return [];
  // every copy goes (one -D deletes one): a copy left above the admin's chain would stay first
  const rest = list.filter((r) => r !== jump);
  return [...Array.from({ length: list.length - rest.length }, () => `-D ${builtin} ${jump}`), `-I ${builtin} ${afterAt(rest) + 2} ${jump}`];
}

/** What decides a forwarded packet before our chain could: a drop, or any of Docker's chains but the admin's DOCKER-USER. */
const FORWARD_BLOCKING = /-j (DROP|REJECT|DOCKER(?!-USER( |$))[A-Z0-9-]*)( |$)/;

export function planNat(d: DesiredNat, o: ObservedNat): Plan {
  const ops: Op[] = [];
  if (o.ipForward !== '1') ops.push({ op: 'sysctl.set', values: { 'net.ipv4.ip_forward': '1' } });
  const nat: string[] = [];
  const want = natRules(d);
  if (!sameList(o.nat.rules[NAT_CHAIN], want) || !o.nat.chains.includes(NAT_CHAIN)) nat.push(...chainLines(NAT_CHAIN, want));
  nat.push(...jumpLines('POSTROUTING', JUMP_NAT, o.nat.rules.POSTROUTING, /-j (MASQUERADE|SNAT)( |$)/));
  if (nat.length) ops.push({ op: 'iptables.restore', table: 'nat', lines: nat });
  const filter: string[] = [];
  const wantF = forwardRules(d, o.dockerNetworks, o.filter.rules[FWD_CHAIN]);
  if (!sameList(o.filter.rules[FWD_CHAIN], wantF) || !o.filter.chains.includes(FWD_CHAIN)) filter.push(...chainLines(FWD_CHAIN, wantF));
  filter.push(...jumpLines('FORWARD', JUMP_FWD, o.filter.rules.FORWARD, FORWARD_BLOCKING, '-j DOCKER-USER'));
  if (filter.length) ops.push({ op: 'iptables.restore', table: 'filter', lines: filter });
  return { ops, problems: [] };
}
