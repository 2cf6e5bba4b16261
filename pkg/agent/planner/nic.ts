// One ContainerNic: a veth pair on the node's bridge or a macvlan on the parent, its container
// end moved into the container's namespace, renamed, addressed, up, with the default route
// when asked (default-route.ts) and a route to the rest of its ClusterNetwork where the
// container has none (cluster-route.ts). What already matches is adopted: no operation touches a working NIC.
import type { Addr, Link, Route } from '../../netlink/types.js';
import type { HostState } from '../../netlink/ip.js';
import { defaultRouteDifference, planDefaultRoute } from './default-route.js';
// the NIC's Ready message note, for the reconciler that says it (reconcilers/nics.ts)
export { noDefaultRouteNote } from './default-route.js';
import { clusterRouteDifference, planClusterRoute } from './cluster-route.js';
import { bridgeAlias, isNicHostLink, nicAlias, nicOfAlias, tempName, vethHostName } from './names.js';
import type { ContainerNs, IpOp, Op, Plan, Problem } from './ops.js';

export interface DesiredNic {
  /** the ContainerNic's name */
  name: string;
  ifName: string;
  /** "10.76.1.84/24" */
  cidr: string;
  mac?: string;
  gateway?: string;
  defaultRoute: boolean;
  /** a ClusterNetwork NIC's network CIDR: routed through the NIC where the container has no route to it */
  clusterCidr?: string;
  mtu?: number;
  /** the running container's network namespace, as the agent pinned it */
  netns: ContainerNs;
  /** a veth goes onto the bridge of HostSubnet `hostSubnet`, which must carry its mark (bridgeAlias) */
  attach: { kind: 'veth'; bridge: string; hostSubnet: string } | { kind: 'macvlan'; parent: string; mode: string };
}

/**
 * An interface's sysctl key. sysctl reads dots as separators, so `eth1.5` (an ifName may hold
 * a dot) would name conf/eth1/5; written with slashes, the dots of the name stay its own.
 */
export const confKey = (ifName: string, leaf: string): string =>
  (ifName.includes('.') ? `net/ipv4/conf/${ifName}/${leaf}` : `net.ipv4.conf.${ifName}.${leaf}`);

export const NIC_ARP_SYSCTLS = (ifName: string): Record<string, string> => ({
  'net.ipv4.conf.all.arp_ignore': '1',
  [confKey(ifName, 'arp_ignore')]: '1',
  [confKey(ifName, 'arp_announce')]: '2',
  ...ARP_NOTIFY(ifName),
});

/**
 * The kernel sends a gratuitous ARP when the NIC's MAC changes (and when it comes up): peers
 * that learnt the kernel's MAC while the declared one was held elsewhere switch at once,
 * instead of sending to a MAC nobody has until their neighbour entry ages out.
 */
const ARP_NOTIFY = (ifName: string): Record<string, string> => ({ [confKey(ifName, 'arp_notify')]: '1' });

export interface ContainerState {
  links: Link[];
  addrs: Addr[];
  routes: Route[];
}

/**
 * The MAC xnet sets on the NIC: none on a passthru macvlan, which has its parent's. There the
 * kernel sets a new MAC on the parent itself (a host interface), so the NIC keeps the one it
 * was made with, and the declared one is neither set nor compared.
 */
export const settableMac = (d: Pick<DesiredNic, 'mac' | 'attach'>): string | undefined =>
  (d.attach.kind === 'macvlan' && d.attach.mode === 'passthru' ? undefined : d.mac);

/** Is the container's `ifName` the NIC xnet made (and marked) for this ContainerNic? */
function ownsContainerLink(d: DesiredNic, c: Link, host: HostState): boolean {
  if (c.alias !== nicAlias(d.name)) return false;
  if (d.attach.kind === 'veth') {
    const hostEnd = host.links.find((l) => l.name === vethHostName(d.name));
    return c.kind === 'veth' && !!hostEnd && hostEnd.linkIndex === c.ifindex;
  }
  const parent = host.links.find((l) => l.name === (d.attach as { parent: string }).parent);
  return c.kind === 'macvlan' && !!parent && c.linkIndex === parent.ifindex;
}

/**
 * Before a NIC is made, a link under its host-end or temporary name that lacks its mark: not
 * xnet's, so never deleted as a leftover (createNic clears only marked ones).
 */
function foreignUnderOurNames(d: DesiredNic, host: HostState, container: ContainerState): string | undefined {
  const mark = nicAlias(d.name);
  const hostEnd = host.links.find((l) => l.name === vethHostName(d.name));
  const tmp = tempName(d.name);
  const hostTmp = host.links.find((l) => l.name === tmp);
  const ours = (l: Link) => l.alias === mark || leftUnmarked(d, l, hostEnd, hostTmp);
  if (hostEnd && !ours(hostEnd)) return `host interface ${hostEnd.name}`;
  if (hostTmp && !ours(hostTmp)) return `host interface ${tmp}`;
  if (container.links.some((l) => l.name === tmp && l.alias !== mark)) return `container interface ${tmp}`;
  return undefined;
}

/**
 * An unmarked link under this NIC's host names that a batch stopped before its mark left: the
 * veth pair under both names, each the other's peer in the host (both names are derived from
 * the NIC's: no one else's pair is that), or a macvlan under the temporary name on the NIC's parent.
 */
function leftUnmarked(d: DesiredNic, l: Link, hostEnd: Link | undefined, hostTmp: Link | undefined): boolean {
  if (d.attach.kind === 'macvlan') return l === hostTmp && l.kind === 'macvlan' && l.parent === d.attach.parent;
  return !!hostEnd && !!hostTmp && hostEnd.parent === hostTmp.name && hostTmp.parent === hostEnd.name
    && hostEnd.linkNetnsId === undefined && hostTmp.linkNetnsId === undefined;
}

export function planNic(d: DesiredNic, host: HostState, container: ContainerState): Plan {
  const found = container.links.find((l) => l.name === d.ifName);
  const sibling = found && found.alias !== nicAlias(d.name) ? nicOfAlias(found.alias) : undefined;
  if (sibling) return planNameHeldBySibling(d, host, container, sibling);
  // A link of the NIC's own (marked) that is not what the spec now asks for (another kind,
  // parent or host end: the NIC moved to another network, or its host end was renamed) is
  // made again, like one under an old ifName.
  const inC = found && (ownsContainerLink(d, found, host) || found.alias !== nicAlias(d.name)) ? found : undefined;
  const stale = staleContainerLinks(d, host, container, inC);
  // Routes through links this plan deletes go with them. Made again, every link of the NIC's in
  // the container goes (the stale ones, and the host end's peer with the host end): its default
  // route through an old name is its own, not another NIC's.
  const mark = nicAlias(d.name);
  const gone = new Set((inC ? stale : container.links.filter((l) => l.alias === mark)).map((l) => l.name));
  const staying = container.routes.filter((r) => !r.dev || !gone.has(r.dev));
  const route = planDefaultRoute(d, staying);
  const problem = nicPrerequisiteProblem(d, host, container, found) ?? route.problem;
  if (problem) return { ops: [], problems: [problem] };
  const routeOps = (flushed: boolean): IpOp[] => {
    // The kernel drops a device's gateway routes when it goes down or loses its address: a
    // plan that does either plans the NIC's routes as if none were there (they are made again).
    const seen = flushed ? staying.filter((r) => r.dev !== d.ifName || r.proto === 'kernel') : staying;
    return [...(flushed ? planDefaultRoute(d, seen).ops : route.ops), ...planClusterRoute(d, seen)];
  };
  const ops = inC ? convergeNic(d, host, container, inC, stale, routeOps) : createNic(d, host, container, stale, routeOps(false));
  const unmarked = unmarkedBridgeProblem(d, host, ops);
  return unmarked ? { ops: [], problems: [unmarked] } : { ops, problems: [] };
}

/**
 * The declared ifName is another ContainerNic's interface in this container (xnet made it,
 * marked as that NIC's): two NICs of one container that swapped names (eth1 <-> eth2), or one
 * taking the name another gives up. This NIC's own links (under its earlier name, its host end)
 * go now, rather than with the new link: each waiting for the other's name to be free, the two
 * would otherwise wait for ever. The other NIC then finds its name free, makes its link and
 * deletes its old one, whose deletion (the container's watcher) wakes this NIC. While the other
 * NIC keeps the name (both declare it), this one stays without a link, `InterfaceNameTaken`.
 */
function planNameHeldBySibling(d: DesiredNic, host: HostState, container: ContainerState, sibling: string): Plan {
  const own = staleContainerLinks(d, host, container, undefined).map((l): IpOp => ({ op: 'link.del', name: l.name, netns: d.netns }));
  // leftoverDeletions deletes whatever has the NIC's host-end and temporary names: only when
  // they are xnet's (createNic runs it after nicPrerequisiteProblem has checked the same)
  const leftovers = foreignUnderOurNames(d, host, container) ? [] : leftoverDeletions(d, host, container);
  return {
    ops: [...own, ...leftovers],
    problems: [{ reason: 'InterfaceNameTaken', message: `the container's ${d.ifName} is ContainerNic ${sibling}'s interface; this NIC takes the name once ${sibling} gives it up`, watchContainer: true }],
  };
}

/**
 * A veth is put onto the bridge only when the bridge carries its HostSubnet's mark; a NIC
 * already on it (made before bridges were marked, or while its network waits for containers to
 * leave) is converged as it is.
 */
function unmarkedBridgeProblem(d: DesiredNic, host: HostState, ops: Op[]): Problem | undefined {
  if (d.attach.kind !== 'veth' || !ops.some((o) => o.op === 'link.set.master')) return undefined;
  const { bridge, hostSubnet } = d.attach;
  if (host.links.find((l) => l.name === bridge)?.alias === bridgeAlias(hostSubnet)) return undefined;
  return { reason: 'BridgeNotReady', message: `bridge ${bridge} is not (yet) marked as the bridge xnet made for HostSubnet ${hostSubnet}; NICs go only onto such a bridge (the HostSubnet's status says why it is not)` };
}

/**
 * The container's links marked as this NIC's that are not the one converged (`keep`): under an
 * earlier ifName, of another kind or parent, or cut from its host end. A veth whose peer is the
 * NIC's host end is left out: it goes with that end (leftoverDeletions), and a second `link del`
 * would fail and stop the batch. So is the temporary name, which leftoverDeletions handles.
 */
function staleContainerLinks(d: DesiredNic, host: HostState, container: ContainerState, keep: Link | undefined): Link[] {
  const hostEnd = host.links.find((l) => l.name === vethHostName(d.name));
  const peerOfHostEnd = (c: Link) => !!hostEnd && hostEnd.linkIndex === c.ifindex && c.linkIndex === hostEnd.ifindex;
  return container.links.filter((c) => c !== keep && c.alias === nicAlias(d.name) && c.name !== tempName(d.name) && !(c.kind === 'veth' && peerOfHostEnd(c)));
}

/** What stops planning: a foreign interface of that name (in the container or under xnet's host names), a missing bridge or parent. */
function nicPrerequisiteProblem(d: DesiredNic, host: HostState, container: ContainerState, inC: Link | undefined): Problem | undefined {
  if (inC && inC.alias !== nicAlias(d.name)) {
    // watched: the container's own link events are what show the name freed (removed or
    // renamed by hand), and no other watcher runs there until xnet has a NIC in it
    return { reason: 'InterfaceNameTaken', message: `the container already has an interface ${d.ifName} that xnet did not make; choose another ifName`, watchContainer: true };
  }
  const foreign = inC && ownsContainerLink(d, inC, host) ? undefined : foreignUnderOurNames(d, host, container);
  if (foreign) {
    return { reason: 'InterfaceNameTaken', message: `${foreign} is an interface xnet did not make (it carries no ${nicAlias(d.name)} mark) but has the name xnet uses for this NIC; it is left alone, remove or rename it` };
  }
  if (d.attach.kind === 'veth') {
    const bridge = d.attach.bridge;
    if (!host.links.some((l) => l.name === bridge)) {
      return { reason: 'BridgeMissing', message: `bridge ${bridge} does not exist on this node (not made yet, or deleted and not yet made again; HostSubnet ${d.attach.hostSubnet}'s Ready condition says why)` };
    }
    return undefined;
  }
  const parent = d.attach.parent;
  if (!host.links.some((l) => l.name === parent)) return { reason: 'ParentMissing', message: `parent interface ${parent} does not exist on this node` };
  return undefined;
}

/**
 * A new NIC: clear leftovers and `stale` links of its own, make the link, move it in, rename,
 * mark, address, bring up, then `routeOps`.
 */
function createNic(d: DesiredNic, host: HostState, container: ContainerState, stale: Link[], routeOps: IpOp[]): Op[] {
  const ops: Op[] = [];
  const hostIf = vethHostName(d.name);
  const tmp = tempName(d.name);
  const ns = d.netns;
  // Leftovers of an interrupted attempt (or of the container's previous life) go first; the
  // container's stale links before the host's, so a macvlan's MAC is free for the new one.
  ops.push(...stale.map((l): IpOp => ({ op: 'link.del', name: l.name, netns: ns })), ...leftoverDeletions(d, host, container));
  // Every link is marked as it is made, before it moves (the mark goes with it into the
  // container and through the rename): only marked links are ever adopted or deleted.
  const mark = nicAlias(d.name);
  if (d.attach.kind === 'veth') {
    ops.push(
      { op: 'link.add.veth', name: hostIf, peer: tmp, ...(d.mtu ? { mtu: d.mtu } : {}) },
      { op: 'link.set.alias', name: hostIf, alias: mark },
      { op: 'link.set.alias', name: tmp, alias: mark },
      { op: 'link.set.master', name: hostIf, master: d.attach.bridge },
      { op: 'link.set.up', name: hostIf },
    );
  } else {
    ops.push({ op: 'link.add.macvlan', name: tmp, parent: d.attach.parent, mode: d.attach.mode }, { op: 'link.set.alias', name: tmp, alias: mark });
  }
  ops.push(
    { op: 'link.set.netns', name: tmp, into: ns },
    { op: 'link.rename', name: tmp, to: d.ifName, netns: ns },
  );
  const mac = settableMac(d);
  if (mac) ops.push({ op: 'link.set.mac', name: d.ifName, mac, netns: ns });
  ops.push({ op: 'addr.add', dev: d.ifName, cidr: d.cidr, netns: ns }, { op: 'link.set.up', name: d.ifName, netns: ns });
  ops.push(...routeOps);
  // Several NICs of one container often share a subnet. By default every interface answers
  // ARP for every local address ("ARP flux"), so peers would map this NIC's address to
  // another interface's MAC; each interface must answer for its own addresses only.
  ops.push({ op: 'sysctl.set', netns: ns, values: NIC_ARP_SYSCTLS(d.ifName) });
  return ops;
}

/**
 * Deletes what an interrupted attempt left under xnet's names: the host end, the temporary
 * name on the host, the temporary name already moved into the container (an attempt stopped
 * between the move and the rename). Deleting a veth deletes its peer: a temporary name that is
 * the host end's own peer goes with it and is not deleted again (`ip` would fail on it and
 * stop the batch, and the NIC would stay half-made until a retry).
 */
function leftoverDeletions(d: DesiredNic, host: HostState, container: ContainerState): IpOp[] {
  const hostEnd = host.links.find((l) => l.name === vethHostName(d.name));
  const tmp = tempName(d.name);
  const ops: IpOp[] = hostEnd ? [{ op: 'link.del', name: hostEnd.name }] : [];
  const inHost = host.links.find((l) => l.name === tmp);
  if (inHost && !(hostEnd && hostEnd.parent === tmp && hostEnd.linkNetnsId === undefined)) ops.push({ op: 'link.del', name: tmp });
  const inContainer = container.links.find((l) => l.name === tmp);
  // each the other's peer (ifindexes are per namespace: one match alone could be a coincidence)
  const peerOfHostEnd = !!hostEnd && !!inContainer && hostEnd.linkIndex === inContainer.ifindex && inContainer.linkIndex === hostEnd.ifindex;
  if (inContainer && !peerOfHostEnd) ops.push({ op: 'link.del', name: tmp, netns: d.netns });
  return ops;
}

/**
 * The NIC exists: converge its properties only (bridge port, MTU, MAC, address, up, then
 * `routeOps`: its default route); `stale` links of its own elsewhere in the container go first.
 */
function convergeNic(d: DesiredNic, host: HostState, container: ContainerState, inC: Link, stale: Link[], routeOps: (flushed: boolean) => IpOp[]): Op[] {
  const ns = d.netns;
  const ops: Op[] = stale.map((l): IpOp => ({ op: 'link.del', name: l.name, netns: ns }));
  if (d.attach.kind === 'veth') {
    const hostIf = vethHostName(d.name);
    const hostEnd = host.links.find((l) => l.name === hostIf)!;
    if (hostEnd.alias !== nicAlias(d.name)) ops.push({ op: 'link.set.alias', name: hostIf, alias: nicAlias(d.name) });
    if (hostEnd.master !== d.attach.bridge) ops.push({ op: 'link.set.master', name: hostIf, master: d.attach.bridge });
    // the MTU a ClusterNetwork edit gave: both ends (a veth made before it kept the old one)
    if (d.mtu && hostEnd.mtu !== d.mtu) ops.push({ op: 'link.set.mtu', name: hostIf, mtu: d.mtu });
    if (!hostEnd.up) ops.push({ op: 'link.set.up', name: hostIf });
  }
  if (d.mtu && inC.mtu !== d.mtu) ops.push({ op: 'link.set.mtu', name: d.ifName, mtu: d.mtu, netns: ns });
  const mac = settableMac(d);
  const macvlanMac = d.attach.kind === 'macvlan' && mac && inC.mac !== mac.toLowerCase();
  if (mac && inC.mac !== mac.toLowerCase() && !macvlanMac) {
    ops.push({ op: 'link.set.down', name: d.ifName, netns: ns }, { op: 'link.set.mac', name: d.ifName, mac, netns: ns });
    if (inC.up) ops.push({ op: 'link.set.up', name: d.ifName, netns: ns });
  }
  const mine = container.addrs.filter((a) => a.dev === d.ifName);
  for (const a of mine) if (a.cidr !== d.cidr) ops.push({ op: 'addr.del', dev: d.ifName, cidr: a.cidr, netns: ns });
  if (!mine.some((a) => a.cidr === d.cidr)) ops.push({ op: 'addr.add', dev: d.ifName, cidr: d.cidr, netns: ns });
  if (!inC.up || ops.some((o) => o.op === 'link.set.down')) {
    if (!ops.some((o) => o.op === 'link.set.up' && (o as { name: string }).name === d.ifName)) ops.push({ op: 'link.set.up', name: d.ifName, netns: ns });
  }
  ops.push(...routeOps(ops.some((o) => flushesRoutes(o, d.ifName))));
  // A macvlan takes a new MAC while up, and last: the kernel refuses it while another macvlan
  // of the parent has it (MacAddressInUse), and a refusal then leaves the NIC up, addressed and
  // carrying traffic; retrying it never takes a working NIC down.
  if (macvlanMac) ops.push({ op: 'sysctl.set', netns: ns, values: ARP_NOTIFY(d.ifName) }, { op: 'link.set.mac', name: d.ifName, mac: mac!, netns: ns });
  return ops;
}

/** An op after which the kernel has dropped the gateway routes through `ifName` (down, or an address deleted). */
function flushesRoutes(o: Op, ifName: string): boolean {
  return (o.op === 'link.set.down' && o.name === ifName) || (o.op === 'addr.del' && o.dev === ifName);
}

/**
 * What differs between the declared NIC and the container's interface as the kernel has it:
 * the same properties convergeNic sets (mark, MAC, up, address, default route). Empty: in
 * place. Read after a change, it decides Ready: a change the kernel took only in part (a
 * batch stopped half-way) must not be reported as done.
 */
export function nicDifferences(d: DesiredNic, container: ContainerState): string[] {
  const inC = container.links.find((l) => l.name === d.ifName);
  if (!inC) return [`no interface ${d.ifName}`];
  const diff: string[] = [];
  if (inC.alias !== nicAlias(d.name)) diff.push(`${d.ifName} is not marked as ${nicAlias(d.name)}`);
  const mac = settableMac(d)?.toLowerCase();
  if (mac && inC.mac !== mac) diff.push(`MAC ${inC.mac}, declared ${mac}`);
  if (!inC.up) diff.push(`${d.ifName} is down`);
  if (d.mtu && inC.mtu !== d.mtu) diff.push(`MTU ${inC.mtu}, declared ${d.mtu}`);
  const mine = container.addrs.filter((a) => a.dev === d.ifName).map((a) => a.cidr);
  if (!mine.includes(d.cidr)) diff.push(`${d.cidr} missing`);
  for (const c of mine) if (c !== d.cidr) diff.push(`undeclared address ${c}`);
  const route = defaultRouteDifference(d, container.routes);
  if (route) diff.push(route);
  const cluster = clusterRouteDifference(d, container.routes);
  if (cluster) diff.push(cluster);
  return diff;
}

export interface RemovedNic {
  name: string;
  ifName: string;
  kind: 'veth' | 'macvlan';
  /** the container's namespace, pinned, when it still runs (a macvlan lives only in the container) */
  netns?: ContainerNs;
}

/** Deleting the host end of a veth deletes the pair; a macvlan must go from inside. */
export function planNicRemoval(r: RemovedNic, host: HostState, container: ContainerState | undefined): Plan {
  const ops: IpOp[] = [];
  const mark = nicAlias(r.name);
  for (const n of [vethHostName(r.name), tempName(r.name)]) if (host.links.some((l) => l.name === n && l.alias === mark)) ops.push({ op: 'link.del', name: n });
  if (r.kind === 'macvlan' && r.netns && container) {
    // Only the link xnet marked: Docker's own macvlan eth0 of a macvlan network is never removed.
    const c = container.links.find((l) => l.name === r.ifName && l.kind === 'macvlan' && l.alias === nicAlias(r.name));
    if (c) ops.push({ op: 'link.del', name: r.ifName, netns: r.netns });
  }
  return { ops, problems: [] };
}

/**
 * Host links xnet made for NICs that no longer exist (the agent was down when they went): named
 * and marked as some NIC's, the mark naming that NIC (a link of the pattern without it is not ours).
 */
export function planNicGarbage(wantedNics: string[], host: HostState): Plan {
  const keep = new Set(wantedNics.flatMap((n) => [vethHostName(n), tempName(n)]));
  const ops: IpOp[] = host.links
    .filter((l) => isNicHostLink(l.name) && !keep.has(l.name) && isMarkedFor(l))
    .map((l) => ({ op: 'link.del', name: l.name }));
  return { ops, problems: [] };
}

/** Is the link marked as the NIC its name is derived from (`xv`/`xt` + the hash of that NIC's name)? */
function isMarkedFor(l: Link): boolean {
  const nic = nicOfAlias(l.alias);
  return nic !== undefined && (l.name === vethHostName(nic) || l.name === tempName(nic));
}
