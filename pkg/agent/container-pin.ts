// A container's network namespace, pinned through the PID Docker's inspect gave and then
// confirmed by Docker to be still that container's. Pinning (netlink/pinned.ts) fixes which
// namespace the agent acts on, but not whose it is: if the container died between the inspect
// and the open and its PID went to a process of another container, the handle would hold that
// other container's namespace (not the host's, so the host check would pass). Docker is asked
// again once the handle is open: the same container running with the same PID and start time
// means the PID was the container's all along, from the inspect to the open, so the handle is
// its namespace. Every pin made from a Docker PID goes through pinContainerNetns.
import type { ContainerInfo } from '../docker/types.js';
import { PinError, type PinnedNetns } from '../netlink/pinned.js';
import type { AgentDataplane } from './dataplane.js';

/**
 * What the confirming inspect says of the pinned namespace: 'same' (the container's),
 * 'restarted' (the container runs again, in another namespace: the pinned one may be any
 * process's), 'gone' (the container stopped or was removed).
 */
export type PinnedLife = 'same' | 'restarted' | 'gone';

/** The container's namespace, pinned and confirmed; or why there is none to act on. */
export type ContainerPin = { ns: PinnedNetns; life: 'same' } | { ns?: undefined; life: Exclude<PinnedLife, 'same'> };

/**
 * Compares the inspect the PID came from with the one made after the open. A start time
 * Docker did not give cannot confirm anything: 'restarted' (the reconcile is tried again).
 */
export function pinnedLife(before: Pick<ContainerInfo, 'id' | 'pid' | 'startedAt'>, after: ContainerInfo | undefined): PinnedLife {
  if (!after || !after.running || !after.pid || after.id !== before.id) return 'gone';
  if (!before.startedAt || after.pid !== before.pid || after.startedAt !== before.startedAt) return 'restarted';
  return 'same';
}

/**
 * Pins the namespace of `c`'s PID (c: Docker's inspect, just made) and confirms it with a
 * second inspect of the same container (by id, through the same client and its timeout). A
 * handle that is not confirmed is closed here; a Docker failure closes it and is thrown.
 */
export async function pinContainerNetns(dp: Pick<AgentDataplane, 'pinNetns' | 'docker'>, c: ContainerInfo): Promise<ContainerPin> {
  if (!c.running || !c.pid) return { life: 'gone' };
  let ns: PinnedNetns;
  try {
    ns = await dp.pinNetns(c.pid);
  } catch (e) {
    if (e instanceof PinError) return { life: 'gone' };
    throw e;
  }
  try {
    const life = pinnedLife(c, await dp.docker.inspectContainer(c.id));
    if (life === 'same') return { ns, life };
    await ns.close();
    return { life };
  } catch (e) {
    await ns.close();
    throw e;
  }
}
