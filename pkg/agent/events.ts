// Pure mapping from what happened (store change, Docker event, kernel notification) to the
// work-queue keys that must look again; followView hooks the node view's own signals to it.
import { STATUS_AUTHORITY } from '../api/authority.js';
import { isReady, type AnyObject, type ClusterNetwork, type ContainerNic, type HostSubnet, type MacvlanNet } from '../api/index.js';
import type { DockerEvent } from '../docker/types.js';
import type { MonitorEvent } from '../netlink/monitor.js';
import { hostSubnetView } from './desired.js';
import { shimName, tempName, vethHostName } from './planner/names.js';
import type { NodeWatch } from '../store/types.js';
import type { AgentContext } from './context.js';

export const KEY_ROUTES = 'routes';
export const KEY_HOST_SUBNETS = 'hostsubnets';
export const KEY_NAT = 'nat';
export const KEY_GC = 'gc';
/** Docker networks of MacvlanNets no longer in the view, removed (reconcilers/macvlan.ts) */
export const KEY_MACVLAN_LEFTOVERS = 'mvn-leftovers';
export const nicKey = (name: string) => `nic/${name}`;
export const mvnKey = (name: string) => `mvn/${name}`;

/**
 * The reconcile that writes this node's report of an object: run again when someone else
 * deleted or changed the report (by hand, an etcd restored from an older backup), it puts it back.
 */
export function ownStatusKeys(kind: string, name: string): string[] {
  if (kind === 'ContainerNic') return [nicKey(name)];
  if (kind === 'MacvlanNet') return [mvnKey(name)];
  return kind === 'HostSubnet' ? [KEY_HOST_SUBNETS] : [];
}

/** What the agent knows when it maps an event: the current caches. */
export interface EventScope {
  node: string;
  nics: ContainerNic[];
  hostSubnets: HostSubnet[];
  macvlanNets: MacvlanNet[];
  /** parent interfaces the macvlan networks use on this node */
  macvlanParents: Map<string, string>;
  /**
   * Whether `node` has a HostSubnet: answered from an index (HostSubnetNodes) so that a peer's
   * Node event costs no pass over every peer's HostSubnet; without it, hostSubnets is searched.
   */
  nodeHasHostSubnet?(node: string): boolean;
  /** the NIC whose host end had this ifindex when last put in place (renamed since: another name) */
  nicOfHostIfindex?(ifindex: number): string | undefined;
}

/**
 * The nodes that have HostSubnets, kept up to date from the HostSubnet informer's events:
 * at a thousand hosts, every agent receives every peer's Node event, and finding out whether
 * it concerns routes must not cost a walk over a thousand HostSubnets.
 */
export class HostSubnetNodes {
  /** node -> its HostSubnets' names, each with how many adds it has had more than removes */
  private readonly byNode = new Map<string, Map<string, number>>();

  has(node: string): boolean { return this.byNode.has(node); }

  /** the names of `node`'s HostSubnets */
  names(node: string): string[] { return [...(this.byNode.get(node)?.keys() ?? [])]; }

  add(h: HostSubnet): void {
    let names = this.byNode.get(h.spec.node);
    if (!names) this.byNode.set(h.spec.node, (names = new Map()));
    names.set(h.metadata.name, (names.get(h.metadata.name) ?? 0) + 1);
  }

  remove(h: HostSubnet): void {
    const names = this.byNode.get(h.spec.node);
    const n = (names?.get(h.metadata.name) ?? 0) - 1;
    if (n > 0) names!.set(h.metadata.name, n); else names?.delete(h.metadata.name);
    if (names?.size === 0) this.byNode.delete(h.spec.node);
  }

  /** the informer's handlers */
  readonly handlers = {
    onAdd: (h: HostSubnet) => this.add(h),
    onUpdate: (h: HostSubnet, old: HostSubnet) => { this.remove(old); this.add(h); },
    onDelete: (h: HostSubnet) => this.remove(h),
  };
}

/**
 * The peers' HostSubnets (by name) a routes pass for this store event needs to look at, or
 * undefined when it must look at every peer (this node's own Node or HostSubnet, any other
 * kind): a peer's HostSubnet is that one, a peer's Node is its HostSubnets (its next hop).
 */
export function routePeers(o: AnyObject, self: string, nodes: HostSubnetNodes, old?: AnyObject): string[] | undefined {
  if (o.kind === 'HostSubnet') return o.spec.node === self || (old as HostSubnet | undefined)?.spec.node === self ? undefined : [o.metadata.name];
  if (o.kind === 'Node') return o.metadata.name === self ? undefined : nodes.names(o.metadata.name);
  return undefined;
}

const VOLATILE = new Set(['conditions', 'observedGeneration', 'lastHeartbeatTime', 'agentVersion', 'ready', 'message', 'allocated', 'free', 'mac', 'containerId', 'hostInterface', 'observedIp']);

function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([k]) => !VOLATILE.has(k)).map(([k, x]) => [k, strip(x)]));
  }
  return v;
}

/**
 * Of another node's part of a MacvlanNet, what wakes `self`'s passes: what holds an address for
 * good (a shim, containers' addresses outside the range: other-nodes.ts). Not its pre-claims,
 * limit or asks, which change with each of its containers: nothing here acts on their change; a
 * pass reads them from the cache when it runs (kept-home.ts), a `docker run --ip` when it asks
 * (the plugin's own handler, ipam-host.ts followPool, sees every update).
 */
function othersPart(part: unknown): unknown {
  if (!part || typeof part !== 'object') return part;
  const { name, shimAddress, outsideRange } = part as Record<string, unknown>;
  return { name, shimAddress, outsideRange };
}

/** A MacvlanNet's status as `self`'s agent acts on it: not the pool's use count, nor the other nodes' pre-claims. */
function macvlanStatusFor(status: Record<string, unknown>, self: string): Record<string, unknown> {
  const { used: _used, nodes, ...rest } = status;
  const parts = Array.isArray(nodes) ? nodes.map((n) => ((n as { name?: unknown } | null)?.name === self ? n : othersPart(n))) : nodes;
  return { ...rest, nodes: parts };
}

/**
 * The part of an object the agent of `self` acts on. Status fields that agents themselves write
 * (conditions, heartbeats) are left out, so an agent's own writes do not wake it up; so is what
 * of a MacvlanNet's status other nodes' containers change (issue 10: an agent's work does not
 * grow with what other hosts do). Under a controller that keeps each node's part in its own
 * index (store/macvlan-parts.ts) such a change does not even reach this agent; under an older
 * one, whose one status key holds every part, it arrives and is left out here.
 */
export function fingerprint(o: AnyObject, self?: string): string {
  const status = (o.status ?? {}) as Record<string, unknown>;
  const acted = o.kind === 'MacvlanNet' && self !== undefined ? macvlanStatusFor(status, self) : status;
  return JSON.stringify({ spec: o.spec, labels: o.metadata.labels, del: o.metadata.deletionTimestamp, status: strip(acted) });
}

const nicsOnClusterNetwork = (s: EventScope, cn: string) => s.nics.filter((n) => n.spec.network.clusterNetwork === cn).map((n) => nicKey(n.metadata.name));
const nicsOnMacvlan = (s: EventScope, m: string) => s.nics.filter((n) => n.spec.network.macvlanNet === m).map((n) => nicKey(n.metadata.name));
const allMacvlan = (s: EventScope) => s.macvlanNets.map((m) => mvnKey(m.metadata.name));

/** A HostSubnet with a subnet (allocated, or the admin's) is a route on every other host. */
const routable = (h: HostSubnet | undefined) => (h?.status as { subnet?: unknown } | undefined)?.subnet != null || h?.spec.subnet != null;

/**
 * A ClusterNetwork that came, went or has another cidr: which peers' subnets lie inside it
 * (peer-routes.ts) may have changed. Its status (counts that change as nodes join) is not.
 */
const poolChanged = (cn: ClusterNetwork, old: ClusterNetwork | undefined) => !old || old.spec.cidr !== cn.spec.cidr || old.spec.hostPrefix !== cn.spec.hostPrefix;

/**
 * `old`: the object before an update. A routes pass looks at every peer, so at a thousand hosts
 * a pass is not free: a peer's Node matters to routes only as the next hop of its HostSubnets,
 * and a peer's HostSubnet only once it has a subnet (a new node's Node and its HostSubnet
 * object, which arrive before the allocation, wake none; the allocation does).
 */
export function keysForObject(o: AnyObject, s: EventScope, old?: AnyObject): string[] {
  switch (o.kind) {
    case 'Node': {
      const self = o.metadata.name === s.node;
      const peer = s.nodeHasHostSubnet ? s.nodeHasHostSubnet(o.metadata.name) : s.hostSubnets.some((h) => h.spec.node === o.metadata.name);
      const routes = self || peer ? [KEY_ROUTES] : [];
      return [...routes, ...allMacvlan(s), ...(self ? s.nics.filter((n) => n.spec.network.macvlanNet).map((n) => nicKey(n.metadata.name)) : [])];
    }
    case 'ClusterNetwork':
      return [...(poolChanged(o, old as ClusterNetwork | undefined) ? [KEY_ROUTES] : []), KEY_HOST_SUBNETS, KEY_NAT, ...nicsOnClusterNetwork(s, o.metadata.name)];
    case 'HostSubnet':
      if (o.spec.node === s.node) return [KEY_HOST_SUBNETS, KEY_NAT, ...nicsOnClusterNetwork(s, o.spec.clusterNetwork)];
      return routable(o) || routable(old as HostSubnet | undefined) ? [KEY_ROUTES] : [];
    case 'ContainerNic':
      return [nicKey(o.metadata.name), ...(o.spec.network.macvlanNet ? [mvnKey(o.spec.network.macvlanNet)] : [])];
    case 'MacvlanNet':
      return [mvnKey(o.metadata.name), ...nicsOnMacvlan(s, o.metadata.name)];
  }
}

/**
 * Whether a store event changes what the object declares, not only how it is doing: its
 * conditions and observedGeneration say the latter, and so does every field a node reports
 * itself (merged into the status: its own reports come back this way). Only the former makes
 * the next reconcile of its keys a change carried out rather than a heal (heal.ts, declare); a
 * created or deleted object always does.
 */
export function declaresMore(o: AnyObject, old: AnyObject | undefined): boolean {
  if (!old) return true;
  const reported = new Set<string>(['conditions', 'observedGeneration', ...STATUS_AUTHORITY[o.kind].nodeFields]);
  const what = (x: AnyObject) => {
    const status = Object.entries((x.status ?? {}) as Record<string, unknown>).filter(([k]) => !reported.has(k));
    const { resourceVersion: _r, ...metadata } = x.metadata as Record<string, unknown>;
    return JSON.stringify({ metadata, spec: x.spec, status });
  };
  return what(o) !== what(old);
}

/**
 * An object whose key never decoded here was deleted (NodeWatch.onUnreadableGone): what was kept
 * for it in doubt (routes, NAT chains, Docker networks, a NIC) may go. Its content was never
 * known, so every pass it could have concerned looks again.
 */
export function keysForUnreadableGone(kind: string, name: string, s: EventScope): string[] {
  if (kind === 'ContainerNic') return [nicKey(name), KEY_GC];
  if (kind === 'MacvlanNet') return [mvnKey(name), KEY_MACVLAN_LEFTOVERS];
  if (kind === 'Node') return [KEY_ROUTES, ...allMacvlan(s)];
  return kind === 'ClusterNetwork' || kind === 'HostSubnet' ? [KEY_ROUTES, KEY_HOST_SUBNETS, KEY_NAT] : [];
}

/** The view's own signals besides object events: this node's status keys changed by someone else, keys that never decoded deleted. */
export function followView(view: NodeWatch, ctx: AgentContext, scope: () => EventScope): void {
  view.onOwnStatus?.((kind, name, value) => { if (ctx.status.forgetIfChanged(kind, name, value)) ctx.enqueue?.(ownStatusKeys(kind, name)); });
  view.onUnreadableGone?.((kind, name) => {
    ctx.log.info('a key that did not decode was deleted', { kind, name });
    ctx.enqueue?.(keysForUnreadableGone(kind, name, scope()));
  });
}

export function keysForDockerEvent(e: DockerEvent, s: EventScope): string[] {
  // A container or network went: a deleted MacvlanNet's network that waited for it may go now.
  const left = ['disconnect', 'destroy', 'die'].includes(e.action) ? [KEY_MACVLAN_LEFTOVERS] : [];
  if (e.type === 'network' && (e.action === 'create' || e.action === 'destroy')) {
    // Docker puts its MASQUERADE rule on top when it makes a network: ours must go back above.
    return [KEY_HOST_SUBNETS, KEY_NAT, ...allMacvlan(s), ...left];
  }
  // dockerIPAM xnet: the address book learns (and frees) holders from the network's endpoints.
  // and the report of the addresses Docker's containers hold on a HostSubnet's network (its status.dockerHeld).
  if (e.type === 'network' && e.action === 'connect') return [...(s.hostSubnets.some((h) => h.spec.node === s.node) ? [KEY_HOST_SUBNETS] : []), ...allMacvlan(s), ...left];
  // A container left a network: the network of a HostSubnet gone from this node (or one to be
  // made again on another subnet) that waited for its containers (NetworkInUse) may go now; and
  // the interface Docker took out may be the name a NIC of that container waits for
  // (InterfaceNameTaken), which no kernel event of ours shows: no watcher runs in a container
  // until xnet has a NIC there.
  if (e.type === 'network' && e.action === 'disconnect') {
    return [KEY_HOST_SUBNETS, ...allMacvlan(s), ...left, ...(e.container ? nicKeysOf(s, e.container) : [])];
  }
  if (e.type !== 'container' || !['start', 'restart', 'die', 'destroy', 'create', 'rename', 'update'].includes(e.action)) return [];
  // dockerIPAM xnet keeps a stopped container's address until the container is removed, and
  // learns again what an update changed (its restart policy).
  const removed = e.action === 'destroy' || e.action === 'update' ? allMacvlan(s) : [];
  // A stopped container keeps the network of a HostSubnet that must be made again waiting
  // (NetworkInUse, "remove the stopped ones"); its removal comes with no network event (it left
  // the network when it stopped), so the destroy itself wakes the host subnets.
  const stoppedGone = e.action === 'destroy' ? [KEY_HOST_SUBNETS] : [];
  return [...stoppedGone, ...removed, ...left, ...nicKeysOf(s, e.id, e.name)];
}

/** The keys of the NICs of the container with this id (and name, when the event gives it). */
function nicKeysOf(s: EventScope, id: string, name?: string): string[] {
  return s.nics
    .filter((n) => n.spec.container === name || n.spec.container === id || id.startsWith(n.spec.container) || n.status?.containerId === id)
    .map((n) => nicKey(n.metadata.name));
}

/** The interface name in a LINK or ADDR line of `ip monitor` ("5: br01: <...>", "7: xs..  inet ..."). */
export function monitorIfName(text: string): string | undefined {
  return /^\d+:\s+([^:@\s]+)/.exec(text)?.[1];
}

/**
 * IPv4 forwarding of the whole host (net.ipv4.ip_forward: "inet all forwarding on|off"), which
 * the nat pass keeps on; not a single interface's, nor its other settings (mc_forwarding).
 */
export const isHostForwardingLine = (text: string) => /^inet\s+all\s(.*\s)?forwarding\s/.test(`${text} `);

/**
 * Whether a kernel event may make the Node's pinned spec.interface (`pinned`) appear or go, so
 * that its report (InterfaceOnHost, node.ts) is read again at once: `known` is the ifindex the
 * last read found it at (none: the host had no such link). A link of that name made or deleted,
 * or the known one renamed away; not the known link changing state (its carrier, promiscuity,
 * a macvlan port coming), which says nothing new and happens at every container start.
 * `knownName`: that link's own name, when the pin is one of its altnames (the name otherwise).
 */
export function nodeInterfaceEvent(e: MonitorEvent, pinned: string | undefined, known: number | undefined, knownName = pinned): boolean {
  if (!pinned || e.object !== 'link') return false;
  const name = monitorIfName(e.text);
  const index = Number(/^(\d+):/.exec(e.text)?.[1]);
  if (known === undefined || index !== known) return name === pinned;
  // an event names a link by its own name, not by the altname it may be pinned as
  return e.deleted || name !== knownName;
}

export function keysForMonitorEvent(e: MonitorEvent, s: EventScope): string[] {
  if (e.object === 'route') return [KEY_ROUTES, ...allMacvlan(s)];
  if (e.object === 'netconf') return isHostForwardingLine(e.text) ? [KEY_NAT] : [];
  if (e.object !== 'link' && e.object !== 'addr') return [];
  const name = monitorIfName(e.text);
  if (!name) return [];
  const keys: string[] = [];
  for (const n of s.nics) if (name === vethHostName(n.metadata.name) || name === tempName(n.metadata.name)) keys.push(nicKey(n.metadata.name));
  const renamed = e.object === 'link' ? s.nicOfHostIfindex?.(Number(/^(\d+):/.exec(e.text)?.[1])) : undefined;
  if (renamed) keys.push(nicKey(renamed));
  for (const m of s.macvlanNets) if (name === shimName(m.metadata.name)) keys.push(mvnKey(m.metadata.name));
  // A bridge or parent changes state whenever a port comes or goes (every container start):
  // only NICs that are not in place yet (they may wait for it) look again, else n NICs made
  // one after another would each wake all the others.
  const waiting = (k: string) => !readyNics.has(k);
  const readyNics = new Set(s.nics.filter((n) => isReady(n)).map((n) => nicKey(n.metadata.name)));
  for (const [m, parent] of s.macvlanParents) {
    if (name === parent) keys.push(mvnKey(m), ...nicsOnMacvlan(s, m).filter((k) => e.deleted || waiting(k)));
  }
  for (const hs of s.hostSubnets) {
    if (hs.spec.node === s.node && hostSubnetView(hs).bridge === name) {
      keys.push(KEY_HOST_SUBNETS, ...nicsOnClusterNetwork(s, hs.spec.clusterNetwork).filter((k) => e.deleted || waiting(k)));
    }
  }
  return [...new Set(keys)];
}
