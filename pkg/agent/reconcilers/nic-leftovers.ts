// Links of NICs that are gone, left inside running containers. A veth goes with its host end
// (collectNicGarbage), but a macvlan lives only in the container: one whose NIC was deleted,
// moved to another node or released while this agent was down (or whose object vanished
// without the deleting phase that tells the agent which container it was in) would keep its
// address there, which the controller hands out again. So the agent looks through the running
// containers once after it starts, and again whenever a NIC goes without that record: the cost
// is one namespace read per container, never on a timer.
import type { AgentContext } from '../context.js';
import { containerTarget } from '../dataplane.js';
import { nicOfAlias } from '../planner/names.js';
import type { IpOp } from '../planner/ops.js';
import { unreadable } from '../context.js';
import { pinOwnNamespace } from './nic-namespace.js';

/**
 * Deletes, in every running container with a namespace of its own, the links marked as a NIC
 * that is neither this node's nor unreadable (a key that does not decode is not a NIC gone).
 * Returns how many went. A container that cannot be looked through (Docker's inspect failed,
 * its namespace could not be read) is logged with its id and the others are swept all the
 * same; then the first such failure is thrown, so the pass is tried again.
 */
export async function sweepContainerNics(ctx: AgentContext): Promise<number> {
  const ids = await ctx.dp.docker.runningContainers();
  let gone = 0;
  const failures: unknown[] = [];
  for (const id of ids) {
    try {
      gone += await sweepOne(ctx, id);
    } catch (e) {
      failures.push(e);
      ctx.log.warn('could not look through a container for links of gone NICs', { container: id, error: (e as Error).message });
    }
  }
  if (failures.length) throw failures[0];
  ctx.containersSwept = true;
  return gone;
}

/**
 * Read after each container's links: a link there was made by its NIC's reconcile, after the NIC
 * was in the cache, so a NIC made while the sweep runs is never taken for a gone one.
 */
function wantedNics(ctx: AgentContext): Set<string> {
  const local = ctx.caches.nics.list().filter((n) => n.spec.node === ctx.node).map((n) => n.metadata.name);
  return new Set([...local, ...unreadable(ctx, 'ContainerNic')]);
}

async function sweepOne(ctx: AgentContext, id: string): Promise<number> {
  const ns = await pinOwnNamespace(ctx, id);
  if (!ns) return 0;
  try {
    const netns = { path: ns.path, pid: ns.pid };
    const { links } = await ctx.dp.containerState(containerTarget(netns));
    const wanted = wantedNics(ctx);
    const names = links.filter((l) => { const nic = nicOfAlias(l.alias); return nic !== undefined && !wanted.has(nic); }).map((l) => l.name);
    const ops = names.map((name): IpOp => ({ op: 'link.del', name, netns }));
    if (!ops.length) return 0;
    ctx.log.info('removing links of gone NICs from a container', { container: id, links: names });
    await ctx.dp.execute(ops);
    return ops.length;
  } finally {
    await ns.close();
  }
}

/** The first garbage pass after the agent starts looks through the containers; later ones do not. */
export async function sweepOnce(ctx: AgentContext): Promise<void> {
  if (!ctx.containersSwept) await sweepContainerNics(ctx);
}
