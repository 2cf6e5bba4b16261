import type { Condition } from './fields.js';

/**
 * The reason of the controller's condition on a deleting object that says what its delete
 * waits on (a ContainerNic whose node has not reported it out of its container). The merged
 * view shows it over the bound node's condition of the same type (store/merge.ts).
 */
export const TERMINATING = 'Terminating';

/**
 * The agent's `Ready` reason for a ContainerNic whose allocation (status.ip, prefixLength,
 * gateway) decodes but does not fit its network as the agent now sees it: the network was
 * edited (a MacvlanNet's ipRange shrunk, a HostSubnet moved) and the controller has not moved
 * the NIC yet. The agent configures nothing with it (agent/nic-address.ts) and waits for the
 * controller, told as a Normal event; a status that does not decode is `InvalidStatus`.
 */
export const STALE_ALLOCATION = 'StaleAllocation';

/**
 * A node's `Ready` reasons that say only that it waits for the controller (an address, a
 * HostSubnet, a block, an address that fits the network as edited). While the controller's
 * `Allocated` is False, its own `Ready` says why it does not allocate (`InvalidSpec`,
 * `PoolExhausted`, `WaitingForHostSubnet`...), and the merged view shows that one over the
 * node's (store/merge.ts).
 */
export const WAITING_FOR_CONTROLLER: ReadonlySet<string> = new Set(['NoAddress', 'NotAllocated', STALE_ALLOCATION]);

/**
 * The longest message of a node's part of a MacvlanNet the controller copies into the status
 * every node reads (controller/macvlan-agent.ts clips a longer one): a node that reports a
 * megabyte must not make that status too large to write. The agent fits what it says within it.
 */
export const MAX_MACVLAN_NODE_MESSAGE = 160;

/**
 * Sets a condition the Kubernetes way: lastTransitionTime moves only when status changes,
 * so watchers can tell how long a condition has held.
 */
export function setCondition(list: Condition[] | undefined, c: Omit<Condition, 'lastTransitionTime'>, now = new Date()): Condition[] {
  const out = [...(list ?? [])];
  const i = out.findIndex((x) => x.type === c.type);
  const prev = i >= 0 ? out[i] : undefined;
  const lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : isoTime(now);
  const next: Condition = { ...c, lastTransitionTime };
  if (i >= 0) out[i] = next; else out.push(next);
  return out;
}

let lastIso = { ms: NaN, text: '' };
/** now.toISOString(), made once per millisecond: a burst of allocations sets thousands per second. */
function isoTime(now: Date): string {
  const ms = now.getTime();
  if (ms !== lastIso.ms) lastIso = { ms, text: now.toISOString() };
  return lastIso.text;
}

export function getCondition(list: Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

export function isReady(obj: { status?: { conditions?: Condition[] } }): boolean {
  return getCondition(obj.status?.conditions, 'Ready')?.status === 'True';
}
