// Which type of event a node's not-Ready condition is told with (Normal or Warning), and when a
// young one that persists is told again as a Warning. The one owner of that rule: the status
// reporter (context.ts) asks it; the condition in the status is never changed by it.
import { STALE_ALLOCATION, WAITING_FOR_CONTROLLER } from '../api/conditions.js';
import { DEFAULT_SETTLE_GRACE_MS, type EventType } from '../events/types.js';
import { monotonicMs } from '../runtime/clock.js';

export { DEFAULT_SETTLE_GRACE_MS };

/**
 * Reasons that on a first apply only say that the objects arrived in some order, or that the
 * agent has not yet done its own part: a NIC reconciled before its ClusterNetwork, MacvlanNet or
 * HostSubnet reached this node (missing-network.ts, reconcilers/nics.ts), before the bridge its
 * HostSubnet gets was made and marked, or carries the gateway (planner/nic.ts, reconcilers/nics.ts),
 * a HostSubnet before its ClusterNetwork (desired.ts), a NIC's container made but not yet
 * started (reconcilers/nics.ts, netlink/pinned.ts, dataplane.ts). Each clears by itself within
 * moments, as the agent and the controller converge; each that persists is trouble (a
 * ClusterNetwork that never comes, a container really stopped), so it is Normal only while young.
 * Not here: what the user must act on (InterfaceNameTaken, NetworkConflict, InvalidSpec...), nor
 * what is a host's own set-up (ParentMissing).
 */
export const SETTLING_REASONS: ReadonlySet<string> = new Set([
  'ClusterNetworkMissing', 'MacvlanNetMissing', 'HostSubnetMissing',
  'BridgeMissing', 'BridgeNotReady', 'ContainerNotRunning',
]);

/**
 * A not-Ready reason that, for this kind, is the controller carrying out a delete the user made,
 * not a fault: the controller removes the HostSubnets of a deleted ClusterNetwork (they are its
 * dependents, as a Deployment's ReplicaSets are), so a Ready HostSubnet whose ClusterNetwork went
 * is on its way out. Told as a young settling reason is (Normal within the grace), and as a
 * Warning if it persists: no controller removed it.
 */
export function isCascade(kind: string, reason: string): boolean {
  return kind === 'HostSubnet' && reason === 'ClusterNetworkMissing';
}

/**
 * A NIC declared before its container exists waits for it, like a Kubernetes volume bound on
 * its first consumer (WaitForFirstConsumer, a Normal event however long): containers are
 * commonly made minutes after their NICs are applied (a deploy script, a compose run), and a
 * Warning 15 s in would be noise. Normal for as long as the NIC was never Ready; a container
 * gone from a NIC that was Ready is a Warning at once.
 */
export const WAITING_FOR_CONTAINER: ReadonlySet<string> = new Set(['ContainerNotFound']);

export interface NotReadyFacts {
  reason: string;
  /**
   * monotonic ms (runtime/clock.ts) since when this agent reports the object's incarnation not
   * Ready for this reason (at first sight, or when the reason before it cleared)
   */
  sinceMs: number;
  nowMs: number;
  /** the object has been Ready on this node (a working object lost something) */
  wasReady: boolean;
  graceMs: number;
}

/**
 * The type of the event that tells a not-Ready condition. Waiting for the controller
 * (WAITING_FOR_CONTROLLER) is Normal for as long as it lasts, on the way in: the controller's own
 * Warning says why it does not allocate. A SETTLING reason is Normal within the grace. Anything
 * else, and anything on an object that was Ready, is a Warning; but StaleAllocation is Normal
 * within the grace also on a NIC that was Ready (its network was edited, and the controller moves
 * it), and a Warning once it persists (a status written around the controller, rules that differ).
 */
export function notReadyEventType(f: NotReadyFacts): EventType {
  // the NIC keeps its interface as it is while the controller moves it to the edited range
  if (f.reason === STALE_ALLOCATION) return f.nowMs - f.sinceMs < f.graceMs ? 'Normal' : 'Warning';
  if (f.wasReady) return 'Warning';
  if (WAITING_FOR_CONTROLLER.has(f.reason) || WAITING_FOR_CONTAINER.has(f.reason)) return 'Normal';
  return SETTLING_REASONS.has(f.reason) && f.nowMs - f.sinceMs < f.graceMs ? 'Normal' : 'Warning';
}

/** Whether a condition told as Normal now would be a Warning later, if it persists. */
export function mayTurnWarning(f: NotReadyFacts): boolean {
  const settles = f.reason === STALE_ALLOCATION || (!f.wasReady && SETTLING_REASONS.has(f.reason));
  return settles && notReadyEventType(f) === 'Normal';
}

interface Seen { uid: string; reason: string; atMs: number; timer?: ReturnType<typeof setTimeout> }

/**
 * For each object never Ready that is not Ready now: its incarnation, the reason, since when
 * this agent reports that reason, and the one later look at the end of its grace. One entry per
 * object (`kind/name/`): a new uid or reason replaces the old, Ready or removal forgets it, so
 * memory follows the objects there are.
 */
export class SettlingClock {
  private readonly seen = new Map<string, Seen>();

  constructor(readonly graceMs = DEFAULT_SETTLE_GRACE_MS, private readonly now: () => number = monotonicMs) {}

  /**
   * The object's incarnation is reported not Ready for `reason`: since now, unless it already
   * was for that reason. Each step of a first apply (its network, then its bridge, then its
   * container) starts a grace of its own: a NIC that waited a while for its container is not
   * warned about the moment Docker creates the container before it starts it.
   */
  saw(obj: string, uid: string, reason: string): number {
    let s = this.seen.get(obj);
    if (s?.uid !== uid || s.reason !== reason) {
      this.forget(obj);
      s = { uid, reason, atMs: this.now() };
      this.seen.set(obj, s);
    }
    return s.atMs;
  }

  /** The facts of a not-Ready condition of the object now (wasReady: none is kept for it). */
  facts(obj: string, uid: string, reason: string, wasReady: boolean): NotReadyFacts {
    // StaleAllocation keeps its clock also on an object that was Ready: it turns a Warning when it persists
    const sinceMs = wasReady && reason !== STALE_ALLOCATION ? this.now() : this.saw(obj, uid, reason);
    return { reason, sinceMs, nowMs: this.now(), wasReady, graceMs: this.graceMs };
  }

  /** Runs `look` once, when the grace of the object's current reason ends (unless that ends first). */
  lookAtEnd(obj: string, uid: string, look: () => void): void {
    const s = this.seen.get(obj);
    if (!s || s.uid !== uid || s.timer) return;
    // a moment past the end: a timer may fire a fraction of a millisecond early on this clock
    s.timer = setTimeout(() => { s.timer = undefined; look(); }, Math.max(0, s.atMs + this.graceMs - this.now()) + 5);
    // a pending look never keeps a stopping agent's process alive
    s.timer.unref?.();
  }

  /** The object is Ready, deleted or gone from this node: nothing of it is kept. */
  forget(obj: string): void {
    const s = this.seen.get(obj);
    if (s?.timer) clearTimeout(s.timer);
    this.seen.delete(obj);
  }

  /** Ends every pending look (the agent stops). */
  close(): void {
    for (const k of [...this.seen.keys()]) this.forget(k);
  }

  /** objects remembered (tests: memory follows the objects there are) */
  get size(): number { return this.seen.size; }
}
