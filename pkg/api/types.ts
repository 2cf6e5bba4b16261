// The five kinds of docs/api.md. Field names are the contract; keep them.
import { z } from 'zod';
import * as f from './fields.js';

export const API_VERSION = 'xnet.io/v1alpha1';

const statusBase = {
  observedGeneration: z.number().int().optional(),
  conditions: z.array(f.condition).optional(),
};

export const clusterNetworkSpec = z.strictObject({
  cidr: f.cidr,
  hostPrefix: z.number().int().min(8).max(30),
  reserved: z.array(f.cidr).optional(),
  dockerNetwork: f.name.optional(),
  bridgePrefix: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,10}$/, 'must be 1..11 letters, digits, "_" or "-", starting with a letter').default('br'),
  masquerade: z.boolean().default(true),
  mtu: z.number().int().min(576).max(65535).optional(),
  nodeSelector: f.nodeSelector.optional(),
});
export const clusterNetworkStatus = z.looseObject({
  ...statusBase,
  allocated: z.number().int().optional(),
  free: z.number().int().optional(),
});

export const nodeSpec = z.strictObject({
  address: f.ipv4.optional(),
  interface: f.ifName.optional(),
});
export const nodeStatus = z.looseObject({
  ...statusBase,
  address: z.string().optional(),
  interface: z.string().optional(),
  agentVersion: z.string().optional(),
  lastHeartbeatTime: z.string().optional(),
  capabilities: z.record(z.string(), z.boolean()).optional(),
});

export const hostSubnetSpec = z.strictObject({
  node: f.name,
  clusterNetwork: f.name,
  subnet: f.cidr.optional(),
  gateway: f.ipv4.optional(),
  bridge: f.ifName.optional(),
  dockerRange: f.cidr.optional(),
  icc: z.boolean().default(true),
});
export const hostSubnetStatus = z.looseObject({
  ...statusBase,
  subnet: z.string().optional(),
  gateway: z.string().optional(),
  bridge: z.string().optional(),
  dockerRange: z.string().optional(),
  nodeAddress: z.string().optional(),
  /** the node's report: addresses of xnet's part that containers Docker attached hold (api/docker-held.ts) */
  dockerHeld: z.array(z.string()).optional(),
});

export const containerNicSpec = z.strictObject({
  node: f.name,
  container: z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be a Docker container name or id'),
  ifName: f.ifName,
  network: z.strictObject({
    clusterNetwork: f.name.optional(),
    macvlanNet: f.name.optional(),
  }),
  ip: f.ipv4.optional(),
  mac: f.mac.optional(),
  defaultRoute: z.boolean().default(false),
});
export const containerNicStatus = z.looseObject({
  ...statusBase,
  ip: z.string().optional(),
  prefixLength: z.number().int().optional(),
  mac: z.string().optional(),
  gateway: z.string().optional(),
  containerId: z.string().optional(),
  hostInterface: z.string().optional(),
  /** the node's agent's: the controller's ip its report is about (store/stale-report.ts) */
  observedIp: z.string().optional(),
  /** the HostSubnet whose bridge a ClusterNetwork NIC is on: chosen by the controller */
  hostSubnet: z.string().optional(),
});

export const macvlanMode = z.enum(['bridge', 'private', 'vepa', 'passthru']);

export const macvlanNetSpec = z.strictObject({
  subnet: f.cidr,
  gateway: f.ipv4.optional(),
  ipRange: f.cidr.optional(),
  exclude: z.array(f.cidr).optional(),
  parent: f.ifName.optional(),
  vlan: z.number().int().min(1).max(4094).optional(),
  mode: macvlanMode.default('bridge'),
  promiscuous: z.boolean().default(true),
  hostShim: z.boolean().default(true),
  dockerNetwork: f.name.optional(),
  blockPrefix: z.number().int().min(16).max(30).default(28),
  /** who hands plain `docker run` containers their addresses: xnet's IPAM plugin from one shared pool, or Docker per node from a blockPrefix block */
  dockerIPAM: z.enum(['xnet', 'blocks']).default('xnet'),
  nodeSelector: f.nodeSelector.optional(),
  nodes: z.array(z.strictObject({ name: f.name, parent: f.ifName.optional() })).optional(),
});
/** The longest status.poolUsedUp the controller writes and an agent takes (it becomes a container's error message). */
export const MAX_USED_UP_REASON = 512;
export const macvlanNodeStatus = z.looseObject({
  name: z.string(),
  parent: z.string().optional(),
  dockerRange: z.string().optional(),
  /** the block this node's Docker network still has after an edit moved it; claimed until the agent reports the new one */
  previousDockerRange: z.string().optional(),
  shimAddress: z.string().optional(),
  /** dockerIPAM xnet: the addresses the controller pre-claimed for this node's IPAM plugin */
  addresses: z.array(z.string()).optional(),
  /** dockerIPAM xnet: addresses its containers use that an edit left outside the range; claimed for the node until they go, never handed out */
  outsideRange: z.array(z.string()).optional(),
  /** dockerIPAM xnet: addresses the node asked for by name (docker run --ip) that it will not be given, and why */
  refusedRequests: z.array(z.object({ ip: z.string(), reason: z.string() })).optional(),
  /**
   * dockerIPAM xnet, only while another node of a small pool has no address at hand and this
   * one holds more idle than its share: the most free pre-claimed addresses its IPAM plugin
   * keeps; it gives back the rest (an agent before this field ignores it)
   */
  maxFree: z.number().int().min(0).optional(),
  /**
   * dockerIPAM xnet, only while another node's container asks for them by name (docker run
   * --ip): idle pre-claims of this node the controller asks back; its agent gives back those no
   * container holds there (an agent before this field ignores it)
   */
  giveBack: z.array(z.string()).optional(),
  /**
   * dockerIPAM xnet: addresses this node's ARP probe found answering, marked `external` (also in
   * status.external); its agent probes each again after a quarantine and reports those nobody
   * answers for as cleared (an agent before this field ignores it: its marks stay)
   */
  external: z.array(z.string()).optional(),
  /**
   * dockerIPAM xnet: when each of `external` was marked (Unix seconds, in its order; 0 for a mark
   * of a controller before this field), only when one is known: its agent counts the quarantine
   * from then, also after a restart (an agent before this field ignores it)
   */
  externalMarkedAt: z.array(z.number().int().min(0).catch(0)).optional(),
  /**
   * dockerIPAM xnet, only while this node asks for an address with none at hand and the pool has
   * nothing free, nothing idle on any node and nothing being freed: true, and the MacvlanNet's
   * status.poolUsedUp says why; its IPAM plugin refuses such a request at once with that
   */
  usedUp: z.boolean().optional(),
  /**
   * what a controller before status.poolUsedUp wrote in place of usedUp: the reason itself, in
   * every asking node's part (up to 1,000 copies of 512 bytes in one key); still read by agents
   */
  poolUsedUp: z.string().optional(),
  ready: z.boolean().optional(),
  message: z.string().optional(),
});
export const macvlanNetStatus = z.looseObject({
  ...statusBase,
  allocated: z.number().int().optional(),
  /** addresses of the range that can be handed out now */
  free: z.number().int().optional(),
  /** addresses of the range free but released less than --address-cooldown ago: none may have them yet (absent: none) */
  cooling: z.number().int().optional(),
  /** dockerIPAM xnet: addresses given to containers (all nodes) */
  used: z.number().int().optional(),
  /**
   * addresses that answered an ARP probe: used by someone outside xnet, never handed out; the
   * lowest 1,024 (controller/macvlan-mark-time.ts MAX_STATUS_EXTERNAL)
   */
  external: z.array(z.string()).optional(),
  /** how many addresses are marked external in all, only when that is more than `external` lists */
  externalCount: z.number().int().optional(),
  nodes: z.array(macvlanNodeStatus).optional(),
  /**
   * dockerIPAM blocks: addresses held twice on the segment, a node's container (docker run --ip
   * outside its node's block) and another holder, lowest first, at most 64, each listing at most 4 holders (holderCount: how many in all when more; controller/macvlan-conflicts.ts)
   */
  addressConflicts: z.array(z.object({ ip: z.string(), holders: z.array(z.object({ node: z.string().optional(), role: z.string(), what: z.string() })), holderCount: z.number().int().optional() })).optional(),
  /** how many addresses are held twice in all, only when that is more than `addressConflicts` lists */
  addressConflictCount: z.number().int().optional(),
  /**
   * dockerIPAM xnet, only while some node's part says usedUp: why no address can come to those
   * nodes (at most MAX_USED_UP_REASON characters), written once for all of them
   */
  poolUsedUp: z.string().optional(),
});

/**
 * A MacvlanNet's pool counts, kept apart from its status key (store/macvlan-parts.ts): they
 * change with every container, and no agent acts on them.
 */
export const macvlanPoolStatus = z.looseObject({
  allocated: z.number().int().optional(),
  free: z.number().int().optional(),
  cooling: z.number().int().optional(),
  used: z.number().int().optional(),
});

function objectSchema<K extends string, S extends z.ZodTypeAny, St extends z.ZodTypeAny>(kind: K, spec: S, status: St) {
  return z.strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    metadata: f.metadata,
    spec,
    status: status.optional(),
  });
}

export const clusterNetwork = objectSchema('ClusterNetwork', clusterNetworkSpec, clusterNetworkStatus);
export const node = objectSchema('Node', nodeSpec.default({}), nodeStatus);
export const hostSubnet = objectSchema('HostSubnet', hostSubnetSpec, hostSubnetStatus);
export const containerNic = objectSchema('ContainerNic', containerNicSpec, containerNicStatus);
export const macvlanNet = objectSchema('MacvlanNet', macvlanNetSpec, macvlanNetStatus);

export type ClusterNetwork = z.infer<typeof clusterNetwork>;
export type Node = z.infer<typeof node>;
export type HostSubnet = z.infer<typeof hostSubnet>;
export type ContainerNic = z.infer<typeof containerNic>;
export type MacvlanNet = z.infer<typeof macvlanNet>;
export type AnyObject = ClusterNetwork | Node | HostSubnet | ContainerNic | MacvlanNet;
export type MacvlanNodeStatus = z.infer<typeof macvlanNodeStatus>;

export type ClusterNetworkStatus = z.infer<typeof clusterNetworkStatus>;
export type NodeStatus = z.infer<typeof nodeStatus>;
export type HostSubnetStatus = z.infer<typeof hostSubnetStatus>;
export type ContainerNicStatus = z.infer<typeof containerNicStatus>;
export type MacvlanNetStatus = z.infer<typeof macvlanNetStatus>;

/** Each kind's status as the controller writes it (the schemas above). */
export interface StatusByKind {
  ClusterNetwork: ClusterNetworkStatus;
  Node: NodeStatus;
  HostSubnet: HostSubnetStatus;
  ContainerNic: ContainerNicStatus;
  MacvlanNet: MacvlanNetStatus;
}
export type StatusOf<K extends keyof StatusByKind> = StatusByKind[K];

/**
 * Any status as stored, of any kind and any writer: what a store or audit passes along
 * without reading its fields. Code that reads fields uses StatusOf<K>.
 */
export type Status = Record<string, unknown> & { conditions?: f.Condition[]; observedGeneration?: number };
