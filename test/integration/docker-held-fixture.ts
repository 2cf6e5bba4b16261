// What the controller tests of status.dockerHeld share: host-1's NICs on ClusterNetwork "apps",
// and the node's report on its HostSubnet as its agent writes it (the status key of the
// HostSubnet, with the addresses Docker's containers hold there: controller/hostsubnet-docker-held.ts).
import { getCondition, type AnyObject } from '../../pkg/api/index.js';
import type { EtcdStore } from '../../pkg/store/etcd-store.js';
import { obj, statusOf } from './controller-helpers.js';

/** host-1's HostSubnet of ClusterNetwork "apps". */
export const HS = 'apps-host-1';

export const cond = (o: AnyObject | undefined, type: string) => getCondition(statusOf(o).conditions as never, type);

/** A ContainerNic of host-1 on ClusterNetwork "apps", in a container of its name. */
export const nicOn = (name: string) => obj('ContainerNic', name, { node: 'host-1', container: name, ifName: 'eth1', network: { clusterNetwork: 'apps' } });

/** `node`'s report on host-1's HostSubnet, Ready, listing `dockerHeld` (none: the field left out). */
export async function reportDockerHeld(store: EtcdStore, node: string, dockerHeld?: unknown): Promise<void> {
  const hs = await store.get('HostSubnet', HS);
  await store.writeStatus('HostSubnet', HS, { node }, {
    ...(dockerHeld !== undefined ? { dockerHeld } : {}), keptUntilNetworkGone: true, objectUid: hs!.metadata.uid, observedGeneration: hs!.metadata.generation,
    conditions: [{ type: 'Ready', status: 'True', reason: 'Converged', message: 'in place', lastTransitionTime: new Date().toISOString() }],
  });
}
