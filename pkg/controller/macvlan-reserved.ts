// dockerIPAM xnet: an address a node asks for by name (`docker run --ip X` on it: its report's
// `requested`) is reserved for that node while its request lasts. The round claims it for the
// node as soon as it is free (macvlan.ts ensureNodePool); when X is another node's idle
// pre-claim, that node is asked to give it back first (macvlan-give-back.ts), and between the
// round that releases X and the next one, which grants it, X is free in etcd. Only the nodes'
// refills skipped it then: a ContainerNic picking an address (nics.ts) was given X in between
// and the asker, for whom X had been freed, was refused. The reservation ends with the request
// (granted: the node holds X; withdrawn, timed out or refused: its report no longer lists it),
// so it is derived from the reports each time, never remembered.
import { parseIPv4 } from '../ip/ipv4.js';
import type { Node } from '../api/index.js';
import type { NodeIpamReport } from '../dockeripam/report.js';
import type { PoolType } from '../ipam/keys.js';
import { labelsMatch } from './model.js';
import { nodeIpamReport, nodeReports } from './ipam-report.js';
import type { Ctx } from './context.js';
import { passMemo, type RoundState } from './pool-executor.js';

const NONE: ReadonlySet<number> = new Set();

/** Every address the nodes ask for by name (a report lists at most 256); pure. */
export function askedByName(nodes: Iterable<string>, report: (node: string) => NodeIpamReport | undefined): Set<number> {
  const out = new Set<number>();
  for (const node of nodes) for (const ip of report(node)?.requested ?? []) out.add(parseIPv4(ip));
  return out;
}

/**
 * The addresses of `pool` reserved for the selected nodes' requests by name, as the model has
 * the reports now: what a ContainerNic's pick skips (nics.ts heldBackFromPicks). None on a
 * ClusterNetwork, a dockerIPAM blocks MacvlanNet or one being deleted (it selects no node).
 */
export function reservedForRequests(ctx: Ctx, pool: { type: PoolType; name: string }, state?: RoundState): ReadonlySet<number> {
  if (pool.type !== 'macvlannets') return NONE;
  // once per planning pass, not per pick: a burst of NICs on a pool of 1,000 nodes would pay
  // a pass over the Nodes each
  const memo = state && passMemo(state);
  const hit = memo?.get(`reserved/${pool.name}`) as ReadonlySet<number> | undefined;
  if (hit) return hit;
  const out = reservedNow(ctx, pool.name);
  memo?.set(`reserved/${pool.name}`, out);
  return out;
}

function reservedNow(ctx: Ctx, pool: string): ReadonlySet<number> {
  const m = ctx.model.macvlanNet(pool)?.obj;
  if (!m || (m.spec.dockerIPAM ?? 'xnet') !== 'xnet' || m.metadata.deletionTimestamp) return NONE;
  // a pass over the Nodes (no sort), each report decoded once per value (ipam-report.ts); a node
  // whose agent does not report (lost, or a former Node's report) asks for nothing: its request
  // ended with its agent, and the address would be kept from everyone for as long as it is gone
  const nodes: string[] = [];
  for (const n of ctx.model.objects<Node>('Node')) {
    const name = n.obj.metadata.name;
    if (labelsMatch(m.spec.nodeSelector, n.obj.metadata.labels) && nodeReports(ctx, name, pool)) nodes.push(name);
  }
  return askedByName(nodes, (node) => nodeIpamReport(ctx, node, pool));
}
