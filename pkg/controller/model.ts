// Typed, indexed views over the controller's KvCache: objects, statuses and IPAM claims.
// Everything a reconcile decides is read from here; everything it writes goes through a
// TxnPlan, which updates the cache on commit.
import { matchLabels, type AnyObject, type ClusterNetwork, type ContainerNic, type HostSubnet, type Kind, type MacvlanNet, type Node, type Status, type StatusOf } from '../api/index.js';
import { INDEXED_KINDS, Keys, indexNode } from '../store/keys.js';
import { IpamKeys, type Claim, type ClaimSpace, type PoolType } from '../ipam/keys.js';
import type { ReleaseMark } from '../ipam/release-mark.js';
import { ReleasedIndex, type ReleasedClaim } from './released-index.js';
import { DEFAULT_ADDRESS_COOLDOWN_MS } from './options.js';
import type { KvCache, CacheChange } from '../runtime/kv-cache.js';
import type { RawKv } from '../runtime/kv.js';
import { monotonicMs } from '../runtime/clock.js';
import { isIPv4, parseCidr, parseIPv4, type Cidr } from '../ip/ipv4.js';
import { PinnedAddresses, type NicPin } from './pinned-addresses.js';
import { HostSubnetsByNode } from './hostsubnets-by-node.js';
import { cidrInterval, contains } from '../ipam/ranges.js';
import { ClosestNodes } from './closest-nodes.js';
import { AddressWaiters, waitsForAddress } from './address-waiters.js';
import { BlockWaiterIndex } from './block-waiters.js';
import { incarnationOf, wroteReportsSince } from './node-incarnation.js';
import { ClaimIndex, type ClaimEntry } from './claim-index.js';
import { joinedMacvlanStatus } from './macvlan-joined.js';

export interface Entry<T> { obj: T; kv: RawKv }
export type { ReleasedClaim } from './released-index.js';
export type { ClaimEntry } from './claim-index.js';

/** The kv's value as parsed JSON, parsed once (admission or the writer may have done it). */
function parse<T>(kv: RawKv): T {
  if (kv.parsed === undefined) kv.parsed = JSON.parse(kv.value);
  return kv.parsed as T;
}

export class Model {
  readonly keys: Keys;
  readonly ipam: IpamKeys;
  /** claims by pool, space, address and owner, and the claim keys held unreadable (claim-index.ts) */
  private readonly claims: ClaimIndex;
  /** a node's HostSubnets of one network, or of all (hostsubnets-by-node.ts) */
  private readonly hsByNode = new HostSubnetsByNode();
  /** the addresses Nodes are routed by and ContainerNics pin (pinned-addresses.ts) */
  private readonly pins = new PinnedAddresses();
  private readonly nodeStatusRoot: string;
  /** when each address claim went, for the reuse cooldown (address-cooldown.ts); the leader marks them (release-marks.ts) */
  readonly releases: ReleasedIndex;

  /** the Node names closest to a name no Node has, kept until a Node comes or goes (closest-nodes.ts) */
  private readonly closestNodes = new ClosestNodes(() => [...this.objects<Node>('Node')].map((n) => n.obj.metadata.name));

  /** the ContainerNics each pool refused for want of a free address (nicsWaitingIn) */
  private readonly waiters = new AddressWaiters();
  /** the HostSubnets waiting for a block and those pinning one, by ClusterNetwork (hostSubnetsWaitingIn, hostSubnetsPinnedIn) */
  private readonly blockWaiters = new BlockWaiterIndex();
  private readonly hsStatusRoot: string;

  constructor(readonly cache: KvCache, readonly prefix: string, addressCooldownMs = DEFAULT_ADDRESS_COOLDOWN_MS) {
    this.releases = new ReleasedIndex(addressCooldownMs);
    this.keys = new Keys(prefix);
    this.ipam = new IpamKeys(prefix);
    this.nodeStatusRoot = this.keys.controllerStatuses('Node');
    this.hsStatusRoot = this.keys.controllerStatuses('HostSubnet');
    this.claims = new ClaimIndex(this.ipam, (name) => {
      const cn = this.clusterNetwork(name);
      return cn && { hostPrefix: cn.obj.spec.hostPrefix, createRevision: cn.kv.createRevision };
    });
    cache.onChange((c) => this.index(c));
  }

  private index(c: CacheChange): void {
    const ck = this.ipam.parse(c.key);
    if (ck) {
      const gone = c.prev && !c.kv ? this.releasedClaim(parse<Claim>(c.prev)) : undefined;
      if (ck.space === 'addresses' && (c.kv || gone)) this.releases.fileClaim(ck.type, ck.pool, ck.ip, gone, c.at ?? monotonicMs());
      this.claims.file(c, ck);
      return;
    }
    const mark = this.ipam.parseReleaseMark(c.key);
    if (mark) {
      if (c.kv) this.releases.fileMark(mark.type, mark.pool, mark.ip, parse<ReleaseMark>(c.kv), this.claimsIn(mark.type, mark.pool, 'addresses').has(mark.ip));
      return;
    }
    if (c.key.startsWith(this.nodeStatusRoot)) return this.fileAccepted(c.key.slice(this.nodeStatusRoot.length), c);
    if (c.key.startsWith(this.hsStatusRoot)) {
      const name = c.key.slice(this.hsStatusRoot.length);
      return this.blockWaiters.fileStatus(name, c.key, c.kv, this.hostSubnet(name)?.obj);
    }
    const indexed = this.keys.parseIndexedStatus(c.key);
    if (indexed?.kind === 'ContainerNic') {
      // the NIC's pool is looked up only for a status that says it waits: most say it does not
      const waits = !!c.kv && waitsForAddress(parse(c.kv));
      return this.waiters.fileStatus(indexed.name, c.key, waits, waits ? this.nicPoolId(this.nic(indexed.name)?.obj) : undefined);
    }
    const ok = this.keys.parseObjectKey(c.key);
    // its hostPrefix decides where its HostSubnets' block claims may sit
    if (ok?.kind === 'ClusterNetwork') this.claims.refile(ok.name);
    if (ok?.kind === 'Node') this.filePin(ok.name, c);
    if (ok?.kind === 'Node' && (!c.prev || !c.kv)) this.closestNodes.forget();
    if (ok?.kind === 'ContainerNic') this.fileNicPin(ok.name, c);
    if (ok?.kind === 'ContainerNic') this.waiters.fileObject(ok.name, this.nicPoolId(c.kv && parse<ContainerNic>(c.kv)));
    if (ok?.kind === 'HostSubnet') {
      const before = c.prev && parse<HostSubnet>(c.prev);
      const after = c.kv && parse<HostSubnet>(c.kv);
      this.blockWaiters.fileObject(ok.name, before, after);
      this.hsByNode.file(ok.name, before, after);
    }
  }

  /**
   * What a claim that went was: its role, and for a node's claim whether its Node was gone by
   * then (deleted: what it held goes at once, while its containers may still use it or just did;
   * its Node's delete is indexed before the claims the round frees for it). A Node whose key
   * does not decode is not gone.
   */
  private releasedClaim(claim: Claim): ReleasedClaim {
    const node = claim.node;
    const nodeGone = !!node && !this.node(node) && !this.cache.isRefused(this.keys.object('Node', node));
    return nodeGone ? { role: claim.role, nodeGone, node } : { role: claim.role };
  }

  object<T extends AnyObject>(kind: Kind, name: string): Entry<T> | undefined {
    const kv = this.cache.get(this.keys.object(kind, name));
    return kv ? { obj: parse<T>(kv), kv } : undefined;
  }

  *objects<T extends AnyObject>(kind: Kind): Iterable<Entry<T>> {
    for (const kv of this.cache.entries(this.keys.objects(kind))) yield { obj: parse<T>(kv), kv };
  }

  /**
   * The status this controller wrote for the object, read as that kind's status. An indexed
   * kind's is in the index of the node the object is bound to now (keys.controllerStatus).
   * `obj`: the object, when the caller has it (saves looking it up).
   */
  controllerStatus<K extends Kind>(kind: K, name: string, obj?: AnyObject): { status: StatusOf<K>; kv: RawKv } | undefined {
    const cur = this.controllerStatusAt(kind, name, obj).cur;
    // a MacvlanNet's joined with its pool counts and nodes' parts, as every reader sees it (kv: its status key's)
    return kind === 'MacvlanNet' && cur ? joinedMacvlanStatus(this.cache, this.keys, name, cur) as typeof cur : cur;
  }

  /** Where the controller's status of the object is kept (no key: an indexed object bound to no node, or gone), and what is there. */
  controllerStatusAt<K extends Kind>(kind: K, name: string, obj?: AnyObject): { key?: string; cur?: { status: StatusOf<K>; kv: RawKv } } {
    const node = INDEXED_KINDS.includes(kind) ? indexNode(obj ?? this.object(kind, name)?.obj) : undefined;
    const key = this.keys.controllerStatus(kind, name, node);
    const kv = key === undefined ? undefined : this.cache.get(key);
    return { key, cur: kv ? { status: parse<StatusOf<K>>(kv), kv } : undefined };
  }

  /** What `node`'s agent reported about the object: untrusted, check each field before use. */
  nodeStatus(node: string, kind: Kind, name: string): Status | undefined {
    const kv = this.cache.get(this.keys.status(kind, name, { node }));
    return kv ? parse<Status>(kv) : undefined;
  }

  node(name: string) { return this.object<Node>('Node', name); }

  /** The Node names closest to `name` (suggest.ts: a typo of one of them), if any is close. */
  closestNode(name: string): string[] { return this.closestNodes.closest(name); }

  /**
   * Whether the agent of the Node as it is now has written anything: a node's credentials write
   * only its own status subtree, so a report there (on a MacvlanNet, a NIC, its own host) written
   * since the Node was made means its agent ran (node-incarnation.ts: not a former Node's).
   */
  nodeWroteReports(node: string): boolean {
    // one directory per kind, each looked up: a prefix looked up per node scanned every directory
    // of the cache after one came or went, asked for every node with no report about itself in
    // every MacvlanNet round (1,000 Nodes applied before their agents start: seconds per round)
    return wroteReportsSince(this.cache, this.keys.nodeStatuses(node), incarnationOf(this.node(node)?.kv));
  }

  /** Nodes whose agent reported itself (its lease-bound report exists), with or without a Node object. */
  *reportedNodes(): Iterable<string> {
    for (const kv of this.cache.entries(this.keys.nodeStatuses())) {
      const st = this.keys.parseStatusKey(kv.key);
      if (st?.kind === 'Node' && 'node' in st.writer && st.writer.node === st.name) yield st.name;
    }
  }
  clusterNetwork(name: string) { return this.object<ClusterNetwork>('ClusterNetwork', name); }
  hostSubnet(name: string) { return this.object<HostSubnet>('HostSubnet', name); }
  nic(name: string) { return this.object<ContainerNic>('ContainerNic', name); }
  macvlanNet(name: string) { return this.object<MacvlanNet>('MacvlanNet', name); }

  hostSubnetsOf(clusterNetwork: string, node: string): Entry<HostSubnet>[] {
    return this.hostSubnetEntries([this.hsByNode.of(clusterNetwork, node)]);
  }

  /** Every HostSubnet of a node, whatever its ClusterNetwork. */
  hostSubnetsOnNode(node: string): Entry<HostSubnet>[] {
    return this.hostSubnetEntries(this.hsByNode.onNode(node));
  }

  private hostSubnetEntries(sets: Iterable<ReadonlySet<string> | undefined>): Entry<HostSubnet>[] {
    const out: Entry<HostSubnet>[] = [];
    for (const names of sets) for (const n of names ?? []) { const e = this.hostSubnet(n); if (e) out.push(e); }
    return out;
  }

  /**
   * Until when the address stays out of use after its claim went (runtime/clock.ts: monotonic ms),
   * and what that claim was, or undefined when it is free (released-index.ts: a release this
   * controller saw, or one a leader marked in etcd); who must wait it out is address-cooldown.ts's rule.
   */
  coolingUntil(type: PoolType, pool: string, ip: number, cooldownMs: number): ({ until: number } & ReleasedClaim) | undefined {
    return this.releases.coolingUntil(type, pool, ip, cooldownMs);
  }

  claimsIn(type: PoolType, pool: string, space: ClaimSpace): Map<number, ClaimEntry> {
    return this.claims.in(`${type}/${pool}`, space);
  }

  /**
   * Addresses (or block bases) of the space whose claim key is in etcd but unreadable (its value
   * does not decode, or a HostSubnet's block claim sits where none is kept): taken, by no one known.
   */
  unreadableClaimsIn(type: PoolType, pool: string, space: ClaimSpace): ReadonlySet<number> {
    return this.claims.unreadableIn(`${type}/${pool}`, space);
  }

  claimsOf(uid: string): ClaimEntry[] {
    const out: ClaimEntry[] = [];
    for (const key of this.claims.keysOf(uid)) {
      const kv = this.cache.get(key);
      const ck = this.ipam.parse(key);
      if (kv && ck) out.push({ key, claim: parse<Claim>(kv), kv, ip: ck.ip, space: ck.space });
    }
    return out;
  }

  private filePin(node: string, c: CacheChange): void {
    this.pins.fileNodePin(node, c.prev && parse<Node>(c.prev).spec?.address, c.kv && parse<Node>(c.kv).spec?.address);
  }

  private fileNicPin(nic: string, c: CacheChange): void {
    this.pins.fileNicPin(nic, c.prev && pinOf(parse<ContainerNic>(c.prev)), c.kv && pinOf(parse<ContainerNic>(c.kv)));
  }

  private fileAccepted(node: string, c: CacheChange): void {
    this.pins.fileAccepted(node, c.prev && parse<Status>(c.prev).address, c.kv && parse<Status>(c.kv).address);
  }

  /** A Node other than `self` whose spec.address is `address`. */
  pinnedBy(address: string, self: string): string | undefined { return this.pins.pinnedBy(address, self); }

  /** A Node routed by `address`: its spec.address or the report the controller accepted (PinnedAddresses.nodeRoutedBy). */
  nodeRoutedBy(address: string): string | undefined { return this.pins.nodeRoutedBy(address); }

  /** Every address inside `subnet` that some Node is routed by (see nodeRoutedBy). */
  routedAddressesIn(subnet: Cidr): number[] { return this.pins.routedAddressesIn(subnet); }

  /** A ContainerNic whose spec.ip pins `ip` in the pool: no one else gets it (PinnedAddresses.nicPinning). */
  nicPinning(type: PoolType, pool: string, ip: number): string | undefined { return this.pins.nicPinning(`${type}/${pool}`, ip); }

  /**
   * The ContainerNics the pool refused for want of a free address (their Allocated condition:
   * address-waiters.ts), not being deleted, by name. Read from an index: no scan of the NICs.
   */
  nicsWaitingIn(type: PoolType, pool: string): string[] {
    return this.waiters.in(`${type}/${pool}`).filter((n) => !this.nic(n)?.obj.metadata.deletionTimestamp);
  }

  /** The HostSubnets of ClusterNetwork `cn` waiting PoolExhausted for a block, by name (block-waiters.ts: an index, no scan). */
  hostSubnetsWaitingIn(cn: string): string[] { return this.blockWaiters.waitingIn(cn); }

  /** The HostSubnets of ClusterNetwork `cn` with a spec.subnet (block-waiters.ts: an index, no scan). */
  hostSubnetsPinnedIn(cn: string): Entry<HostSubnet>[] { return this.hostSubnetEntries([this.blockWaiters.pinnedIn(cn)]); }

  private nicPoolId(nic: ContainerNic | undefined): string | undefined {
    const pool = nic && nicPool(nic);
    return pool && `${pool.type}/${pool.name}`;
  }

  /** Every address of the pool that a ContainerNic's spec.ip pins (see nicPinning). */
  nicPinnedAddresses(type: PoolType, pool: string): number[] { return this.pins.nicPinnedAddresses(`${type}/${pool}`); }

  /** The Nodes the controller routes `address` to, per their statuses (more than one only in a race). */
  nodesAccepting(address: string): string[] { return this.pins.nodesAccepting(address); }

  /** The Nodes whose agent reports, or whose controller status holds, an address inside `cidr` (a scan: a pool changed). */
  nodesWithAddressIn(cidr: string): string[] {
    let inside: ReturnType<typeof cidrInterval>[];
    try { inside = [cidrInterval(parseCidr(cidr))]; } catch { return []; }
    const isInside = (a: unknown) => typeof a === 'string' && isIPv4(a) && contains(inside, parseIPv4(a));
    const out: string[] = [];
    for (const n of this.objects<Node>('Node')) {
      const name = n.obj.metadata.name;
      if (isInside(this.nodeStatus(name, 'Node', name)?.address) || isInside(this.controllerStatus('Node', name)?.status.address)) out.push(name);
    }
    return out;
  }

  /** The Nodes whose agent reports `address` (a scan: for an admin's rare edit of a pin). */
  nodesReporting(address: string): string[] {
    const out: string[] = [];
    for (const n of this.objects<Node>('Node')) {
      const name = n.obj.metadata.name;
      if (this.nodeStatus(name, 'Node', name)?.address === address) out.push(name);
    }
    return out;
  }

  allClaims(): Iterable<ClaimEntry> { return this.claims.all(); }
}

/** The pool a ContainerNic draws its address from. */
export function nicPool(nic: ContainerNic): { type: PoolType; name: string } | undefined {
  if (nic.spec.network.clusterNetwork) return { type: 'clusternetworks', name: nic.spec.network.clusterNetwork };
  if (nic.spec.network.macvlanNet) return { type: 'macvlannets', name: nic.spec.network.macvlanNet };
  return undefined;
}

/** Where a ContainerNic's spec.ip pins an address, if it does. */
function pinOf(nic: ContainerNic): NicPin | undefined {
  // most NICs pin nothing: their pool is not looked up (each is filed here at every start)
  const ip = nic.spec.ip;
  const pool = ip && isIPv4(ip) ? nicPool(nic) : undefined;
  return pool && ip ? { poolId: `${pool.type}/${pool.name}`, ip: parseIPv4(ip) } : undefined;
}

export function labelsMatch(selector: { matchLabels?: Record<string, string> } | undefined, labels: Record<string, string> | undefined): boolean {
  return matchLabels(selector?.matchLabels, labels);
}
