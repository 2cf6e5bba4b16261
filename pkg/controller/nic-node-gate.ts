// A ContainerNic takes an address only on a node that exists. xctl accepts a spec.node that no
// Node has (the Node may come when its agent joins), and before, a MacvlanNet's NIC so named (a
// typo: host1 for host-1) took an address from the pool and held it for ever, said only by a
// Warning NodeNotFound 15 s later (late-warnings.ts); a ClusterNetwork's did the same through a
// HostSubnet written by hand for that node. Now it waits without one, Allocated False
// NodeNotFound, and a Node made queues it (events.ts, boundToNode): it gets its address within
// seconds. A NIC that already holds an address in its pool keeps it when its Node goes: the
// node's containers may still use it (its agent takes the interface out, not this rule).
import type { ContainerNic } from '../api/index.js';
import { missingNodeNote, nodeAbsent } from './node-missing.js';
import type { Model } from './model.js';

/**
 * Why the NIC waits for its Node before it takes an address, or undefined: it may take one.
 * `holdsInPool` is asked only when the Node is missing (the hot path pays one Map lookup).
 */
export function waitsForNode(model: Pick<Model, 'node' | 'cache' | 'keys' | 'closestNode'>, nic: ContainerNic, holdsInPool: () => boolean): string | undefined {
  if (!waitsForItsNode(model, nic, holdsInPool)) return undefined;
  return `${missingNodeNote(model, nic.spec.node).replace(/^; /, '')}; the NIC gets an address once a Node of that name exists`;
}

/** The rule alone (the MacvlanNet's round counts no such NIC among those that need an address: macvlan-nic-need.ts). */
export function waitsForItsNode(model: Pick<Model, 'node' | 'cache' | 'keys'>, nic: ContainerNic, holdsInPool: () => boolean): boolean {
  return nodeAbsent(model, nic.spec.node) && !holdsInPool();
}
