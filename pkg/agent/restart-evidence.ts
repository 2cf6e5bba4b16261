// What proves, at start-up, that what a reconcile puts back was in place before the agent
// stopped (heal.ts, trigger `restart`): the agent's first pass sets the host up as declared, and
// only a repair of something its previous run had made is a heal. The narrowest rules that the
// agent's own evidence can prove, one per kind of state; any other repair in the first pass is
// made uncounted.
//
// - A NIC (`nicMadeAgain`): its interface is made again (a `link add` in the plan, none of the
//   NIC's links deleted) in the container that the report its previous run left says it was
//   attached in: that report is about this NIC (objectUid), says Ready True since a moment no
//   earlier than the container's current start (the same run of the same container id: not a
//   container started or restarted since, nor a host rebooted), for the NIC's current
//   generation, with the address (observedIp) and host side (hostInterface) it gets now. So a
//   NIC whose container just started, a NIC never attached, a NIC edited, given another address
//   or moved to another parent while the agent was down is not told; nor is a part of a NIC
//   repaired without making its link again (an address, a route inside the container).
// - A peer route (`routesPutBack`): the pass replaces a route to a destination that the routes
//   record (routes-record.ts: what the last routes pass of this boot left in the kernel) holds
//   with the same next hop. A peer that joined, or whose address changed, while the agent was
//   down is no heal; after a reboot the record says nothing.
//
// HostSubnet bridges, NAT chains, MacvlanNet shims and parents have no such evidence yet: put
// back at start-up, they are not told.
import type { ContainerNic } from '../api/index.js';
import type { Op } from './planner/ops.js';
import type { NodeStatusReporter } from './context.js';
import type { RouteEntries } from './routes-record.js';

/** The NIC's report from before the start: attached in this run of this container, as it is to be now. */
export function nicMadeAgain(status: Pick<NodeStatusReporter, 'previousRun'>, nic: ContainerNic, container: { id: string; startedAt: string },
  ops: Op[], now: Record<string, unknown>): boolean {
  if (!ops.some((o) => o.op.startsWith('link.add.')) || ops.some((o) => o.op === 'link.del')) return false;
  const before = status.previousRun('ContainerNic', nic);
  if (!before) return false;
  const ready = (before.conditions as Array<{ type?: unknown; status?: unknown; lastTransitionTime?: unknown }> | undefined)?.find?.((c) => c?.type === 'Ready');
  const since = typeof ready?.lastTransitionTime === 'string' ? Date.parse(ready.lastTransitionTime) : NaN;
  const started = Date.parse(container.startedAt);
  return ready?.status === 'True' && since >= started
    && before.containerId === container.id
    && before.observedGeneration === nic.metadata.generation
    && before.observedIp === now.observedIp && before.hostInterface === now.hostInterface;
}

/** Whether the plan puts back a peer route that the previous run recorded in place, with the same next hop. */
export function routesPutBack(ops: Op[], before: RouteEntries): boolean {
  return ops.some((o) => o.op === 'route.replace' && !!o.via && Object.hasOwn(before, o.dst) && before[o.dst] === o.via);
}

/**
 * The peer routes in the kernel after a pass: those it found (`found`: destination -> next hop)
 * with its ops made on them; `ok`: they all took effect, else the destinations they touched are
 * left out (in doubt).
 */
export function routesAfter(found: RouteEntries, ops: Op[], ok: boolean): RouteEntries {
  const out: RouteEntries = { ...found };
  for (const o of ops) {
    if (o.op !== 'route.replace' && o.op !== 'route.del') continue;
    if (o.op === 'route.replace' && ok && o.via) out[o.dst] = o.via;
    else delete out[o.dst];
  }
  return out;
}
