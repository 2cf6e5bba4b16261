// A ContainerNic's claims other than the address it uses now (its pin edited, its network or
// range changed, or it moved to another node on a MacvlanNet) are kept while the node each claim
// names still reports the NIC with that address (api/nic-report.ts): that node's agent may still
// answer for it on the wire, down or partitioned. A delete waits for its node's report the same
// way (nic-finalizer.ts). The report's change or removal, or the Node's delete, queues the NIC
// (events.ts), which then drops the claim (nics.ts dropClaims, the garbage pass for another
// pool's: gc.ts).
import type { ContainerNic } from '../api/index.js';
import { nicReportKeeps } from '../api/nic-report.js';
import type { ClaimEntry } from './model.js';
import type { Ctx } from './context.js';

/** Why the NIC's claim `c` must stay although the NIC no longer uses it, or undefined when it may go. */
export function oldAddressHeldWhy(ctx: Ctx, nic: ContainerNic, c: ClaimEntry): string | undefined {
  const node = c.claim.node;
  if (!node || c.claim.owner.kind !== 'ContainerNic') return undefined;
  const { model } = ctx;
  // a Node that does not decode is not a deleted one
  if (!model.node(node) && !model.cache.isRefused(model.keys.object('Node', node))) return undefined;
  const name = nic.metadata.name;
  const refused = model.cache.isRefused(model.keys.status('ContainerNic', name, { node }));
  const report = refused ? 'unreadable' : model.nodeStatus(node, 'ContainerNic', name);
  if (!nicReportKeeps(report, c.claim.ip)) return undefined;
  return refused
    ? `${c.claim.ip} is held until node "${node}"'s report of ${nic.spec.ifName}, which does not decode, is readable or removed`
    : `${c.claim.ip} is held until the agent of node "${node}" reports it gone from ${nic.spec.ifName}`;
}

/** The NIC's claims among `claims` that stay although it no longer uses them, each with why. */
export function heldOldAddresses(ctx: Ctx, nic: ContainerNic, claims: ClaimEntry[]): Map<ClaimEntry, string> {
  const out = new Map<ClaimEntry, string>();
  for (const c of claims) {
    const why = oldAddressHeldWhy(ctx, nic, c);
    if (why) out.set(c, why);
  }
  return out;
}

/** The address a node's report of a NIC is about (observedIp), as stored (untrusted: anything else is none). */
function reportedIp(value: string | undefined): unknown {
  try {
    return value === undefined ? undefined : (JSON.parse(value) as { observedIp?: unknown } | null)?.observedIp;
  } catch {
    return undefined;
  }
}

/** A node's report of a NIC rewritten with another address (or none): an address it held may go (its removal queues the NIC anyway: events.ts). */
export const reportedIpChanged = (prev: string | undefined, now: string | undefined): boolean =>
  prev !== undefined && now !== undefined && reportedIp(prev) !== reportedIp(now);

/** The NICs (names) holding a claim that names `node`: a deleted Node keeps none of them. */
export function nicsWithClaimsOn(nics: Iterable<{ obj: ContainerNic }>, claimsOf: (uid: string) => ClaimEntry[], node: string): string[] {
  const out: string[] = [];
  for (const n of nics) if (claimsOf(n.obj.metadata.uid ?? '').some((c) => c.claim.node === node)) out.push(n.obj.metadata.name);
  return out;
}
