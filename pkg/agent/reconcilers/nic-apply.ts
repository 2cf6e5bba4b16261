// A ContainerNic's plan run in the kernel, and the NIC read back (nics.ts decides what the NIC
// should be and reports it): what planning reads of the host and the container, the plan
// executed and checked, and the kernel's refusal of the declared MAC recovered from (a stale link
// holding it deleted) or waited out on the MAC the kernel gave.
import { notReady, type AgentContext, type Ready } from '../context.js';
import { ApplyError, containerTarget } from '../dataplane.js';
import { nicDifferences, planNic, type ContainerState, type DesiredNic } from '../planner/nic.js';
import type { Op } from '../planner/ops.js';
import type { HostState } from '../../netlink/ip.js';
import type { ReconcileResult } from '../../runtime/workers.js';

/**
 * The NIC works on the kernel's MAC, its declared one held by another macvlan of the parent:
 * Ready False MacAddressInUse, and the declared MAC tried again soon (mac-wait.ts).
 */
export async function waitForMac(ctx: AgentContext, d: DesiredNic, container: string, mac: string | undefined, why: string, w: (r: Ready) => Promise<void>): Promise<ReconcileResult> {
  const retryInMs = ctx.macWaits.refusedAgain(d.name);
  const msg = `${d.ifName} in container ${container} is up with ${d.cidr} on the MAC the kernel gave it (${mac ?? '?'}): `
    + `the declared ${d.mac} is held by another macvlan of the same parent (${why}); it is set once free`;
  await w(notReady('MacAddressInUse', msg));
  if (retryInMs === undefined) throw new ApplyError('MacAddressInUse', msg);
  return { requeueAfterMs: retryInMs };
}

/**
 * Runs the plan, then reads the container's namespace again: Ready is True only for a NIC
 * seen whole (MAC, up, address, default route). A failure or a difference is written to the
 * NIC's status and thrown (retried with backoff). Returns the state seen, and `macRefused`
 * (the kernel's refusal) when the NIC is whole but for its MAC, held elsewhere.
 */
export async function applyNic(ctx: AgentContext, d: DesiredNic, ops: Op[], inside: ContainerState, w: (r: Ready) => Promise<void>, container: string): Promise<{ state: ContainerState; macRefused?: string }> {
  if (ops.length === 0) return { state: inside };
  ctx.log.info('nic', { nic: d.name, container, ops: ops.length });
  let macRefused: string | undefined;
  try {
    await ctx.dp.execute(ops);
  } catch (e) {
    const outcome = await recoveredMacInUse(ctx, d, e);
    if (!outcome) {
      await w(notReady(e instanceof ApplyError ? e.reason : 'Failed', (e as Error).message));
      throw e;
    }
    if (outcome === 'kernel-mac') macRefused = (e as Error).message;
  }
  if (ctx.dp.dryRun) return { state: inside };
  const after = await readContainer(ctx, d);
  const diff = nicDifferences(macRefused ? { ...d, mac: undefined } : d, after);
  if (diff.length === 0) return { state: after, macRefused };
  const msg = `${d.ifName} in container ${container} is not as declared after the change: ${diff.join('; ')}`;
  await w(notReady('NotInPlace', msg));
  throw new ApplyError('NotInPlace', msg);
}

/**
 * The kernel refused the declared MAC: a macvlan on the same parent still has it, typically the
 * NIC's own link in the restarted container's previous namespace, kept alive by a process or a
 * bind mount. That link, marked with this NIC's alias, is deleted and the plan made again at
 * once ('declared': the NIC is as declared now). Failing that (a namespace the kernel is
 * already destroying is unreachable), the NIC is made whole on the MAC the kernel gave it
 * ('kernel-mac': peers learn it by ARP) and the declared MAC waits (waitForMac). undefined:
 * not that refusal, or even the fallback failed.
 */
async function recoveredMacInUse(ctx: AgentContext, d: DesiredNic, e: unknown): Promise<'declared' | 'kernel-mac' | undefined> {
  if (!(e instanceof ApplyError && e.reason === 'MacAddressInUse' && d.mac && d.attach.kind === 'macvlan')) return undefined;
  const freed = !ctx.macWaits.searchDue(d.name) ? [] : await ctx.dp.removeStaleNicLinks?.(d.name, d.mac, d.netns.path, d.attach.parent).catch((err: Error) => {
    ctx.log.warn('looking for the stale holder of a NIC\'s MAC failed', { nic: d.name, error: err.message });
    return [];
  }) ?? [];
  if (freed.length) {
    ctx.log.info('deleted the NIC\'s stale link holding its MAC', { nic: d.name, mac: d.mac, links: freed.map((l) => `${l.name} in ${l.netns}`) });
    try {
      await planAndExecute(ctx, d);
      return 'declared';
    } catch (again) {
      ctx.log.warn('nic with its declared MAC failed again', { nic: d.name, error: (again as Error).message });
    }
  }
  return planAndExecute(ctx, { ...d, mac: undefined }).then(() => 'kernel-mac' as const, (err: Error) => {
    ctx.log.warn('nic without its declared MAC failed', { nic: d.name, error: err.message });
    return undefined;
  });
}

/** The container's routes decide the NIC's: its default route, or its route to its ClusterNetwork (cluster-route.ts). */
const wantsRoutes = (d: DesiredNic) => !!(d.gateway && (d.defaultRoute || d.clusterCidr));

/**
 * What planning a NIC reads: the host's links (its bridge or parent, the NIC's host end) and
 * the container's (readContainer). Each read is an `ip` process, and a NIC made anew under load
 * waits on every one of them (chaos fault 7: 1-2.6 s a process on the loaded 2-core machine).
 */
export async function nicStates(ctx: AgentContext, d: DesiredNic): Promise<[HostState, ContainerState]> {
  // links and addresses in one `ip` run: the bridge's gateway is checked with them (gatewayNotOnBridge)
  const [{ links, addrs }, inside] = await Promise.all([ctx.dp.ip.linksAndAddrs(), readContainer(ctx, d)]);
  return [{ links, addrs, routes: [] }, inside];
}

/**
 * The container's links and addresses, and its routes where the plan decides on them: for a NIC
 * that is the default route or a ClusterNetwork NIC (whose route to its network depends on the
 * container's), read with the rest; for another one that is in the container, read after
 * (xnet's default route through it, left from when it was, goes). A MacvlanNet NIC made anew
 * that is not the default route reads none: a route through it went with its link.
 */
async function readContainer(ctx: AgentContext, d: DesiredNic): Promise<ContainerState> {
  const target = containerTarget(d.netns);
  const state = await ctx.dp.containerState(target, { routes: wantsRoutes(d) });
  if (wantsRoutes(d) || !state.links.some((l) => l.name === d.ifName)) return state;
  return { ...state, routes: await ctx.dp.containerRoutes(target) };
}

/** Reads the host and the container again and runs the plan that makes `d` so. */
async function planAndExecute(ctx: AgentContext, d: DesiredNic): Promise<void> {
  const [host, inside] = await nicStates(ctx, d);
  const plan = planNic(d, host, inside);
  if (plan.problems.length === 0 && plan.ops.length) await ctx.dp.execute(plan.ops);
}
