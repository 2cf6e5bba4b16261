// A ContainerNic going from this node (deleted, or moved to another node): its interface is
// taken out of its container, then this node's status key of it goes, the report the
// controller waits for before it frees the address (controller/nic-finalizer.ts). While that
// fails, a deleting NIC's report says why (Ready False, the failure's reason), so that
// `xctl describe` shows it beside the controller's Terminating; the removal is retried.
import type { ContainerNic } from '../../api/index.js';
import { DockerError } from '../../docker/types.js';
import { notReady, type AgentContext } from '../context.js';
import { ApplyError, containerTarget } from '../dataplane.js';
import { isDeleting } from '../desired.js';
import { planNicRemoval, type RemovedNic } from '../planner/nic.js';
import { sweepContainerNics } from './nic-leftovers.js';
import { pinOwnNamespace } from './nic-namespace.js';
import { recordedUnused, releaseParents } from './parents.js';

type Known = RemovedNic & { container?: string };

/** Keeps the last known shape of a deleted NIC, so that its removal knows what to undo. */
export function rememberRemoved(ctx: AgentContext, nic: ContainerNic): void {
  ctx.removedNics.set(nic.metadata.name, {
    name: nic.metadata.name, ifName: nic.spec.ifName,
    kind: nic.spec.network.macvlanNet ? 'macvlan' : 'veth',
    container: (nic.status?.containerId as string | undefined) ?? nic.spec.container,
  });
}

const deletingHere = (ctx: AgentContext, nic: ContainerNic | undefined): nic is ContainerNic =>
  !!nic && nic.spec.node === ctx.node && isDeleting(nic);

export async function removeNic(ctx: AgentContext, name: string, nic: ContainerNic | undefined): Promise<void> {
  await ctx.unwatchNic(name);
  if (deletingHere(ctx, nic)) rememberRemoved(ctx, nic);
  const known = ctx.removedNics.get(name);
  // gone without the deleting phase that records its container (moved to another node, its key
  // deleted around xctl): a macvlan of it would stay in some container, so they are looked through
  if (!known) await sweepContainerNics(ctx);
  const r = known ?? { name, ifName: '', kind: 'veth' as const };
  try {
    await takeOut(ctx, r);
  } catch (e) {
    if (deletingHere(ctx, nic)) await reportNotRemoved(ctx, nic, e);
    throw e;
  }
  // A NIC moved to another node keeps the object: only this node's status goes. For a deleting
  // NIC that removal is the report the controller waits for before it frees the address.
  if (!nic || nic.spec.node !== ctx.node || isDeleting(nic)) await ctx.status.remove('ContainerNic', name);
  if (nic && isDeleting(nic)) ctx.log.info('nic removed; its address may be released', { nic: name });
  ctx.removedNics.delete(name);
  ctx.macWaits.clear(name);
  ctx.hostEnds?.set(name, undefined);
  // the NIC kept its parent in use (a MacvlanNet that no longer selects this node): given back
  // now, not at the next gc pass; a failure leaves that to the gc pass, the NIC is gone
  if (r.kind === 'macvlan' && recordedUnused(ctx)) {
    await releaseParents(ctx).catch((e: Error) => ctx.log.warn('giving back parents after a macvlan NIC went failed', { nic: name, error: e.message }));
  }
}

/** Deletes the NIC's links: a veth's host end (its container end goes with it), a macvlan inside its container. */
async function takeOut(ctx: AgentContext, r: Known): Promise<void> {
  // a macvlan is deleted from inside the container: through its pinned namespace
  const ns = r.kind === 'macvlan' && r.container ? await pinOwnNamespace(ctx, r.container) : undefined;
  try {
    const netns = ns ? { path: ns.path, pid: ns.pid } : undefined;
    const plan = planNicRemoval({ ...r, ...(netns ? { netns } : {}) }, await ctx.dp.hostState(), netns ? await ctx.dp.containerState(containerTarget(netns)) : undefined);
    if (plan.ops.length) {
      ctx.log.info('removing nic', { nic: r.name });
      await ctx.dp.execute(plan.ops);
    }
  } finally {
    await ns?.close();
  }
}

/** What this node last reported of the NIC that is its own to report (api/authority.ts), kept in the failure's report. */
const KEPT_FIELDS = ['containerId', 'hostInterface', 'mac'] as const;

/**
 * The deleting NIC's interface could not be taken out: this node's report of it says why,
 * Ready False with the failure's reason (DockerUnavailable, DockerTimedOut, an ApplyError's),
 * over its report from before the delete. Only a report already there is rewritten: without
 * one the controller does not wait for this node, and a new one would hold the address. A
 * failed write is logged; the removal's own failure is what the caller retries.
 */
async function reportNotRemoved(ctx: AgentContext, nic: ContainerNic, e: unknown): Promise<void> {
  // the reasons the reconcilers give these errors (host-subnet-network.ts): a read's CommandError is `Failed`
  const reason = e instanceof DockerError || e instanceof ApplyError ? e.reason : 'Failed';
  const message = `could not remove ${nic.spec.ifName} from container ${nic.spec.container}: ${(e as Error).message}; tried again with backoff; the address is kept until it is removed`;
  try {
    if (!(await ctx.status.reported('ContainerNic', nic))) return;
    const last = ctx.status.lastReported('ContainerNic', nic) ?? {};
    const fields = Object.fromEntries(KEPT_FIELDS.filter((k) => typeof last[k] === 'string').map((k) => [k, last[k]]));
    await ctx.status.write('ContainerNic', nic, fields, notReady(reason, message));
  } catch (err) {
    ctx.log.warn('reporting that a deleted NIC could not be removed failed', { nic: nic.metadata.name, error: (err as Error).message });
  }
}

/**
 * Whether the NIC, as this reconcile read it at its start, has begun leaving this node since
 * (deleted, marked for deletion, moved to another node). A reconcile reads the NIC once, then
 * waits on Docker and the kernel while the caches move on: an `xctl delete -f` of a
 * ClusterNetwork with its NICs is one transaction, and a reconcile the network's delete woke
 * (or one already running) finds the network gone but reports on the NIC it read before the
 * delete, which was Ready: a Warning (ClusterNetworkMissing, HostSubnetMissing...) about what the
 * user is deleting with it. The NIC's own change has queued it again, and its removal
 * (nic-removal.ts) is what it is told next, so a not-Ready outcome of this reconcile is not
 * reported. A NIC that stays (its network deleted alone) is unchanged here, and told as before.
 */
export function leftSinceRead(ctx: AgentContext, read: ContainerNic): boolean {
  const now = ctx.caches.nics.get(read.metadata.name);
  if (!now || now.spec.node !== ctx.node || isDeleting(now)) return true;
  // made again under the name meanwhile: this reconcile's outcome is about the one before
  return !!read.metadata.uid && now.metadata.uid !== read.metadata.uid;
}
