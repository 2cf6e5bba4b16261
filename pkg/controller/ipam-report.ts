// A node's IPAM report on a MacvlanNet (../dockeripam/report.ts), decoded once per value: the
// report is untrusted and may list 65,536 assignments (some 1.4 MB, tens of milliseconds to
// decode). Decoded once per claim, a leaving node's report blocked the controller's event loop
// for seconds per round (158 claims: its etcd calls, the leader lease's keep-alive, every
// reconcile waited). The cache is keyed by the status object the model keeps parsed for the
// key's current value, so a new value is decoded anew and an old one is dropped with it.
import { nodeIpamReport as reportSchema, type NodeIpamReport } from '../dockeripam/report.js';
import type { Ctx } from './context.js';
import { agentLost, currentMacvlanReport } from './macvlan-agent.js';
import { formatIssuePath } from '../api/field-path.js';

/** `unreadable`: the status has an `ipam` field that does not decode (not the same as none). */
interface Decoded { report?: NodeIpamReport; unreadable?: boolean; assigned?: Set<string> }

const decoded = new WeakMap<object, Decoded>();

function decodedOf(ctx: Ctx, node: string, mvn: string): Decoded {
  // Every report, also a former Node's agent's (the Node made again since): what it says of the
  // host's containers (assigned, kept) stays true while they run, and the reclaim of a re-made
  // Node's addresses in use (macvlan-reclaim.ts) reads it. Whether the agent is there to act on
  // a request (nodeReports) follows the Node's incarnation.
  const status = ctx.model.nodeStatus(node, 'MacvlanNet', mvn);
  if (!status) return {};
  let d = decoded.get(status);
  if (!d) decoded.set(status, (d = decode(ctx, node, mvn, status.ipam)));
  return d;
}

/**
 * Per controller (its model): the node/MacvlanNet pairs whose last report did not decode. Logged
 * when a pair's report turns unreadable, not for each bad value after: a node rewriting a bad
 * report had a line per value the leader looked at.
 */
const unreadableNow = new WeakMap<object, Set<string>>();

function decode(ctx: Ctx, node: string, mvn: string, ipam: unknown): Decoded {
  let open = unreadableNow.get(ctx.model);
  if (!open) unreadableNow.set(ctx.model, (open = new Set()));
  const pair = `${node}/${mvn}`;
  const r = ipam === undefined ? undefined : reportSchema.safeParse(ipam);
  if (!r || r.success) {
    open.delete(pair);
    return r ? { report: r.data } : {};
  }
  // said where an admin looks when the node gets no addresses
  const why = r.error.issues.slice(0, 3).map((i) => `${formatIssuePath(i.path, '(value)')}: ${i.message}`).join('; ');
  if (!open.has(pair)) ctx.log.warn('node IPAM report does not decode; ignored', { node, macvlanNet: mvn, error: why });
  open.add(pair);
  return { unreadable: true };
}

/**
 * Whether the node's agent reports on the MacvlanNet: its status is there (decoded or not) and
 * the agent is not lost (macvlan-agent.ts agentLost: a stopped agent's reports on objects stay).
 * Not so, what the node holds can neither be given back nor be told idle from in use.
 */
export function nodeReports(ctx: Ctx, node: string, mvn: string): boolean {
  if (agentLost(ctx, node)) return false;
  return currentMacvlanReport(ctx, node, mvn) !== undefined || ctx.model.cache.isRefused(ctx.model.keys.status('MacvlanNet', mvn, { node }));
}

/** The node's IPAM report for the MacvlanNet, or undefined when it has none or it does not decode. */
export function nodeIpamReport(ctx: Ctx, node: string, mvn: string): NodeIpamReport | undefined {
  return decodedOf(ctx, node, mvn).report;
}

/**
 * Whether the node's IPAM report lists `ip` as given to a container; undefined when it has a
 * report that does not decode (unreadable is not absent: it may list ip).
 */
export function reportedInUse(ctx: Ctx, node: string, mvn: string, ip: string): boolean | undefined {
  const d = decodedOf(ctx, node, mvn);
  if (d.unreadable) return undefined;
  if (!d.report) return false;
  d.assigned ??= new Set(d.report.assigned.map((a) => a.ip));
  return d.assigned.has(ip);
}
