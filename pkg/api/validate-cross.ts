// Validation rules that relate objects to each other: the apply's batch against itself
// (duplicates) and against the store's contents (overlapping pools, HostSubnets, static IPs;
// a ClusterNetwork edit that strands its HostSubnets: validate-stranded.ts; a HostSubnet or
// MacvlanNet edit that strands NIC addresses: validate-stranded-nics.ts; names:
// validate-names.ts). Pure, like validate.ts (the rules within one object), so xctl and unit
// tests share them.
import { cidrsOverlap, parseCidr } from '../ip/ipv4.js';
import type { Kind } from './kinds.js';
import { clusterNetworkPool, clusterStaticIpWhy, hostSubnetFitWhy, hostSubnetReservedWhy, macvlanNetPool, macvlanStaticIpWhy, nodeAddressWhy, poolOverNodeWhy, type AddressPool, type RoutedNodeAddress } from './rules.js';
import { poolOf, strandedHostSubnetIssues } from './validate-stranded.js';
import { nameIssues } from './validate-names.js';
import { strandedNicIssues } from './validate-stranded-nics.js';
import { keptOutsideIssues } from './validate-kept-outside.js';
import { inUseInsideIssues, type NodeReports } from './validate-in-use-inside.js';
import { setOnceIssues } from './set-once.js';
import type { AnyObject, ClusterNetwork, ContainerNic, HostSubnet, MacvlanNet, Node } from './types.js';
import type { FieldIssue } from './validate.js';

export interface ObjectIssue extends FieldIssue {
  /** index into the batch the issue is about */
  index: number;
}

/**
 * Two objects of the same kind and name in one apply: which one would win is not obvious, so
 * refuse the later one. `whereIs` says where an object of the batch is, so the message points
 * at the first copy (xctl: its file, line and document).
 */
export function duplicateIssues(batch: ReadonlyArray<{ kind: string; metadata: { name: string } }>, whereIs: (index: number) => string = (i) => `object ${i + 1}`): ObjectIssue[] {
  const seen = new Map<string, number>();
  const out: ObjectIssue[] = [];
  batch.forEach((o, index) => {
    const key = `${o.kind}/${o.metadata.name}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else out.push({ index, path: ['metadata', 'name'], message: `${o.kind} "${o.metadata.name}" is already defined at ${whereIs(first)}; keep one` });
  });
  return out;
}

/** `stored`: for a batch object, the stored one it replaces (without its status) */
interface Entry { obj: AnyObject; batchIndex?: number; stored?: AnyObject }

/** The batch laid over what is stored: the objects the rules see, and which of them are the batch's. */
interface Merged { byKey: Map<string, Entry>; all: Entry[] }

/** Report a pair once: on the later batch object when both are in the batch. */
const reportable = (mine: Entry, other: Entry) => other.batchIndex === undefined || other.batchIndex < mine.batchIndex!;

/**
 * Checks a batch against the stored objects (with their status) it would join. Only batch
 * objects get issues: what is already stored was accepted before. A batch object replaces the
 * stored one of the same kind and name, but keeps its status (spec.ip of a re-applied NIC is
 * not in conflict with its own status.ip). `reports`: the nodes' own status of edited
 * MacvlanNets that inUseReportsToRead asked for (untrusted; none: that rule judges nothing).
 */
export function crossObjectIssues(batch: AnyObject[], existing: AnyObject[], reports?: NodeReports): ObjectIssue[] {
  const m = mergeBatch(batch, existing);
  return [
    ...changedSetOnceIssues(batch, existing), ...strandedHostSubnetIssues(m, existing), ...strandedNicIssues(m, existing), ...keptOutsideIssues(m, existing),
    ...inUseInsideIssues(m, existing, reports), ...poolOverlapIssues(m), ...hostSubnetIssues(m), ...hostSubnetPairIssues(m), ...staticIpIssues(m), ...macIssues(m), ...nodeAddressIssues(m), ...poolOverNodeIssues(m, existing), ...nameIssues(m.all),
  ];
}

/** A batch object that changes a set-once field of the stored object it replaces (set-once.ts). */
function changedSetOnceIssues(batch: AnyObject[], existing: AnyObject[]): ObjectIssue[] {
  const stored = new Map(existing.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
  return batch.flatMap((o, index) => {
    const old = stored.get(`${o.kind}/${o.metadata.name}`);
    return old ? setOnceIssues(old, o).map((i) => ({ ...i, index })) : [];
  });
}

function mergeBatch(batch: AnyObject[], existing: AnyObject[]): Merged {
  const key = (o: AnyObject) => `${o.kind}/${o.metadata.name}`;
  const byKey = new Map<string, Entry>();
  for (const o of existing) byKey.set(key(o), { obj: o });
  batch.forEach((o, batchIndex) => {
    const prev = byKey.get(key(o));
    const status = (prev?.obj as { status?: unknown } | undefined)?.status;
    byKey.set(key(o), { obj: (status ? { ...o, status } : o) as AnyObject, batchIndex, ...(prev ? { stored: prev.obj } : {}) });
  });
  return { byKey, all: [...byKey.values()] };
}

/** ClusterNetwork cidrs and MacvlanNet subnets never overlap one another. */
function poolOverlapIssues(m: Merged): ObjectIssue[] {
  const out: ObjectIssue[] = [];
  const pools = m.all.flatMap((e) => {
    if (e.obj.kind === 'ClusterNetwork') return [{ e, cidr: e.obj.spec.cidr, path: ['spec', 'cidr'] }];
    if (e.obj.kind === 'MacvlanNet') return [{ e, cidr: e.obj.spec.subnet, path: ['spec', 'subnet'] }];
    return [];
  });
  for (const p of pools) {
    if (p.e.batchIndex === undefined) continue;
    for (const q of pools) {
      if (q === p || !reportable(p.e, q.e)) continue;
      if (cidrsOverlap(parseCidr(p.cidr), parseCidr(q.cidr))) {
        out.push({ index: p.e.batchIndex, path: p.path, message: `${p.cidr} overlaps ${q.e.obj.kind} "${q.e.obj.metadata.name}" (${q.cidr}); address pools must not overlap` });
      }
    }
  }
  return out;
}

const hostSubnetsOf = (m: Merged) => m.all.filter((e) => e.obj.kind === 'HostSubnet') as (Entry & { obj: HostSubnet })[];

/**
 * A pinned HostSubnet subnet lies inside its ClusterNetwork, off its reserved ranges, and
 * overlaps no other HostSubnet.
 */
function hostSubnetIssues(m: Merged): ObjectIssue[] {
  const out: ObjectIssue[] = [];
  const hostSubnets = hostSubnetsOf(m);
  for (const h of hostSubnets) {
    if (h.batchIndex === undefined || !h.obj.spec.subnet) continue;
    const mine = parseCidr(h.obj.spec.subnet);
    const cn = m.byKey.get(`ClusterNetwork/${h.obj.spec.clusterNetwork}`)?.obj as ClusterNetwork | undefined;
    const outside = cn && (hostSubnetFitWhy(h.obj.spec.subnet, poolOf(cn), true) ?? hostSubnetReservedWhy(h.obj.spec.subnet, poolOf(cn))?.message);
    if (outside) out.push({ index: h.batchIndex, path: ['spec', 'subnet'], message: outside });
    for (const o of hostSubnets) {
      const theirs = o.obj.spec.subnet ?? o.obj.status?.subnet;
      if (o === h || !theirs || !reportable(h, o)) continue;
      if (cidrsOverlap(mine, parseCidr(theirs))) {
        out.push({ index: h.batchIndex, path: ['spec', 'subnet'], message: `${h.obj.spec.subnet} overlaps HostSubnet "${o.obj.metadata.name}" (${theirs})` });
      }
    }
  }
  return out;
}

/**
 * One HostSubnet per node and ClusterNetwork: its agent makes one Docker network of the
 * ClusterNetwork's name on the node, and a second HostSubnet would want it with another subnet
 * (remade back and forth). Edit the one there is, or delete it first. Only a HostSubnet that
 * would make a new pair is refused (new, or moved to another node or network): a pair stored
 * before this rule (or around xctl) can still be edited, and the agent acts on the older.
 */
function hostSubnetPairIssues(m: Merged): ObjectIssue[] {
  const hostSubnets = hostSubnetsOf(m).filter((h) => !h.obj.metadata.deletionTimestamp);
  const samePlace = (a: HostSubnet, b: HostSubnet) => a.spec.node === b.spec.node && a.spec.clusterNetwork === b.spec.clusterNetwork;
  return hostSubnets.flatMap((h) => {
    if (h.batchIndex === undefined || (h.stored && samePlace(h.stored as HostSubnet, h.obj))) return [];
    const o = hostSubnets.find((x) => x !== h && x.obj.spec.node === h.obj.spec.node && x.obj.spec.clusterNetwork === h.obj.spec.clusterNetwork && reportable(h, x));
    return o ? [{
      index: h.batchIndex, path: ['spec', 'node'],
      message: `node ${h.obj.spec.node} already has HostSubnet "${o.obj.metadata.name}" on ClusterNetwork "${h.obj.spec.clusterNetwork}" (one per node and ClusterNetwork: its Docker network); edit that one, or delete it first`,
    }] : [];
  });
}

/**
 * One spec.mac per L2 segment: a MacvlanNet is one segment across hosts, a ClusterNetwork one
 * per node (its bridge; hosts route between them). Two NICs with one MAC there would take each
 * other's frames.
 */
function macIssues(m: Merged): ObjectIssue[] {
  const nics = (m.all.filter((e) => e.obj.kind === 'ContainerNic' && !e.obj.metadata.deletionTimestamp) as (Entry & { obj: ContainerNic })[]).filter((e) => e.obj.spec.mac);
  const segment = (n: ContainerNic) => n.spec.network.macvlanNet !== undefined ? `MacvlanNet "${n.spec.network.macvlanNet}"` : `ClusterNetwork "${n.spec.network.clusterNetwork}" on node ${n.spec.node}`;
  return nics.flatMap((n) => {
    if (n.batchIndex === undefined) return [];
    const mac = n.obj.spec.mac!.toLowerCase();
    const o = nics.find((x) => x !== n && reportable(n, x) && x.obj.spec.mac!.toLowerCase() === mac && segment(x.obj) === segment(n.obj));
    return o ? [{ index: n.batchIndex, path: ['spec', 'mac'], message: `${n.obj.spec.mac} is already the MAC of ContainerNic "${o.obj.metadata.name}" on ${segment(n.obj)} (one L2 segment); pick another or leave mac unset` }] : [];
  });
}

const netKey = (n: ContainerNic) => n.spec.network.clusterNetwork !== undefined ? `ClusterNetwork/${n.spec.network.clusterNetwork}` : `MacvlanNet/${n.spec.network.macvlanNet}`;

/** A pinned NIC address follows the network's rules (rules.ts) and is no other NIC's. */
function staticIpIssues(m: Merged): ObjectIssue[] {
  const out: ObjectIssue[] = [];
  const nics = m.all.filter((e) => e.obj.kind === 'ContainerNic') as (Entry & { obj: ContainerNic })[];
  const hostSubnets = hostSubnetsOf(m).map((h) => h.obj);
  for (const n of nics) {
    if (n.batchIndex === undefined || !n.obj.spec.ip) continue;
    const ipText = n.obj.spec.ip;
    const netIssue = staticIpNetworkIssue(n.obj, m.byKey.get(netKey(n.obj))?.obj, hostSubnets);
    if (netIssue) { out.push({ index: n.batchIndex, path: ['spec', 'ip'], message: withIpHint(netIssue) }); continue; }
    const o = nics.find((x) => x !== n && netKey(x.obj) === netKey(n.obj) && reportable(n, x) && (x.obj.spec.ip === ipText || x.obj.status?.ip === ipText));
    if (o) {
      const taken = o.obj.spec.ip === ipText ? 'spec.ip' : 'status.ip';
      out.push({ index: n.batchIndex, path: ['spec', 'ip'], message: `${ipText} is already used by ContainerNic "${o.obj.metadata.name}" (its ${taken}); pick a free address or leave ip unset to have one allocated` });
    }
  }
  return out;
}

/**
 * The network's reason (rules.ts, shared with the controller's IPConflict and the agents'),
 * with what the user can do about it, as the other refusals of a spec.ip say; a reason that
 * already says which address to pick keeps its own.
 */
function withIpHint(why: string): string {
  return /\bpick\b/.test(why) ? why : `${why}; pick another address or leave ip unset to have one allocated`;
}

function staticIpNetworkIssue(nic: ContainerNic, net: AnyObject | undefined, hostSubnets: HostSubnet[]): string | undefined {
  // A network that does not exist yet is not an error: it may be applied later, and the
  // controller reports the NIC as not Ready until then.
  if (!net) return undefined;
  const ipText = nic.spec.ip!;
  if (net.kind === 'ClusterNetwork') {
    const hs = hostSubnets.find((h) => h.spec.node === nic.spec.node && h.spec.clusterNetwork === net.metadata.name);
    const subnet = hs?.spec.subnet ?? hs?.status?.subnet;
    const part = hs && subnet
      ? { name: hs.metadata.name, node: hs.spec.node, subnet, gateway: hs.spec.gateway ?? hs.status?.gateway, dockerRange: hs.spec.dockerRange ?? hs.status?.dockerRange }
      : undefined;
    return clusterStaticIpWhy({ name: net.metadata.name, cidr: net.spec.cidr, reserved: net.spec.reserved }, ipText, part);
  }
  if (net.kind === 'MacvlanNet') return macvlanStaticIpWhy({ name: net.metadata.name, spec: net.spec }, ipText, net.status?.nodes ?? [], net.status?.external ?? []);
  return undefined;
}

/**
 * An admin's Node.spec.address passes the rule the controller applies to a reported address
 * (rules.ts nodeAddressWhy): unicast, none that a pool of xnet hands out, not another Node's
 * spec.address. Peers route the Node's subnets there, and a set spec.address always wins over
 * what its agent reports. Addresses that nodes reported are not compared: they are the nodes'
 * to write, and must not block an admin's choice (the controller takes a pinned address from
 * a Node that reported it first: controller/node-address.ts).
 */
function addressPoolOf(o: AnyObject): AddressPool | undefined {
  if (o.kind === 'ClusterNetwork') return clusterNetworkPool(o.metadata.name, o.spec.cidr);
  return o.kind === 'MacvlanNet' ? macvlanNetPool(o.metadata.name, o.spec) : undefined;
}

function nodeAddressIssues(m: Merged): ObjectIssue[] {
  const pools = m.all.flatMap((e) => addressPoolOf(e.obj) ?? []);
  const nodes = m.all.filter((e) => e.obj.kind === 'Node' && e.obj.spec?.address) as (Entry & { obj: Node })[];
  const out: ObjectIssue[] = [];
  for (const n of nodes) {
    if (n.batchIndex === undefined) continue;
    const others = nodes.filter((o) => o !== n && reportable(n, o)).map((o) => ({ node: o.obj.metadata.name, address: o.obj.spec.address }));
    const why = nodeAddressWhy(n.obj.metadata.name, n.obj.spec.address, pools, others);
    if (why) out.push({ index: n.batchIndex, path: ['spec', 'address'], message: why });
  }
  return out;
}

/**
 * Where peers route each Node of `m` (rules.ts RoutedNodeAddress): a stored Node's
 * spec.address, else its status.address, which the caller reads from the controller's status
 * alone (storedKindsToCheck): the address the controller accepted, never a node's own report,
 * which a node may write at will and the controller may have refused. A Node of the batch with
 * a spec.address is left out (nodeAddressIssues reports it); one without keeps its stored status.
 */
function routedNodeAddresses(m: Merged): RoutedNodeAddress[] {
  return m.all.flatMap((e): RoutedNodeAddress[] => {
    if (e.obj.kind !== 'Node') return [];
    const node = e.obj.metadata.name;
    if (e.obj.spec?.address) return e.batchIndex === undefined ? [{ node, address: e.obj.spec.address, from: 'spec' }] : [];
    const reported = e.obj.status?.address;
    return typeof reported === 'string' ? [{ node, address: reported, from: 'status' }] : [];
  });
}

/**
 * A pool of the batch that takes in a stored Node's address (a ClusterNetwork over the hosts'
 * underlay, a MacvlanNet whose range holds a host's LAN address): the rule of
 * nodeAddressIssues seen from the pool, reported on the pool's field. One the stored version
 * of the pool already held does not block re-applying it (written around xctl).
 */
function poolOverNodeIssues(m: Merged, existing: AnyObject[]): ObjectIssue[] {
  const nodes = routedNodeAddresses(m);
  const stored = new Map(existing.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
  return m.all.flatMap((e): ObjectIssue[] => {
    const pool = e.batchIndex === undefined ? undefined : addressPoolOf(e.obj);
    if (!pool) return [];
    const old = stored.get(`${e.obj.kind}/${e.obj.metadata.name}`);
    const oldPool = old && addressPoolOf(old);
    const fresh = oldPool ? nodes.filter((n) => !poolOverNodeWhy(oldPool, [n])) : nodes;
    const why = poolOverNodeWhy(pool, fresh);
    if (!why) return [];
    const path = e.obj.kind === 'ClusterNetwork' ? ['spec', 'cidr'] : ['spec', (e.obj as MacvlanNet).spec.ipRange ? 'ipRange' : 'subnet'];
    return [{ index: e.batchIndex!, path, message: why }];
  });
}

const POOL_KINDS: readonly Kind[] = ['ClusterNetwork', 'MacvlanNet', 'HostSubnet', 'ContainerNic'];

/** A kind to read for the checks: `withStatus` merged, or with `controllerStatusOnly` the controller's status alone. */
export interface StoredKindRead { kind: Kind; withStatus: boolean; controllerStatusOnly?: true }

/**
 * The stored objects crossObjectIssues needs for this batch (none: no check against the store),
 * and whether with their status. The Node rule reads specs only, so a batch of Nodes alone
 * reads no status, of which there is one per ContainerNic. A batch with a pool reads the Nodes
 * with the controller's status alone (a Node's accepted address; no node's own report).
 */
export function storedKindsToCheck(batch: Pick<AnyObject, 'kind'>[]): StoredKindRead[] {
  const out = new Map<Kind, Omit<StoredKindRead, 'kind'>>();
  if (batch.some((o) => POOL_KINDS.includes(o.kind))) POOL_KINDS.forEach((k) => out.set(k, { withStatus: true }));
  // a new or edited pool is checked against the address each Node is routed by: its
  // spec.address, else the one the controller accepted (poolOverNodeIssues)
  if (batch.some((o) => o.kind === 'ClusterNetwork' || o.kind === 'MacvlanNet')) out.set('Node', { withStatus: true, controllerStatusOnly: true });
  if (batch.some((o) => o.kind === 'Node')) for (const k of ['ClusterNetwork', 'MacvlanNet', 'Node'] as const) out.set(k, out.get(k) ?? { withStatus: false });
  return [...out].map(([kind, read]) => ({ kind, ...read }));
}
