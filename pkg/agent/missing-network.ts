// A NIC or HostSubnet naming a network the agent does not know: its status says so with the
// closest name there is (a typo: "pod" for "pods"), the same message the controller gives.
import { missingNetworkMessage } from '../api/validate.js';
import type { AgentContext } from './context.js';
import type { Problem } from './planner/ops.js';

type Networks = Pick<AgentContext['caches'], 'clusterNetworks' | 'macvlanNets'>;

/** ClusterNetworkMissing / MacvlanNetMissing, naming the closest network of that kind. */
export function networkMissing(caches: Networks, kind: 'ClusterNetwork' | 'MacvlanNet', name: string): Problem {
  const known = (kind === 'ClusterNetwork' ? caches.clusterNetworks : caches.macvlanNets).list().map((o) => o.metadata.name);
  return { reason: `${kind}Missing`, message: missingNetworkMessage(kind, name, known) };
}
