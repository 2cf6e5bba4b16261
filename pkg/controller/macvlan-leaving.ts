// A node that leaves a MacvlanNet (its labels or the selector changed) may still have
// containers on it using the network: its agent cannot remove Docker's network until they
// go, and it reports on the MacvlanNet until then (agent/reconcilers/macvlan.ts removes its
// report only once the network is off the host). Until that report goes, the node keeps its
// Docker block, its shim address and the pre-claimed addresses its report lists as assigned
// (all of them while the report's IPAM part does not decode):
// freed at once, another node could be given an address a container here still answers for on
// the shared segment. What it keeps is announced in the status (a part that is not ready), so
// `xctl ipam check` finds every claim announced. A deleted Node keeps nothing: nobody is left
// on it to hold anything. A Node whose key does not decode keeps everything (unreadable is
// not absent).
import type { MacvlanNodeStatus } from '../api/index.js';
import { byAddress } from '../ip/ipv4.js';
import type { ClaimEntry } from './model.js';
import type { Ctx } from './context.js';
import { reportedInUse } from './ipam-report.js';

/** What leaving nodes keep, by node. */
export type LeavingParts = Map<string, { dockerRange?: string; shimAddress?: string; addresses: string[]; why: string }>;

/**
 * Whether the own claim `c` (of MacvlanNet `mvn`) is held by a node no longer selected; if so
 * it is filed into `parts`.
 */
export function heldByLeavingNode(ctx: Ctx, mvn: string, selected: Set<string>, c: ClaimEntry, parts: LeavingParts): boolean {
  const node = c.claim.node;
  if (!node || selected.has(node)) return false;
  // A Node whose key does not decode is not deleted, and whether it is still selected cannot
  // be read: it keeps all it holds here, as it was (its agent keeps the network too).
  if (!ctx.model.node(node)) return ctx.model.cache.isRefused(ctx.model.keys.object('Node', node)) && file(parts, node, c, UNREADABLE);
  const report = ctx.model.nodeStatus(node, 'MacvlanNet', mvn);
  if (!report) return false;
  const role = c.claim.role;
  // a report whose IPAM part does not decode (an agent of another version) may list it: kept
  if (role === 'node-pool' && reportedInUse(ctx, node, mvn, c.claim.ip!) === false) return false;
  if (role !== 'node-pool' && role !== 'docker-block' && role !== 'shim') return false;
  return file(parts, node, c, LEAVING);
}

const LEAVING = 'no longer selected: kept until its agent has taken the network off the host (containers there still use it)';
const DELETING = 'the MacvlanNet is being deleted: kept until its agent has taken the network off the host (containers there still use it)';

/** The parts of a deleting MacvlanNet's nodes say so (they were not deselected). */
export function deletingParts(parts: LeavingParts): void {
  for (const p of parts.values()) if (p.why === LEAVING) p.why = DELETING;
}

const UNREADABLE = 'its Node does not decode: what it holds is kept as it was until the Node is readable or deleted';

/** Files a kept claim into its node's part; false when the part has one of its kind already (a second is not kept). */
function file(parts: LeavingParts, node: string, c: ClaimEntry, why: string): boolean {
  const part = parts.get(node) ?? { addresses: [], why };
  parts.set(node, part);
  const role = c.claim.role;
  if (role === 'docker-block') { if (part.dockerRange) return false; part.dockerRange = c.claim.cidr; }
  else if (role === 'shim') { if (part.shimAddress) return false; part.shimAddress = c.claim.ip; }
  else if (role === 'node-pool') part.addresses.push(c.claim.ip!);
  else return false;
  return true;
}

/** The status parts of the nodes that left and still hold something, sorted by name. */
export function leavingStatus(parts: LeavingParts): MacvlanNodeStatus[] {
  return [...parts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, p]) => ({
    name,
    ...(p.dockerRange ? { dockerRange: p.dockerRange } : {}),
    ...(p.shimAddress ? { shimAddress: p.shimAddress } : {}),
    ...(p.addresses.length ? { addresses: [...p.addresses].sort(byAddress) } : {}),
    ready: false,
    message: p.why,
  }));
}
