// Pure mapping from a change in the controller's cache to the work it causes: the work-queue
// keys ("<Kind>/<name>", "gc/uid/<uid>") to reconcile again, and the pools whose waiting
// ContainerNics may now get an address. The controller applies the result (controller.ts).
import type { ClusterNetwork, ContainerNic, HostSubnet, Kind, MacvlanNet, Node } from '../api/index.js';
import type { CacheChange } from '../runtime/kv-cache.js';
import type { RawKv } from '../runtime/kv.js';
import type { Claim, IpamKeys } from '../ipam/keys.js';
import type { Keys } from '../store/keys.js';
import type { Entry } from './model.js';
import { waitsForAddress } from './address-waiters.js';
import { blockWaiters, keyBlockOf } from './block-waiters.js';
import { nicsWithClaimsOn, reportedIpChanged } from './nic-old-address.js';
import type { ClaimEntry } from './model.js';
import { dockerHeldFreed, nicReportsAddressInUse, nicsOnDockerHeld, type ClaimLookup } from './docker-held-events.js';

/** What the mapping may look up: the Model provides it; tests give plain lists. */
export interface ChangeScope {
  keys: Keys;
  ipam: IpamKeys;
  hostSubnet(name: string): Entry<HostSubnet> | undefined;
  object<T extends ContainerNic | ClusterNetwork | MacvlanNet>(kind: T['kind'], name: string): Entry<T> | undefined;
  node(name: string): Entry<Node> | undefined;
  hostSubnetsOnNode(node: string): Entry<HostSubnet>[];
  /** the HostSubnets of a ClusterNetwork waiting PoolExhausted (block-waiters.ts: an index) */
  hostSubnetsWaitingIn(cn: string): string[];
  /** the HostSubnets of a ClusterNetwork with a spec.subnet (block-waiters.ts: an index) */
  hostSubnetsPinnedIn(cn: string): Entry<HostSubnet>[];
  objects<T extends ContainerNic | MacvlanNet | HostSubnet>(kind: T['kind']): Iterable<Entry<T>>;
  /** the Nodes whose controller status holds this address */
  nodesAccepting(address: string): string[];
  /** the Nodes whose agents report this address */
  nodesReporting(address: string): string[];
  /** the Nodes whose agent reports, or whose controller status holds, an address inside `cidr` (a scan) */
  nodesWithAddressIn(cidr: string): string[];
  /** the claims of a pool's addresses (docker-held-events.ts); tests without it queue no NIC for a report */
  claimsIn?: ClaimLookup['claimsIn'];
  /** the claims of one owner uid (nic-old-address.ts); tests without it queue no NIC for an old address */
  claimsOf?(uid: string): ClaimEntry[];
}

export interface ChangeEffects {
  /** pools ("clusternetworks/<cn>", "macvlannets/<mvn>") whose waiting NICs to re-queue first */
  wake: string[];
  /** work-queue keys to add, in order */
  keys: string[];
  /**
   * The node whose report (of itself, or of a MacvlanNet) these keys come from: what it costs
   * every node (a HostSubnet's nodeAddress and so every peer's route, the MacvlanNet status
   * every agent reads, written again) is limited per node (report-budget.ts).
   */
  reporter?: string;
}

export const objectKey = (kind: Kind, name: string): string => `${kind}/${name}`;
export const gcKey = (uid: string): string => `gc/uid/${uid}`;

export function effectsOfChange(ch: CacheChange, s: ChangeScope): ChangeEffects {
  const out: ChangeEffects = { wake: [], keys: [] };
  // a claim made or changed frees nothing (checked first: a burst of allocations is mostly these)
  if (ch.kv && ch.key.startsWith(s.ipam.root())) return out;
  const claim = s.ipam.parse(ch.key);
  if (claim) {
    if (ch.kv) return out;
    // A freed address may be what a waiting NIC needs.
    out.wake.push(`${claim.type}/${claim.pool}`);
    // A block freed: what waits for one of that network is looked at now, not at its next retry.
    if (claim.type === 'clusternetworks' && claim.space === 'blocks') {
      const keyBlock = keyBlockOf(claim.ip, s.object<ClusterNetwork>('ClusterNetwork', claim.pool)?.obj);
      out.keys.push(...blockWaiters(s, claim.pool, ch.prev, keyBlock).map((n) => objectKey('HostSubnet', n)));
    }
    if (claim.type === 'macvlannets' && countedByMacvlanNet(ch.prev, s) && s.object<MacvlanNet>('MacvlanNet', claim.pool)) out.keys.push(objectKey('MacvlanNet', claim.pool));
    return out;
  }
  const obj = s.keys.parseObjectKey(ch.key);
  if (obj) return objectEffects(ch, obj.kind, obj.name, s, out);
  const st = s.keys.parseStatusKey(ch.key);
  if (!st) return indexedStatusEffects(ch, s, out);
  if ('controller' in st.writer) return controllerStatusEffects(ch, st.kind, st.name, s, out);
  // An agent's report: its own Node's liveness, a MacvlanNet's parent and addresses, a deleting NIC's, a gone HostSubnet's block.
  if (ch.local) return out;
  if (st.kind === 'Node' && st.writer.node === st.name) out.keys.push(objectKey('Node', st.name));
  // its lease-bound report came or went: the agent is back or lost, and its MacvlanNet parts with it (macvlan-agent.ts agentLost)
  if (st.kind === 'Node' && st.writer.node === st.name && !ch.prev !== !ch.kv) macvlanNetsOf(s, out);
  if (st.kind === 'MacvlanNet') out.keys.push(objectKey('MacvlanNet', st.name));
  // what these two cost every node (a status all agents read, peers' routes) is the node's budget
  if (out.keys.length) out.reporter = st.writer.node;
  // its address changed or went: an old address it held may go (nic-old-address.ts)
  if (st.kind === 'ContainerNic' && (deletingNicReport(ch, st.name, s) || nicReportsAddressInUse(ch.prev?.value, ch.kv?.value) || reportedIpChanged(ch.prev?.value, ch.kv?.value))) out.keys.push(objectKey('ContainerNic', st.name));
  // the agent's network of a gone HostSubnet is off the host: the block it kept may go (hostsubnet-leaving.ts)
  const was = st.kind === 'HostSubnet' ? reportUid(ch.prev?.value) : undefined;
  if (was && reportUid(ch.kv?.value) !== was) out.keys.push(gcKey(was));
  // addresses Docker's containers hold there: a NIC given one before the report moves (hostsubnet-docker-held.ts)
  const hs = st.kind === 'HostSubnet' && s.claimsIn ? s.hostSubnet(st.name)?.obj : undefined;
  if (hs?.spec.node === st.writer.node) {
    // its network on another subnet now, or the report gone: a block kept after an edit may go (hostsubnet-leaving.ts editKeeps)
    if (!ch.prev !== !ch.kv || reportField(ch.prev?.value, 'networkSubnet') !== reportField(ch.kv?.value, 'networkSubnet')) out.keys.push(objectKey('HostSubnet', st.name));
    for (const nic of nicsOnDockerHeld(ch.prev?.value, ch.kv?.value, hs.spec.clusterNetwork, hs.spec.node, s as ClaimLookup)) out.keys.push(objectKey('ContainerNic', nic));
    // an address no longer listed is free again: the network's waiting NICs may take it
    if (dockerHeldFreed(ch.prev?.value, ch.kv?.value)) out.wake.push(`clusternetworks/${hs.spec.clusterNetwork}`);
  }
  return out;
}

/**
 * A MacvlanNet's claim released that its round must look at again. A NIC's address (its
 * allocation queues the MacvlanNet too: term.ts): the MacvlanNet's allocated and free count it,
 * and nothing else may look at them again. A node's shim address or Docker block (a Node
 * deselected, deleted, or its leaving part let go), by the round's own commit too: a node part
 * waiting for one (Ready `PoolExhausted`) may take it, but the round that frees it cannot hand
 * it out in the same transaction, and the part was otherwise left to its retry (up to 30 s). An
 * external mark, or a pre-claim of a Node that is gone: they cool for every taker, which the
 * status that the freeing round wrote in the same transaction counted free (status.cooling:
 * macvlan-status.ts). A pre-claim a live node gave back does not: another node takes it at once.
 * Untrusted: a claim that does not decode queues nothing, and nothing is thrown in the listener.
 */
function countedByMacvlanNet(prev: RawKv | undefined, s: Pick<ChangeScope, 'node'>): boolean {
  try {
    const c = prev && parsedOf<Partial<Claim> | null>(prev);
    if (c?.role === 'node-pool') return typeof c.node === 'string' && !s.node(c.node);
    return c?.owner?.kind === 'ContainerNic' || c?.role === 'shim' || c?.role === 'docker-block' || c?.role === 'external';
  } catch {
    return false;
  }
}

/** A string field of an agent's report as stored (untrusted: anything else is none). */
function reportField(value: string | undefined, field: 'objectUid' | 'networkSubnet'): string | undefined {
  try {
    const v = value === undefined ? undefined : (JSON.parse(value) as Record<string, unknown> | null)?.[field];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

const reportUid = (value: string | undefined) => reportField(value, 'objectUid');

/**
 * A node's report of a ContainerNic that matters to the NIC's delete (nic-finalizer.ts): it
 * went (the agent took the NIC out of its container: its address may go), or it turned
 * unreadable (`refused`, no value), or it appeared (no previous good value: readable again, or
 * a first report) on a deleting NIC. Each changes why the NIC waits, which its Terminating
 * message says. Any other report (its agent rewriting a readable one) changes nothing there.
 */
function deletingNicReport(ch: CacheChange, name: string, s: ChangeScope): boolean {
  if (!ch.kv) return true;
  return !ch.prev && !!s.object<ContainerNic>('ContainerNic', name)?.obj.metadata.deletionTimestamp;
}

function objectEffects(ch: CacheChange, kind: Kind, name: string, s: ChangeScope, out: ChangeEffects): ChangeEffects {
  if (kind === 'MacvlanNet') out.wake.push(`macvlannets/${name}`);
  // a pool gone, also by the controller's own commit (a MacvlanNet's finalizer done), or changed by someone
  if ((kind === 'ClusterNetwork' || kind === 'MacvlanNet') && (!ch.local || !ch.kv)) {
    poolAddressesMoved(s, [ch.prev && parsedOf(ch.prev), ch.kv && parsedOf(ch.kv)], out);
  }
  // A Node the controller itself made for a node that reported itself (nodes.ts, joining):
  // nothing planned the MacvlanNets that now select it, so they are queued as for any new Node.
  if (ch.local && kind === 'Node' && ch.kv && !ch.prev) return boundToNode(s, name, macvlanNetsOf(s, out));
  // A NIC on a MacvlanNet gone, by the controller's own commit too (nic-finalizer.ts deletes it
  // with its status): its MacvlanNet's Ready may have counted it waiting. Its status goes after
  // it in that commit, when waitingNic no longer finds whose network it was.
  if (kind === 'ContainerNic' && ch.prev && !ch.kv) macvlanNetOf(s, parsedOf<ContainerNic>(ch.prev), out);
  // Our own commits were planned from this cache already.
  if (ch.local) return out;
  out.keys.push(objectKey(kind, name));
  const prev = ch.prev ? JSON.parse(ch.prev.value) : undefined;
  if (kind === 'HostSubnet' && prev) out.keys.push(objectKey('Node', (prev as HostSubnet).spec.node));
  if (kind === 'HostSubnet') bridgeRivals(s, [s.hostSubnet(name)?.obj, prev as HostSubnet | undefined], out);
  if (kind === 'HostSubnet' && prev) strandedNics(s, prev as HostSubnet, ch.kv && parsedOf<HostSubnet>(ch.kv), out);
  if (kind === 'Node') macvlanNetsOf(s, out);
  if (kind === 'Node' && (!ch.prev || !ch.kv)) boundToNode(s, name, out);
  if (kind === 'Node') pinMoved(s, name, (prev as Node | undefined)?.spec?.address, (ch.kv && parsedOf<Node>(ch.kv))?.spec?.address, out);
  if (kind === 'Node' && !ch.kv) {
    // nobody is left on that node to hold the addresses of its deleting NICs
    for (const n of s.objects<ContainerNic>('ContainerNic')) {
      if (n.obj.spec.node === name && n.obj.metadata.deletionTimestamp) out.keys.push(objectKey('ContainerNic', n.obj.metadata.name));
    }
    // nor the old addresses of NICs that left it
    if (s.claimsOf) for (const n of nicsWithClaimsOn(s.objects<ContainerNic>('ContainerNic'), (uid) => s.claimsOf!(uid), name)) out.keys.push(objectKey('ContainerNic', n));
  }
  // A ClusterNetwork made or edited (cidr, reserved, bridgePrefix): each of its HostSubnets is
  // planned again, a controller-made one moving off a slot the network no longer hands out.
  // (Its Nodes are queued by its reconcile, but a Node only plans a HostSubnet it lacks.)
  if (kind === 'ClusterNetwork' && ch.kv) hostSubnetsOf(s, name, out);
  if (kind === 'ClusterNetwork' || kind === 'MacvlanNet') networkUsers(s, kind, name, !ch.prev || !ch.kv, out);
  if (!ch.kv && prev?.metadata?.uid) out.keys.push(gcKey(prev.metadata.uid));
  return out;
}

/**
 * A Node made or deleted: the HostSubnets and ContainerNics bound to it say in their waiting
 * messages whether it exists (node-missing.ts). Rare, so a scan of the NICs is fine.
 */
/**
 * A changed or deleted network may leave its NICs' addresses outside it: they are looked at
 * again. One made or deleted (`came`) also changes what a NIC (or HostSubnet) on a network that
 * does not exist is told: its "did you mean" names the closest network there is.
 */
function networkUsers(s: ChangeScope, kind: 'ClusterNetwork' | 'MacvlanNet', name: string, came: boolean, out: ChangeEffects): void {
  for (const n of s.objects<ContainerNic>('ContainerNic')) {
    const net = n.obj.spec.network;
    const ref = kind === 'ClusterNetwork' ? net.clusterNetwork : net.macvlanNet;
    if (ref === undefined) continue;
    if (ref === name || (came && !s.object<ClusterNetwork | MacvlanNet>(kind, ref))) out.keys.push(objectKey('ContainerNic', n.obj.metadata.name));
  }
  if (kind !== 'ClusterNetwork' || !came) return;
  // likewise a HostSubnet made by hand on a ClusterNetwork that does not exist
  for (const h of s.objects<HostSubnet>('HostSubnet')) {
    const cn = h.obj.spec?.clusterNetwork;
    if (cn !== undefined && cn !== name && !s.object<ClusterNetwork>('ClusterNetwork', cn)) out.keys.push(objectKey('HostSubnet', h.obj.metadata.name));
  }
}

function boundToNode(s: ChangeScope, node: string, out: ChangeEffects): ChangeEffects {
  for (const h of s.hostSubnetsOnNode(node)) out.keys.push(objectKey('HostSubnet', h.obj.metadata.name));
  for (const n of s.objects<ContainerNic>('ContainerNic')) if (n.obj.spec.node === node) out.keys.push(objectKey('ContainerNic', n.obj.metadata.name));
  return out;
}

/**
 * The other HostSubnets of the node that name the same explicit bridge. The older one keeps
 * it (bridge-names.ts), whichever of them the controller saw first: when two are applied at
 * the same instant the younger may have been allocated before the older arrived, so each
 * rival is looked at again when one comes, changes or goes.
 */
function bridgeRivals(s: ChangeScope, versions: Array<HostSubnet | undefined>, out: ChangeEffects): void {
  for (const h of versions) {
    if (!h?.spec?.bridge) continue;
    for (const o of s.hostSubnetsOnNode(h.spec.node)) {
      if (o.obj.metadata.name !== h.metadata.name && o.obj.spec.bridge === h.spec.bridge) out.keys.push(objectKey('HostSubnet', o.obj.metadata.name));
    }
  }
}

/**
 * A HostSubnet deleted (or re-bound to another node or network) by someone else: the NICs of
 * its old node and network may hold addresses in a block that is free now. Looked at again,
 * they move to the node's other HostSubnet or wait for one (the controller's own deletes
 * queue them itself: hostsubnet-work.ts, deleteHostSubnet). Rare, so a scan is fine.
 */
function strandedNics(s: ChangeScope, prev: HostSubnet, now: HostSubnet | undefined, out: ChangeEffects): void {
  const was = prev.spec;
  if (!was || (now?.spec?.node === was.node && now?.spec?.clusterNetwork === was.clusterNetwork)) return;
  for (const n of s.objects<ContainerNic>('ContainerNic')) {
    if (n.obj.spec.node === was.node && n.obj.spec.network.clusterNetwork === was.clusterNetwork) out.keys.push(objectKey('ContainerNic', n.obj.metadata.name));
  }
}

function controllerStatusEffects(ch: CacheChange, kind: Kind, name: string, s: ChangeScope, out: ChangeEffects): ChangeEffects {
  const hs = kind === 'HostSubnet' ? s.hostSubnet(name) : undefined;
  if (hs) {
    out.wake.push(`clusternetworks/${hs.obj.spec.clusterNetwork}`);
    // A HostSubnet that moved (its spec.subnet was edited) strands its NICs' addresses, and
    // one given another gateway leaves the old one in their status (their agent never finds it
    // on the bridge: BridgeNotReady): look at them again so they follow. Rare, so a scan is fine.
    const before = layoutIn(ch.prev?.value);
    const after = layoutIn(ch.kv?.value);
    if (before.subnet && (before.subnet !== after.subnet || before.gateway !== after.gateway)) {
      for (const n of s.objects<ContainerNic>('ContainerNic')) {
        if (n.obj.spec.node === hs.obj.spec.node && n.obj.spec.network.clusterNetwork === hs.obj.spec.clusterNetwork) {
          out.keys.push(objectKey('ContainerNic', n.obj.metadata.name));
        }
      }
    }
  }
  if (kind === 'Node') freedAddress(ch, name, s, out);
  // NodeLost written after the agent's report went (its MacvlanNets may have been planned
  // before, with the agent not yet lost: macvlan-agent.ts agentLost), or no longer said
  if (kind === 'Node' && readyReason(ch.prev) !== readyReason(ch.kv)) macvlanNetsOf(s, out);
  // Someone else removed our status: write it again.
  if (!ch.local && !ch.kv) out.keys.push(objectKey(kind, name));
  return out;
}

/** Someone else removed a status the controller keeps in a node's index, or changed a MacvlanNet's part: write it again. */
function indexedStatusEffects(ch: CacheChange, s: ChangeScope, out: ChangeEffects): ChangeEffects {
  waitingNic(ch, s, out);
  if (ch.local) return out;
  const st = ch.kv ? undefined : s.keys.parseIndexedStatus(ch.key);
  // a MacvlanNet's node part or pool counts (store/macvlan-parts.ts) someone else removed. Not
  // one written: as its status key, the next look puts it right, and a wake per write let the
  // echo of the leader's own write (when it comes before the commit's answer) look again at
  // once, past a node's report budget (report-budget.ts): every report became a status write
  const mvn = ch.kv ? undefined : s.keys.parseMacvlanPart(ch.key)?.name ?? s.keys.parseMacvlanPool(ch.key);
  if (st) out.keys.push(objectKey(st.kind, st.name));
  else if (mvn !== undefined) { if (s.object<MacvlanNet>('MacvlanNet', mvn)) out.keys.push(objectKey('MacvlanNet', mvn)); }
  else copyEffects(ch, s, out);
  return out;
}

/**
 * A ContainerNic's controller status that starts or stops saying it waits for a free address
 * (address-waiters.ts), by the controller's own commit too: its MacvlanNet's Ready counts it.
 */
function waitingNic(ch: CacheChange, s: ChangeScope, out: ChangeEffects): void {
  const st = s.keys.parseIndexedStatus(ch.key);
  if (st?.kind !== 'ContainerNic' || waitsForAddress(ch.prev && parsedOf(ch.prev)) === waitsForAddress(ch.kv && parsedOf(ch.kv))) return;
  macvlanNetOf(s, s.object<ContainerNic>('ContainerNic', st.name)?.obj, out);
}

/** The NIC's MacvlanNet, when it has one that exists. */
function macvlanNetOf(s: ChangeScope, nic: ContainerNic | undefined, out: ChangeEffects): void {
  const mvn = nic?.spec?.network?.macvlanNet;
  if (mvn && s.object<MacvlanNet>('MacvlanNet', mvn)) out.keys.push(objectKey('MacvlanNet', mvn));
}

/**
 * An object's copy in a node's index deleted, or made unlike its object, by someone else: the
 * node's agent reads its NICs from there and takes this one out of its container until the copy
 * is the object again (putStatusIfChanged repairs it). A copy xctl writes with its object is
 * equal to it: no work (a burst of applies is mostly these). Only xctl and the controller may
 * write there (pkg/auth/roles.ts), so this costs no node's writes.
 */
function copyEffects(ch: CacheChange, s: ChangeScope, out: ChangeEffects): void {
  const copy = s.keys.parseIndexedObject(ch.key);
  if (!copy) return;
  const e = s.object<ContainerNic>(copy.kind as 'ContainerNic', copy.name);
  if (!e || e.obj.spec.node !== copy.node || ch.kv?.value === e.kv.value) return;
  out.keys.push(objectKey(copy.kind, copy.name));
}

/** status.subnet of a HostSubnet's controller status, as stored. */
function layoutIn(value: string | undefined): { subnet?: unknown; gateway?: unknown } {
  const st = value === undefined ? undefined : JSON.parse(value) as { subnet?: unknown; gateway?: unknown } | null;
  return { subnet: st?.subnet, gateway: st?.gateway };
}

/** The Ready condition's reason in a controller status as cached (admitted: it decodes). */
function readyReason(kv: RawKv | undefined): unknown {
  const conditions = kv && (parsedOf<{ conditions?: Array<{ type?: unknown; reason?: unknown }> }>(kv)).conditions;
  return Array.isArray(conditions) ? conditions.find((c) => c?.type === 'Ready')?.reason : undefined;
}

/** A cached value as parsed (by admission, the Model, or the writer), parsed here when not yet. */
function parsedOf<T>(kv: RawKv): T {
  return (kv.parsed ?? JSON.parse(kv.value)) as T;
}

/**
 * An admin set or moved a Node's spec.address (node-address.ts: a pin wins): the Node that had
 * the new address accepted loses it. (The old one, once the Node's status lets it go, is
 * freed for others below: freedAddress.)
 */
function pinMoved(s: ChangeScope, node: string, before: string | undefined, after: string | undefined, out: ChangeEffects): void {
  if (before === after || after === undefined) return;
  for (const holder of s.nodesAccepting(after)) if (holder !== node) out.keys.push(objectKey('Node', holder));
}

/**
 * A Node's controller status no longer holds the address it held (its pin moved, the Node was
 * deleted, its agent reported another): the first (by name) other Node whose agent reports
 * it may have it now. One only: Nodes planned together check each other's cached statuses, so
 * two queued at once could both take it. A scan, only when a routed address changes.
 */
function freedAddress(ch: CacheChange, name: string, s: ChangeScope, out: ChangeEffects): void {
  const before = ch.prev && parsedOf<{ address?: unknown }>(ch.prev).address;
  const after = ch.kv && parsedOf<{ address?: unknown }>(ch.kv).address;
  if (before === after) return;
  // two Nodes hold it now (a race of two reports): both looked at again, the first by name keeps it
  const holders = typeof after === 'string' ? s.nodesAccepting(after) : [];
  if (holders.length > 1) for (const n of holders.sort()) out.keys.push(objectKey('Node', n));
  if (typeof before !== 'string') return;
  const next = s.nodesReporting(before).filter((n) => n !== name).sort()[0];
  if (next) out.keys.push(objectKey('Node', next));
}

/**
 * A pool made, moved or deleted: the Nodes with an address inside it before or after are
 * judged again (node-address.ts), so a refused or flagged address is accepted again once the
 * pool is gone, without waiting for the periodic resync. A scan, only when a pool changes.
 */
function poolAddressesMoved(s: ChangeScope, versions: unknown[], out: ChangeEffects): void {
  const ranges = new Set<string>();
  for (const v of versions) {
    const spec = (v as { spec?: { cidr?: unknown; subnet?: unknown } } | undefined)?.spec;
    const range = spec?.cidr ?? spec?.subnet;
    if (typeof range === 'string') ranges.add(range);
  }
  for (const r of ranges) for (const n of s.nodesWithAddressIn(r)) out.keys.push(objectKey('Node', n));
}

/** The HostSubnets on ClusterNetwork `cn`. A scan, only when a ClusterNetwork is applied. */
function hostSubnetsOf(s: ChangeScope, cn: string, out: ChangeEffects): void {
  for (const h of s.objects<HostSubnet>('HostSubnet')) {
    if (h.obj.spec?.clusterNetwork === cn) out.keys.push(objectKey('HostSubnet', h.obj.metadata.name));
  }
}

/**
 * Every MacvlanNet: a Node that appears or changes may be selected by any of them, and one that
 * appears or goes may be what a MacvlanNet's spec.nodes names (its Ready message says whether
 * such a Node exists: node-missing.ts).
 */
function macvlanNetsOf(s: ChangeScope, out: ChangeEffects): ChangeEffects {
  for (const m of s.objects<MacvlanNet>('MacvlanNet')) out.keys.push(objectKey('MacvlanNet', m.obj.metadata.name));
  return out;
}
