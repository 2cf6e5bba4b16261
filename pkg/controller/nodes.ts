// Node lifecycle on the controller side (docs/design.md "Node liveness"): the controller keeps
// its own Node status — last address/interface/heartbeat seen and the Ready condition that
// applies once the agent's lease-bound status is gone — and decides which HostSubnets the
// node should have.
import type { Node } from '../api/index.js';
import { conditions, type Ctx, type Status } from './context.js';
import { judgeNodeAddress, type AddressVerdict } from './node-address.js';

function addressCondition(v: AddressVerdict) {
  return v.refused
    ? { type: 'AddressAccepted', status: 'False' as const, reason: 'InvalidNodeAddress', message: `the address the agent reports is not used: ${v.refused}${v.address ? `; peers keep routing via ${v.address}` : ''}` }
    : { type: 'AddressAccepted', status: 'True' as const, reason: 'Checked', message: v.address ? `peers route via ${v.address}` : 'no address known yet' };
}

/** Last agent status seen per node, so a lost node's status can name its last heartbeat. */
export class LastSeen {
  private readonly seen = new Map<string, Status>();
  record(node: string, s: Status | undefined): void { if (s) this.seen.set(node, s); }
  get(node: string): Status | undefined { return this.seen.get(node); }
  forget(node: string): void { this.seen.delete(node); }
}

export function desiredNodeStatus(ctx: Ctx, node: Node, lastSeen: LastSeen): Status {
  const name = node.metadata.name;
  const prev = ctx.model.controllerStatus('Node', name)?.status;
  const agent = ctx.model.nodeStatus(name, 'Node', name);
  const last = agent ?? lastSeen.get(name);
  // The controller's status holds only an address that passed its check (node-address.ts).
  const verdict = judgeNodeAddress(ctx, name, last?.address, prev?.address);
  const address = verdict.address;
  const iface = (last?.interface as string | undefined) ?? prev?.interface;
  const seenAt = agent ? prev?.lastHeartbeatTime ?? (agent.lastHeartbeatTime as string | undefined)
    : (last?.lastHeartbeatTime as string | undefined) ?? prev?.lastHeartbeatTime;
  const everSeen = !!(last || prev?.address || prev?.lastHeartbeatTime);
  // Written while the agent lives too: this is what the merged view shows the moment the
  // agent's lease-bound status expires, even if no controller is running at that instant.
  const cond = everSeen
    ? { type: 'Ready', status: 'False' as const, reason: 'NodeLost', message: `the agent stopped heartbeating${seenAt ? `; last heartbeat ${seenAt}` : ''}; subnets are kept until the Node is deleted` }
    : { type: 'Ready', status: 'Unknown' as const, reason: 'AgentNotStarted', message: 'no agent has reported for this node yet' };
  return {
    observedGeneration: node.metadata.generation,
    ...(address ? { address } : {}),
    ...(iface ? { interface: iface } : {}),
    ...(seenAt ? { lastHeartbeatTime: seenAt } : {}),
    ...(agent?.agentVersion ? { agentVersion: agent.agentVersion } : prev?.agentVersion ? { agentVersion: prev.agentVersion } : {}),
    conditions: conditions(prev, [cond, addressCondition(verdict)]),
  };
}
