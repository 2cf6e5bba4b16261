// The kind registry: names users type, the etcd key segment, and the schema for each kind.
import type { z } from 'zod';
import * as t from './types.js';
import { ValidationError } from '../errors.js';
import { suggestion } from './suggest.js';

export type Kind = 'ClusterNetwork' | 'Node' | 'HostSubnet' | 'ContainerNic' | 'MacvlanNet';

export interface KindInfo {
  kind: Kind;
  plural: string;   // also the etcd key segment
  short: string;
  schema: z.ZodTypeAny;
  /** one status key's value (controller's or a node's part); the store decodes reads with it */
  status: z.ZodTypeAny;
  /**
   * Finalizers an apply creates the object with, as Kubernetes' admission adds
   * `kubernetes.io/pvc-protection`: the object is protected from its first revision, and the
   * controller does not have to write it again to add them.
   */
  createdWith?: readonly string[];
}

/** Keeps a ContainerNic (and its address) until its node's agent took it out (controller/nic-finalizer.ts). */
export const NIC_FINALIZER = 'xnet.io/address-in-use';

/** Keeps a MacvlanNet (and what each node holds of it) until every node's agent took its network off (controller/macvlan-deleting.ts). */
export const MVN_FINALIZER = 'xnet.io/network-in-use';

/**
 * Keeps a HostSubnet's delete the controller's (controller/hostsubnet-finalizer.ts): its block
 * stays claimed for its node while that node's network of it still holds the subnet.
 */
export const HS_FINALIZER = 'xnet.io/block-in-use';

export const KINDS: readonly KindInfo[] = [
  { kind: 'ClusterNetwork', plural: 'clusternetworks', short: 'cn', schema: t.clusterNetwork, status: t.clusterNetworkStatus },
  { kind: 'Node', plural: 'nodes', short: 'no', schema: t.node, status: t.nodeStatus },
  { kind: 'HostSubnet', plural: 'hostsubnets', short: 'hs', schema: t.hostSubnet, status: t.hostSubnetStatus, createdWith: [HS_FINALIZER] },
  { kind: 'ContainerNic', plural: 'containernics', short: 'nic', schema: t.containerNic, status: t.containerNicStatus, createdWith: [NIC_FINALIZER] },
  { kind: 'MacvlanNet', plural: 'macvlannets', short: 'mvn', schema: t.macvlanNet, status: t.macvlanNetStatus, createdWith: [MVN_FINALIZER] },
];

export class UnknownKindError extends ValidationError {
  constructor(readonly input: string) {
    const names = KINDS.flatMap((k) => [k.kind.toLowerCase(), k.plural, k.short]);
    // one edit from a kind's name ("nics", "nicc", "hostsubnt"); not kubectl's "pods" as "nodes"
    super('UnknownKind', `unknown kind "${input}"${suggestion(input, names, 1)}; expected one of ${KINDS.map((k) => `${k.kind.toLowerCase()}|${k.plural}|${k.short}`).join(', ')}`);
  }
}

/** Resolves singular, plural or short names, case-insensitively, as kubectl does. */
export function resolveKind(input: string): KindInfo {
  const s = input.toLowerCase();
  const k = KINDS.find((k) => k.kind.toLowerCase() === s || k.plural === s || k.short === s);
  if (!k) throw new UnknownKindError(input);
  return k;
}

export function kindInfo(kind: Kind): KindInfo {
  return KINDS.find((k) => k.kind === kind)!;
}
