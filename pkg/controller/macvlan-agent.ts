// What a node's agent says of its part of a MacvlanNet, as the controller copies it into the
// MacvlanNet's status (macvlan.ts): its Ready and message, clipped, and the parent it uses.
import { clipNodeMessage, getCondition, ifName, MAX_MACVLAN_NODE_MESSAGE, macvlanBaseParent, withVlan, type MacvlanNet, type Node, type Status } from '../api/index.js';
import type { Condition } from '../api/fields.js';
import type { Entry } from './model.js';
import type { Ctx } from './context.js';
import { reportedHost } from './nodes.js';
import { incarnationOf, reportOfCurrentNode } from './node-incarnation.js';

/**
 * A node's message is copied into the status every node reads, at most this long: a node that
 * reports a megabyte must not make that status too large to write (and stall every node's
 * block with it), nor bloat what every agent receives. A longer one loses its middle
 * (api/node-message.ts), not the remedy at its end.
 */
export const MAX_NODE_MESSAGE = MAX_MACVLAN_NODE_MESSAGE;

/**
 * Whether the node's agent is lost: its lease-bound report about itself is gone and the
 * controller's Node status says NodeLost (a node never seen is not lost, only not started). Its
 * reports on objects are not lease-bound: a MacvlanNet part it said ready stays so, while its
 * IPAM plugin (the agent) is stopped (no container there can start on the network) or cut off
 * from etcd (it hands out only what it holds). Until its lease ends it is not lost.
 */
export function agentLost(ctx: Ctx, node: string): boolean {
  if (reportsItself(ctx, node)) return false;
  const st = controllerNodeStatus(ctx, node);
  return agentRan(ctx, node, st) && getCondition(st?.conditions, 'Ready')?.reason === 'NodeLost';
}

/**
 * Whether an agent ever reported for this Node (the Node is not AgentNotStarted): it reports
 * itself now, or ran before. A node that never ran gets no pre-claimed addresses (macvlan.ts
 * ensureNodePool): no container there could use them, and on a small segment they are what the
 * other nodes need. Its report about itself appearing queues every MacvlanNet (events.ts).
 */
export function agentStarted(ctx: Ctx, node: string): boolean {
  return reportsItself(ctx, node) || agentRan(ctx, node, controllerNodeStatus(ctx, node));
}

type NodeSeen = { conditions?: Condition[]; lastHeartbeatTime?: unknown };
const controllerNodeStatus = (ctx: Ctx, node: string) => ctx.model.controllerStatus('Node', node)?.status as NodeSeen | undefined;

/** Its lease-bound report about itself is there (decoded or not: an agent wrote it): its agent runs. */
export const reportsItself = (ctx: Ctx, node: string) =>
  !!ctx.model.nodeStatus(node, 'Node', node) || ctx.model.cache.isRefused(ctx.model.keys.status('Node', node, { node }));

/**
 * Its agent ran: the controller copied its heartbeat time, or it wrote reports on objects since
 * the Node was made (it may have died before any controller saw its report about itself). Not
 * the Node's address: a Node whose agent never ran says NodeLost too once its pinned
 * spec.address is in its status.
 */
const agentRan = (ctx: Ctx, node: string, st: NodeSeen | undefined) => !!st?.lastHeartbeatTime || ctx.model.nodeWroteReports(node);

/** A lost node's part, as its status says it. */
export const AGENT_LOST = 'its agent does not report (Node NodeLost: stopped, or cut off from etcd): containers there may not start on this network until it is back';

/**
 * The node's report on the MacvlanNet if its current Node's agent wrote it: one written before
 * the Node was made again is a former agent's word (node-incarnation.ts), not this node's. While
 * the node reports itself, an agent runs there and its reports are its own, whenever written: a
 * Node deleted under a running agent is made again from its report (planJoinedNode), and the
 * agent does not rewrite reports that did not change.
 */
export function currentMacvlanReport(ctx: Ctx, node: string, mvn: string): Status | undefined {
  const { model } = ctx;
  const self = model.keys.status('Node', node, { node });
  const since = model.cache.get(self) || model.cache.isRefused(self) ? 0 : incarnationOf(model.node(node)?.kv);
  return reportOfCurrentNode(model.cache.get(model.keys.status('MacvlanNet', mvn, { node })), since) ? model.nodeStatus(node, 'MacvlanNet', mvn) : undefined;
}

/** What the node's agent reports for this MacvlanNet: {ready, message} or a Ready condition. */
export function agentReport(ctx: Ctx, node: string, mvn: string): { ready: boolean; message?: string } | undefined {
  const s = currentMacvlanReport(ctx, node, mvn);
  if (!s) return undefined;
  const cond = getCondition(s.conditions, 'Ready');
  const ready = typeof s.ready === 'boolean' ? s.ready : cond?.status === 'True';
  const message = (typeof s.message === 'string' ? s.message : undefined) ?? cond?.message;
  return { ready, ...(message ? { message: clipNodeMessage(message) } : {}) };
}

/** The parent the node's agent reports using, else the one the shared precedence rule gives. */
export function nodeParent(ctx: Ctx, m: MacvlanNet, n: Entry<Node>): string | undefined {
  const node = n.obj.metadata.name;
  const reported = currentMacvlanReport(ctx, node, m.metadata.name)?.parent;
  // copied into the status every node reads: an interface name, or not at all
  if (ifName.safeParse(reported).success) return reported as string;
  const nodeIf = n.obj.spec?.interface
    ?? reportedHost(ctx.model.nodeStatus(node, 'Node', node)).interface
    ?? reportedHost(ctx.model.controllerStatus('Node', node)?.status).interface;
  const base = macvlanBaseParent(m.spec, node, nodeIf);
  return base ? withVlan(base, m.spec.vlan) : undefined;
}
