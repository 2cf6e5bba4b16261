// Which ContainerNics a node's new report of the addresses Docker's containers hold on its
// HostSubnet (status.dockerHeld: hostsubnet-docker-held.ts) concerns: those holding one of the
// addresses it lists now, which the controller moves off unless they are in place. Pure: the
// values are the stored texts (untrusted: anything that does not decode lists nothing here, and
// hostsubnet-docker-held.ts says so when the report is read), bounded by MAX_DOCKER_HELD.
import { ADDRESS_IN_USE_REASON as ADDRESS_IN_USE, dockerHeldSchema } from '../api/docker-held.js';
import { parseIPv4 } from '../ip/ipv4.js';
import type { Claim, PoolType } from '../ipam/keys.js';


/** What the mapping looks up: the claims of a pool's addresses (the Model). */
export interface ClaimLookup {
  claimsIn(type: PoolType, pool: string, space: 'addresses'): ReadonlyMap<number, { claim: Claim }>;
}

/** dockerHeld of a stored report, or none. */
function listed(value: string | undefined): string[] {
  if (value === undefined) return [];
  try {
    const r = dockerHeldSchema.safeParse((JSON.parse(value) as { dockerHeld?: unknown } | null)?.dockerHeld);
    return r.success ? r.data : [];
  } catch { return []; }
}

/**
 * The names of the NICs of `node` (the HostSubnet's, whose report this is) on ClusterNetwork
 * `cn` that hold an address the report lists now and did not before. Another node's NIC at a
 * listed address is not queued: the report counts for none of its NICs (it was a lie, or an
 * address of another block), and a node rewriting its report could otherwise keep up to
 * MAX_DOCKER_HELD NICs of other nodes in the controller's queue.
 */
export function nicsOnDockerHeld(prev: string | undefined, now: string | undefined, cn: string | undefined, node: string, s: ClaimLookup): string[] {
  // most reports (a Ready rewritten) list none: no parse for them
  if (cn === undefined || !now?.includes('"dockerHeld"')) return [];
  const before = new Set(listed(prev));
  const claims = s.claimsIn('clusternetworks', cn, 'addresses');
  const out: string[] = [];
  for (const ip of listed(now)) {
    if (before.has(ip)) continue;
    const c = claims.get(parseIPv4(ip))?.claim;
    if (c?.owner?.kind === 'ContainerNic' && c.node === node) out.push(c.owner.name);
  }
  return out;
}

/**
 * Whether the report no longer lists an address it listed before (the container left): that
 * address is free for the controller again, and the NICs of the network waiting for one
 * (PoolExhausted) are woken as for a claim deleted, not left to their backoff (up to 30 s).
 */
export function dockerHeldFreed(prev: string | undefined, now: string | undefined): boolean {
  // most reports (a Ready rewritten) listed none before: no parse for them
  if (!prev?.includes('"dockerHeld"')) return false;
  const still = new Set(listed(now));
  return listed(prev).some((ip) => !still.has(ip));
}

/** The reason of the Ready condition in a stored report, or none (untrusted text). */
function readyReason(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    const conditions = (JSON.parse(value) as { conditions?: unknown } | null)?.conditions;
    return Array.isArray(conditions) ? (conditions.find((c) => (c as { type?: unknown } | null)?.type === 'Ready') as { reason?: unknown } | undefined)?.reason : undefined;
  } catch { return undefined; }
}

/**
 * Whether a NIC's report now says its address is held by a Docker container (the agent's
 * AddressInUse, ../agent/nic-docker-held.ts) and did not before. The NIC is looked at again:
 * when the node's dockerHeld report came before the NIC's allocation committed, the claim was
 * not in the cache yet and nicsOnDockerHeld queued nothing; the controller has no periodic
 * resync, so the NIC would keep waiting. Level-triggered: a NIC in place or pinned stays.
 */
export function nicReportsAddressInUse(prev: string | undefined, now: string | undefined): boolean {
  // most reports (Ready True, Attaching) say nothing of it: no parse for them
  if (!now?.includes(`"${ADDRESS_IN_USE}"`)) return false;
  return readyReason(now) === ADDRESS_IN_USE && readyReason(prev) !== ADDRESS_IN_USE;
}
