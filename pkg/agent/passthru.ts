// A passthru macvlan takes its parent over: the kernel sends it every unicast frame of the
// parent, and a MAC set on it is set on the parent itself (Docker sets one on every container
// it attaches). xctl and the agent's desired state refuse passthru without an explicit
// spec.parent (macvlanPassthruWhy, ../api/rules.ts); here, the parent actually used on this
// node (spec.parent, spec.nodes[].parent, its VLAN link) is refused when the host relies on it
// (planner/parents.ts, hostReliance): neither the MacvlanNet's Docker network nor a
// ContainerNic's macvlan is made there, and the parent is left as it is.
import { notReady, type AgentContext, type Ready } from './context.js';
import { nodeInterface } from './desired.js';
import { hostReliance } from './planner/parents.js';

/** Why nothing passthru may be made on `parent` here (undefined: it may, or `mode` is not passthru). */
export async function passthruParentProblem(ctx: AgentContext, mode: string | undefined, parent: string): Promise<Ready | undefined> {
  if (mode !== 'passthru') return undefined;
  const [host, use] = await Promise.all([ctx.dp.hostState(), ctx.dp.hostUse()]);
  const why = hostReliance(parent, { host, use, nodeInterface: nodeInterface(ctx.caches.nodes.get(ctx.node)) });
  if (!why) return undefined;
  return notReady('ParentInUse', `mode passthru on ${parent}, which this host relies on (${why}): a passthru macvlan would take every frame sent to ${parent} and set its MAC, `
    + 'so xnet makes none there (no Docker network, no ContainerNic) and leaves the interface as it is; name an interface the host does not use (spec.parent, spec.nodes[].parent)');
}
