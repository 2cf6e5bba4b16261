// dockerIPAM xnet: addresses of a MacvlanNet's range already on their way out, which the
// controller counts as being freed when it decides whether the pool is used up
// (macvlan-used-up.ts). A ContainerNic being deleted keeps its claim until its node's agent
// reports the interface out of its container (nic-finalizer.ts), seconds at most: counted as
// held, a `docker run` in those seconds was refused PoolExhausted although its address was
// about to be free; counted as freeing, the request waits for it and gets it.
import type { MacvlanNet } from '../api/index.js';
import { contains, type Interval } from '../ipam/ranges.js';
import { isGarbage } from './gc.js';
import { reportsItself } from './macvlan-agent.js';
import type { ClaimEntry } from './model.js';
import type { Ctx } from './context.js';

/**
 * Whether a claim in `range` held by another owner than the MacvlanNet's parts will go without
 * anyone freeing an address: a ContainerNic's being deleted, or one whose owner is gone (the
 * garbage pass frees it, gc.ts). Not a deleting NIC on a node whose agent does not report
 * itself now (lost, never started, or a Node made again that no agent beat for yet): the report
 * that lets its claim go may never come, and the pool would never be said used up.
 */
export function claimsLeaving(ctx: Ctx, m: MacvlanNet, range: Interval[]): boolean {
  for (const c of ctx.model.claimsIn('macvlannets', m.metadata.name, 'addresses').values()) {
    if (!contains(range, c.ip) || c.claim.owner.uid === m.metadata.uid) continue;
    if (nicBeingDeleted(ctx, c) || isGarbage(ctx, c)) return true;
  }
  return false;
}

/** A ContainerNic's claim whose NIC is marked deleting and whose node's agent reports itself. */
function nicBeingDeleted(ctx: Ctx, c: ClaimEntry): boolean {
  const o = c.claim.owner;
  if (o.kind !== 'ContainerNic') return false;
  const nic = ctx.model.nic(o.name)?.obj;
  return !!nic && nic.metadata.uid === o.uid && !!nic.metadata.deletionTimestamp && reportsItself(ctx, nic.spec.node);
}
