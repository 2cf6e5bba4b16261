// A NIC's container namespaces other than the one its reconcile pinned and converges: whether
// a container's namespace is its own, pinning it for a removal, and the NIC's link left in the
// container it was in before `spec.container` was edited.
import { getCondition, type Condition, type ContainerNic } from '../../api/index.js';
import type { AgentContext } from '../context.js';
import { containerTarget } from '../dataplane.js';
import type { PinnedNetns } from '../../netlink/pinned.js';
import { pinContainerNetns } from '../container-pin.js';
import { leavingFormerContainer } from '../heal.js';
import { nicAlias } from '../planner/names.js';
import type { IpOp } from '../planner/ops.js';

/**
 * Why the container's network namespace is not its own: `--network host`, `--network
 * container:X`, or a pinned namespace that is the host's. xnet never adds a NIC, address,
 * route or sysctl there: it would change the host (or another container) itself.
 */
export async function sharedNamespaceWhy(ctx: AgentContext, c: { name: string; networkMode?: string }, ns: PinnedNetns): Promise<string | undefined> {
  const tail = 'xnet adds NICs only to containers with a network namespace of their own; nothing was changed';
  if (c.networkMode === 'host') return `container ${c.name} uses --network host, the host's own namespace; ${tail}`;
  if (c.networkMode?.startsWith('container:')) return `container ${c.name} shares the namespace of another container (--network ${c.networkMode}); ${tail}`;
  if (await ctx.dp.inHostNetns(ns)) return `container ${c.name} runs in the host's network namespace; ${tail}`;
  return undefined;
}

/** The running container's namespace, pinned, when it is its own (not the host's, not shared); undefined otherwise. */
export async function pinOwnNamespace(ctx: AgentContext, container: string): Promise<PinnedNetns | undefined> {
  const c = await ctx.dp.docker.inspectContainer(container);
  return c ? pinOwn(ctx, c) : undefined;
}

type Inspected = NonNullable<Awaited<ReturnType<AgentContext['dp']['docker']['inspectContainer']>>>;

/** pinOwnNamespace of a container already inspected. */
async function pinOwn(ctx: AgentContext, c: Inspected): Promise<PinnedNetns | undefined> {
  const ns = (await pinContainerNetns(ctx.dp, c)).ns;
  if (!ns) return undefined;
  try {
    if (!(await sharedNamespaceWhy(ctx, c, ns))) return ns;
  } catch (e) {
    await ns.close();
    throw e;
  }
  await ns.close();
  return undefined;
}

/**
 * A NIC moved to another container (`spec.container` edited, or its container renamed away from
 * that name): its links in the container it was last reported in (status.containerId) go, while
 * that one still runs. A veth's would go with its host end when the NIC is made again, but a
 * macvlan lives only in the container: left there, it kept the NIC's address beside the new one
 * (and its MAC, unless the move changed it). Only links marked as this NIC's; a failure is thrown
 * (retried), the status still naming the old container until this is done. The ops are no heal
 * (heal.ts, leavingFormerContainer). `now`: the container the NIC names now, undefined when none
 * exists (a container renamed away from the NIC's spec.container is no longer its container).
 * Returns that former container (id and the name it has now) while it exists, running or not:
 * what the NIC's status tells of it.
 */
export async function removeFromPreviousContainer(ctx: AgentContext, nic: ContainerNic, now: string | undefined): Promise<FormerContainer | undefined> {
  const was = nic.status?.containerId;
  if (typeof was !== 'string' || !was || was === now) return undefined;
  const c = await ctx.dp.docker.inspectContainer(was);
  if (!c) return undefined;
  const former = { id: c.id, name: c.name };
  const ns = await pinOwn(ctx, c);
  if (!ns) return former;
  try {
    const netns = { path: ns.path, pid: ns.pid };
    const { links } = await ctx.dp.containerState(containerTarget(netns));
    const ops = links.filter((l) => l.alias === nicAlias(nic.metadata.name)).map((l): IpOp => ({ op: 'link.del', name: l.name, netns }));
    if (!ops.length) return former;
    ctx.log.info('removing the nic from the container it was in', { nic: nic.metadata.name, container: was, now: c.name, links: ops.length });
    await leavingFormerContainer(() => ctx.dp.execute(ops));
    return former;
  } finally {
    await ns.close();
  }
}

/** The container a NIC was last in (status.containerId), under the name it has now. */
export interface FormerContainer { id: string; name: string }

/**
 * Whether the controller took the NIC's address back: its status says Allocated False and names
 * no address. That happens only with the address claim deleted in the same transaction
 * (controller/nics.ts, failNic: the network, HostSubnet or pinned ip went or changed), so after
 * the cooldown the address may be handed to another NIC: a link still holding it must go. A
 * status that does not decode, or none yet, is not a release.
 */
export function addressReleased(nic: ContainerNic): boolean {
  const st = nic.status as { ip?: unknown; conditions?: Condition[] } | undefined;
  return !!st && st.ip == null && getCondition(st.conditions, 'Allocated')?.status === 'False';
}

/**
 * Takes the NIC's links (marked as its own) out of the pinned container namespace: a veth's
 * host end goes with its container end. Returns how many went.
 */
export async function takeOutOfContainer(ctx: AgentContext, nic: ContainerNic, ns: PinnedNetns): Promise<number> {
  const netns = { path: ns.path, pid: ns.pid };
  const { links } = await ctx.dp.containerState(containerTarget(netns));
  const ops = links.filter((l) => l.alias === nicAlias(nic.metadata.name)).map((l): IpOp => ({ op: 'link.del', name: l.name, netns }));
  if (!ops.length) return 0;
  ctx.log.info('taking the nic out of its container: the controller released its address', { nic: nic.metadata.name, links: ops.length });
  await ctx.dp.execute(ops);
  ctx.hostEnds?.set(nic.metadata.name, undefined);
  return ops.length;
}
