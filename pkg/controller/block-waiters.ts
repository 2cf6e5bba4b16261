// What waits for a block of a ClusterNetwork, looked at again when one of its block claims is
// freed (a HostSubnet deleted with its Node or by a user, a claim kept for a node's Docker
// network released by the garbage pass): each waits otherwise for its work-queue retry, whose
// backoff doubles to 30 s (runtime/backoff.ts), and its node has no bridge, no routes and no
// addresses for its containers meanwhile. Block frees are rare, so a scan of the HostSubnets is
// fine; a NIC address freed never comes here (events.ts).
import type { HostSubnet } from '../api/index.js';
import type { Claim } from '../ipam/keys.js';
import type { RawKv } from '../runtime/kv.js';
import { cidrsOverlap, parseCidr, type Cidr } from '../ip/ipv4.js';
import type { Entry } from './model.js';
import { waitsForAddress } from './address-waiters.js';

/** What the scan looks up (events.ts ChangeScope; the Model provides it). */
export interface BlockWaiterScope {
  objects<T extends HostSubnet>(kind: T['kind']): Iterable<Entry<T>>;
  controllerStatus(kind: 'HostSubnet', name: string): { status: unknown } | undefined;
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
 * it, SubnetConflict: agent/desired.ts refusedPin). A claim that did not decode (no `prev`)
 * may have held any block: every pinned one of the network.
 */
export function blockWaiters(s: BlockWaiterScope, cn: string, prev: RawKv | undefined): string[] {
  const freed = prev ? freedCidr(prev) : undefined;
  const out: string[] = [];
  for (const h of s.objects<HostSubnet>('HostSubnet')) {
    if (h.obj.spec?.clusterNetwork !== cn) continue;
    const name = h.obj.metadata.name;
    const pin = h.obj.spec.subnet;
    const at = pin == null ? undefined : cidrOrNone(pin);
    if (pin != null && (!freed || !at || cidrsOverlap(freed, at))) out.push(name);
    else if (waitsForBlock(s.controllerStatus('HostSubnet', name)?.status)) out.push(name);
  }
  return out;
}

/** The cidr the claim held, as cached (admitted: it decodes; anything else is none). */
function freedCidr(prev: RawKv): Cidr | undefined {
  try { return cidrOrNone(((prev.parsed ?? JSON.parse(prev.value)) as Claim | null)?.cidr); } catch { return undefined; }
}

function cidrOrNone(text: unknown): Cidr | undefined {
  try { return typeof text === 'string' ? parseCidr(text, false) : undefined; } catch { return undefined; }
}
