// Who may say what in an object's status. The controller owns every allocation (subnets,
// addresses, gateways, the node address peers route to); a node's agent may only report what
// it observes on that node. A node's credentials can write its own status keys
// (docs/security.md), so the merged view takes from a node's status only the fields and
// condition types listed here: whatever else a node writes there never overrides, and never
// adds to, what the controller decided.
import type { Kind } from './kinds.js';
import type { Status } from './types.js';

export interface StatusAuthority {
  /** status fields the bound node's agent may report */
  nodeFields: readonly string[];
  /** condition types the bound node's agent may report */
  nodeConditions: readonly string[];
}

const OBSERVED = ['observedGeneration'] as const;

export const STATUS_AUTHORITY: Readonly<Record<Kind, StatusAuthority>> = {
  // The node's own facts: where it is, what it runs, that it lives. The controller checks the
  // address before any peer routes to it (controller/node-address.ts).
  Node: {
    nodeFields: [...OBSERVED, 'address', 'interface', 'agentVersion', 'lastHeartbeatTime', 'capabilities'],
    nodeConditions: ['Ready', 'RoutesReady', 'AddressOnHost', 'InterfaceOnHost'],
  },
  // subnet, gateway, bridge, dockerRange, nodeAddress: the controller's alone. dockerHeld: the
  // addresses Docker's containers hold on the node's network (api/docker-held.ts).
  HostSubnet: { nodeFields: [...OBSERVED, 'dockerHeld'], nodeConditions: ['Ready'] },
  // ip, prefixLength, gateway, hostSubnet: the controller's; the kernel's MAC, the container
  // and the host interface are what the agent saw, observedIp the controller's ip it acted on
  // (a report about another address is not shown as the NIC's Ready: store/stale-report.ts).
  ContainerNic: {
    nodeFields: [...OBSERVED, 'mac', 'containerId', 'hostInterface', 'removed', 'observedIp'],
    nodeConditions: ['Ready'],
  },
  // No single bound node: the controller aggregates the per-node keys into its own status.
  ClusterNetwork: { nodeFields: [], nodeConditions: [] },
  MacvlanNet: { nodeFields: [], nodeConditions: [] },
};

/** The part of a node's status for `kind` that the node may report; undefined when none. */
export function nodeReportable<S extends Status>(kind: Kind, node: S | undefined): S | undefined {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
  const a = STATUS_AUTHORITY[kind];
  const out: Status = {};
  for (const k of a.nodeFields) if (k in node) out[k] = node[k];
  if (Array.isArray(node.conditions)) {
    const conds = node.conditions.filter((c) => c && typeof c === 'object' && a.nodeConditions.includes(c.type));
    if (conds.length) out.conditions = conds;
  }
  return Object.keys(out).length ? (out as S) : undefined;
}

/** Fields of a node's status that it has no authority over (what the store drops). */
export function unauthorizedFields(kind: Kind, node: Status | undefined): string[] {
  if (!node || typeof node !== 'object') return [];
  const a = STATUS_AUTHORITY[kind];
  const out = Object.keys(node).filter((k) => k !== 'conditions' && !a.nodeFields.includes(k));
  for (const c of Array.isArray(node.conditions) ? node.conditions : []) {
    if (c && typeof c === 'object' && !a.nodeConditions.includes(c.type)) out.push(`conditions[type=${String(c.type)}]`);
  }
  return out;
}
