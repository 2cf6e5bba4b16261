// Node lifecycle on the controller side (docs/design.md "Node liveness"): the controller makes
// the Node object of a node whose agent reported itself (an agent's credentials write no
// object), keeps its own Node status — last address/interface/report seen and the Ready
// condition that applies once the agent's lease-bound report is gone — and decides which
// HostSubnets the node should have.
import { randomUUID } from 'node:crypto';
import { API_VERSION, ifName, kindInfo, type Condition, type Node } from '../api/index.js';
import { conditions, type Ctx, type Status } from './context.js';
import { judgeNodeAddress, type AddressVerdict } from './node-address.js';
import type { TxnPlan } from './txn-plan.js';

/**
 * Plans the Node object for `name` when its agent's report about itself exists and no Node
 * does: an empty spec and no labels (both are the admin's). Only node-<name>'s credentials
 * (or the control plane's) can write that report, so the controller makes Nodes only for
 * nodes that hold credentials. Guarded: the Node still absent, the report the same one.
 * The uid of the Node planned (its Joined event is that incarnation's); undefined when there is
 * nothing to make (no report, or a name that is no valid Node name).
 */
export function planJoinedNode(ctx: Ctx, name: string, plan: TxnPlan): string | undefined {
  const reportKey = ctx.model.keys.status('Node', name, { node: name });
  const report = ctx.model.cache.get(reportKey);
  if (!report) return undefined;
  const node = {
    apiVersion: API_VERSION, kind: 'Node',
    metadata: { name, uid: randomUUID(), generation: 1, creationTimestamp: new Date().toISOString() },
    spec: {},
  };
  if (!kindInfo('Node').schema.safeParse(node).success) {
    ctx.log.warn('a node reported itself under a name that is no valid Node name; no Node made', { name });
    return undefined;
  }
  const key = ctx.model.keys.object('Node', name);
  plan.absent(key).sameIncarnation(reportKey, report).put(key, node);
  return node.metadata.uid;
}

function addressCondition(v: AddressVerdict) {
  if (v.refused && v.stillRouted) return { type: 'AddressAccepted', status: 'False' as const, reason: 'AddressInPool', message: v.refused };
  return v.refused
    ? { type: 'AddressAccepted', status: 'False' as const, reason: 'InvalidNodeAddress', message: `the address the agent reports is not used: ${v.refused}${v.address ? `; peers keep routing via ${v.address}` : ''}` }
    : { type: 'AddressAccepted', status: 'True' as const, reason: 'Checked', message: v.address ? `peers route via ${v.address}` : 'no address known yet' };
}

/**
 * Last agent status seen per node, so a lost node's status can name its last heartbeat, and
 * when this controller saw each node's report go (its lease expired).
 */
export class LastSeen {
  private readonly seen = new Map<string, Status>();
  private readonly lost = new Map<string, string>();
  record(node: string, s: Status | undefined): void { if (s) this.seen.set(node, s); }
  get(node: string): Status | undefined { return this.seen.get(node); }
  recordLost(node: string, at = new Date()): void { this.lost.set(node, at.toISOString()); }
  lostAt(node: string): string | undefined { return this.lost.get(node); }
  /** the node reports again: its loss is over */
  back(node: string): void { this.lost.delete(node); }
  forget(node: string): void { this.seen.delete(node); this.lost.delete(node); }
}

/**
 * The controller writes its Ready=False long before it shows (readyWithoutReport), so
 * setCondition keeps the time of that first write. Once the report is gone, Ready turned
 * False when this controller saw it go: that is its lastTransitionTime (a controller that
 * started after the loss does not know it and keeps the time it has).
 */
function lostSince(list: Condition[], lostAt: string | undefined): Condition[] {
  if (!lostAt) return list;
  return list.map((c) => c.type === 'Ready' && c.status === 'False' && (c.lastTransitionTime ?? '') < lostAt ? { ...c, lastTransitionTime: lostAt } : c);
}

/** What of a node's report about its host the controller copies, each field checked. */
export interface ReportedHost { interface?: string; agentVersion?: string; lastHeartbeatTime?: string }

const VERSION = /^[\x21-\x7e]{1,64}$/;

/**
 * The fields of a node's report about itself that the controller copies into statuses every
 * node reads (the Node's, a MacvlanNet's parent): an interface name, a short version, a time.
 * The report is the node's to write, up to etcd's 1.5 MiB, and its schema checks only that
 * these are strings: a field that is not what it says is left out, so one node cannot make a
 * status that no transaction can carry.
 */
export function reportedHost(report: Status | undefined): ReportedHost {
  const out: ReportedHost = {};
  if (!report) return out;
  if (ifName.safeParse(report.interface).success) out.interface = report.interface as string;
  if (typeof report.agentVersion === 'string' && VERSION.test(report.agentVersion)) out.agentVersion = report.agentVersion;
  const at = report.lastHeartbeatTime;
  if (typeof at === 'string' && at.length <= 40 && Number.isFinite(Date.parse(at))) out.lastHeartbeatTime = at;
  return out;
}

export function desiredNodeStatus(ctx: Ctx, node: Node, lastSeen: LastSeen): Status {
  const name = node.metadata.name;
  const prev = ctx.model.controllerStatus('Node', name)?.status;
  const agent = ctx.model.nodeStatus(name, 'Node', name);
  const last = agent ?? lastSeen.get(name);
  // The controller's status holds only an address that passed its check (node-address.ts).
  const verdict = judgeNodeAddress(ctx, name, last?.address, prev?.address);
  const address = verdict.address;
  const [seen, kept, now] = [reportedHost(last), reportedHost(prev), agent && reportedHost(agent)];
  const iface = seen.interface ?? kept.interface;
  const seenAt = now ? kept.lastHeartbeatTime ?? now.lastHeartbeatTime : seen.lastHeartbeatTime ?? kept.lastHeartbeatTime;
  const version = now ? now.agentVersion ?? kept.agentVersion : kept.agentVersion;
  // an agent that reported on objects ran, even if no controller saw its report about itself
  const everSeen = !!(last || prev?.address || prev?.lastHeartbeatTime) || ctx.model.nodeWroteReports(name);
  const cond = readyWithoutReport(ctx, name, everSeen, seenAt);
  return {
    observedGeneration: node.metadata.generation,
    ...(address ? { address } : {}),
    ...(iface ? { interface: iface } : {}),
    ...(seenAt ? { lastHeartbeatTime: seenAt } : {}),
    ...(version ? { agentVersion: version } : {}),
    conditions: lostSince(conditions(prev, [cond, addressCondition(verdict)]), agent ? undefined : lastSeen.lostAt(name)),
  };
}

/**
 * The Ready condition the controller keeps for when the agent's own is not there. Written
 * while the agent lives too: this is what the merged view shows the moment the agent's
 * lease-bound report expires, even if no controller is running at that instant. A report that
 * is there but does not decode is not a lost node.
 */
function readyWithoutReport(ctx: Ctx, name: string, everSeen: boolean, seenAt: string | undefined) {
  const last = seenAt ? `; last report ${seenAt}` : '';
  if (ctx.model.cache.isRefused(ctx.model.keys.status('Node', name, { node: name }))) {
    return { type: 'Ready', status: 'False' as const, reason: 'ReportUnreadable', message: `the agent's report about itself does not decode (an agent of another version, or a broken one)${last}; the controller's log names the field` };
  }
  return everSeen
    ? { type: 'Ready', status: 'False' as const, reason: 'NodeLost', message: `the agent's etcd lease expired (it stopped, or lost etcd for longer than its TTL)${last}; subnets are kept until the Node is deleted` }
    : { type: 'Ready', status: 'Unknown' as const, reason: 'AgentNotStarted', message: 'no agent has reported for this node yet' };
}
