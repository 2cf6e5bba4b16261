// What waits for a block of a ClusterNetwork, looked at again when one of its block claims is
// freed (a HostSubnet deleted with its Node or by a user, a claim kept for a node's Docker
// network released by the garbage pass): each waits otherwise for its work-queue retry, whose
// backoff doubles to 30 s (runtime/backoff.ts), and its node has no bridge, no routes and no
// addresses for its containers meanwhile. Frees come in bursts (a node pool of 500 deleted frees
// 500 blocks per network, each heard in the cache's listener): the waiting and the pinned
// HostSubnets are filed by network as their objects and statuses change (BlockWaiterIndex, kept
// by Model.index), so a free looks at them, never at every HostSubnet. A NIC address freed never
// comes here (events.ts).
import type { HostSubnet } from '../api/index.js';
import type { Claim } from '../ipam/keys.js';
import type { RawKv } from '../runtime/kv.js';
import { blockOf, cidrsOverlap, parseCidr, type Cidr } from '../ip/ipv4.js';
import type { Entry } from './model.js';
import { AddressWaiters, waitsForAddress } from './address-waiters.js';

/** What the lookup reads (events.ts ChangeScope; the Model provides it from its BlockWaiterIndex). */
export interface BlockWaiterScope {
  /** the HostSubnets of ClusterNetwork `cn` whose controller status says Allocated=False PoolExhausted */
  hostSubnetsWaitingIn(cn: string): string[];
  /** the HostSubnets of ClusterNetwork `cn` with a spec.subnet */
  hostSubnetsPinnedIn(cn: string): Entry<HostSubnet>[];
}

/**
 * Whether a HostSubnet's controller status (untrusted) says it found no free block: Allocated
 * False PoolExhausted, as planEnsure and planCreate write it (hostsubnets.ts), the same
 * condition a NIC waiting for an address has (address-waiters.ts).
 */
export function waitsForBlock(status: unknown): boolean {
  return waitsForAddress(status);
}

/**
 * The HostSubnets of ClusterNetwork `cn` that may take the block whose claim (`prev`, as it
 * was) went, by name: every one waiting PoolExhausted (a controller-made one of a node that
 * joined a full network, retried on its own key: the Node's reconcile plans only a HostSubnet
 * it lacks), and each one pinning a subnet that overlaps the block (it may be the one refused
 * it, SubnetConflict: agent/desired.ts refusedPin). The block is the claim's cidr and the
 * `keyBlock` its key held (a hostPrefix block at the key's address: a pinned upper /25 keeps
 * the lower /25's key, a misfit claim holds its key's block whatever cidr it names); a claim
 * that did not decode (no `prev`), or a key whose block is not known, may have held any block:
 * every pinned one of the network.
 */
export function blockWaiters(s: BlockWaiterScope, cn: string, prev: RawKv | undefined, keyBlock: Cidr | undefined): string[] {
  const freed = prev && keyBlock ? freedCidr(prev) : undefined;
  const out = new Set(s.hostSubnetsWaitingIn(cn));
  for (const h of s.hostSubnetsPinnedIn(cn)) {
    const at = cidrOrNone(h.obj.spec.subnet);
    if (!freed || !keyBlock || !at || cidrsOverlap(freed, at) || cidrsOverlap(keyBlock, at)) out.add(h.obj.metadata.name);
  }
  return [...out];
}

/** The hostPrefix block at a block claim key's address `ip`, as ClusterNetwork `net` (untrusted, as cached) sizes it; none when it does not say. */
export function keyBlockOf(ip: number, net: { spec?: { hostPrefix?: unknown } } | undefined): Cidr | undefined {
  const prefix = net?.spec?.hostPrefix;
  return typeof prefix === 'number' && Number.isInteger(prefix) && prefix >= 0 && prefix <= 32 ? blockOf(ip, prefix) : undefined;
}

/** The HostSubnets waiting for a block and those pinning one, by ClusterNetwork (kept by Model.index). */
export class BlockWaiterIndex {
  /** name -> its ClusterNetwork, while its controller status says it waits (the NICs' index, by network) */
  private readonly waiting = new AddressWaiters();
  /** ClusterNetwork -> the HostSubnets with a spec.subnet */
  private readonly pinned = new Map<string, Set<string>>();

  /** A HostSubnet's controller status at `key` changed (`kv` undefined: gone); `hs`: its object as cached now. */
  fileStatus(name: string, key: string, kv: RawKv | undefined, hs: HostSubnet | undefined): void {
    this.waiting.fileStatus(name, key, !!kv && waitsForBlock(statusOrNone(kv)), hs?.spec.clusterNetwork);
  }

  /** A HostSubnet's object changed from `prev` to `cur` (admitted: they decode). */
  fileObject(name: string, prev: HostSubnet | undefined, cur: HostSubnet | undefined): void {
    this.waiting.fileObject(name, cur?.spec.clusterNetwork);
    if (prev?.spec.subnet != null) {
      const s = this.pinned.get(prev.spec.clusterNetwork);
      s?.delete(name);
      if (s?.size === 0) this.pinned.delete(prev.spec.clusterNetwork);
    }
    if (cur?.spec.subnet == null) return;
    let s = this.pinned.get(cur.spec.clusterNetwork);
    if (!s) this.pinned.set(cur.spec.clusterNetwork, (s = new Set()));
    s.add(name);
  }

  waitingIn(cn: string): string[] { return this.waiting.in(cn); }
  pinnedIn(cn: string): ReadonlySet<string> | undefined { return this.pinned.get(cn); }
}

/** A status as stored (untrusted: a value that is no JSON says nothing, and nothing is thrown in the listener). */
function statusOrNone(kv: RawKv): unknown {
  try { return kv.parsed ?? JSON.parse(kv.value); } catch { return undefined; }
}

/** The cidr the claim held, as cached (admitted: it decodes; anything else is none). */
function freedCidr(prev: RawKv): Cidr | undefined {
  try { return cidrOrNone(((prev.parsed ?? JSON.parse(prev.value)) as Claim | null)?.cidr); } catch { return undefined; }
}

function cidrOrNone(text: unknown): Cidr | undefined {
  try { return typeof text === 'string' ? parseCidr(text, false) : undefined; } catch { return undefined; }
}
