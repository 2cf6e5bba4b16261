// Drift healing, measured: a key enqueued because the kernel, Docker or the periodic resync
// said something changed is "drift"; when its next reconcile runs any op, the agent healed it
// (xnet_drift_healed_total) and the time since the first such event is the heal latency. A
// reconcile that runs no op found the host as declared (e.g. the event was the agent's own
// change coming back), which is not a heal; nor is a NIC's first attach (its container started
// after the NIC was declared): the agent says which keys were in place before (`wasInPlace`).
// Nor is a reconcile whose key the store also changed since the last one (`declare`): a
// MacvlanNet's pool grown while Docker's event of the container that needed it marks the key,
// its new routes are the declared change carried out, not a repair. A real drift in that same
// moment is repaired by that reconcile all the same, only not counted. Nor is a NIC taken out of
// a container its spec no longer names (`leavingFormerContainer`: renamed away by Docker).
//
// At start-up (trigger `restart`): the agent's first pass over every key repairs what drifted
// while no agent ran, with no event to show it; setting a host up is no heal, so a repair in
// that pass is told only when the reconcile proves that what it puts back is what the agent's
// previous run had in place (`inPlaceBeforeStart`; restart-evidence.ts says what proves it: a
// NIC's interface made again in the very container run its previous report says it was
// attached in, with the same address, generation and host side; a peer route put back as the
// routes record of this boot holds it). A reconcile of the first pass with no such proof (a
// fresh node, a NIC whose container started since, a newly declared or edited object, a
// HostSubnet bridge or NAT chain, which have none yet) is counted nowhere, as before.
import { AsyncLocalStorage } from 'node:async_hooks';
import { driftHealed, healLatency } from '../metrics/metrics.js';
import { KEY_GC, KEY_HOST_SUBNETS, KEY_MACVLAN_LEFTOVERS, KEY_NAT, KEY_ROUTES } from './events.js';
import type { ContainerNic } from '../api/index.js';
import type { Informer } from '../store/informer.js';
import type { NodeStatusReporter } from './context.js';

/** `restart`: found by the agent's first pass after it started (DriftTracker.startPass) */
export type Trigger = 'kernel' | 'docker' | 'resync' | 'restart';

/**
 * The op count of the measured reconcile a call runs in. Only reconciles that may heal are
 * run in it, and it is disabled whenever none is in flight: while an AsyncLocalStorage is
 * enabled, Node runs a hook on every promise of the process (every gRPC call and watch
 * message), and a reconcile that a store event started (a peer's new route) measures nothing.
 */
const opsRun = new AsyncLocalStorage<Counter>();
/** `proven`: the reconcile proved that what it puts back was in place before the agent started (inPlaceBeforeStart) */
type Counter = { ops: number; appliedAt?: number; proven?: boolean };
let measuring = 0;

async function countingOps<T>(f: () => Promise<T>): Promise<{ result: T } & Counter> {
  const counter: Counter = { ops: 0 };
  measuring++;
  try {
    const result = await opsRun.run(counter, f);
    return { result, ...counter };
  } finally {
    if (--measuring === 0) opsRun.disable();
  }
}

/** Whether a measured reconcile is running: tests. */
export const measuringOps = () => measuring > 0;

/** Runs f with its ops counted nowhere: what a reconcile does that is no heal (DriftTracker.expectFollowUps). */
export function withoutCounting<T>(f: () => Promise<T>): Promise<T> {
  return opsRun.getStore() ? opsRun.run({ ops: 0 }, f) : f();
}

/**
 * Runs the ops that take a NIC out of the container it was in (its status.containerId) because
 * its spec no longer names that container: the container was renamed away (`docker rename`, no
 * store change, so nothing else tells this from drift), or spec.container was edited. The NIC
 * names a container that is not this one (or none under that name): taking it out is the
 * declared state carried out, never a repair, whichever event showed it, and is counted
 * nowhere. What else the same reconcile does (the NIC made in the container that has its
 * spec's name now) is judged as any other op of it.
 */
export function leavingFormerContainer<T>(f: () => Promise<T>): Promise<T> {
  return withoutCounting(f);
}

/**
 * Called by a reconcile that is about to put back what the agent's previous run had in place
 * (restart-evidence.ts): in the start-up pass, only such a reconcile's ops are a heal. Outside a
 * measured reconcile, or inside withoutCounting, it says nothing.
 */
export function inPlaceBeforeStart(): void {
  const s = opsRun.getStore();
  if (s) s.proven = true;
}

/** Called by the dataplane for every op it executes inside a measured reconcile. */
export function countOps(n: number): void {
  const s = opsRun.getStore();
  if (s) s.ops += n;
}

/**
 * Called by the dataplane once ops it executed are in place: a heal's latency ends at the last
 * such moment of its reconcile, not when the reconcile returns (its report of the NIC, its
 * read-back of the host: a trial measured a NIC back in its container within 0.6 s that the
 * event called 1.0 s).
 */
export function opsApplied(now = Date.now()): void {
  const s = opsRun.getStore();
  if (s && s.ops > 0) s.appliedAt = now;
}

/** The kind a work-queue key reconciles (the metrics label). */
export function keyKind(key: string): string {
  if (key.startsWith('nic/')) return 'ContainerNic';
  if (key.startsWith('mvn/') || key === KEY_MACVLAN_LEFTOVERS) return 'MacvlanNet';
  if (key === KEY_HOST_SUBNETS) return 'HostSubnet';
  if (key === KEY_ROUTES) return 'Route';
  if (key === KEY_NAT) return 'NAT';
  if (key === KEY_GC) return 'GarbageCollection';
  return 'other';
}

/** A NIC's ops heal drift only once it was in place (reported Ready); until then they are its first attach. */
export function wasInPlace(key: string, nics: Pick<Informer<ContainerNic>, 'get'>, status: Pick<NodeStatusReporter, 'wasReady'>): boolean {
  if (!key.startsWith('nic/')) return true;
  const nic = nics.get(key.slice(4));
  return !nic || status.wasReady('ContainerNic', nic);
}

/** Keys whose reconcile can prove, at start-up, that what it puts back was in place before (restart-evidence.ts). */
const provable = (key: string) => key === KEY_ROUTES || key.startsWith('nic/');

export type OnHeal = (key: string, kind: string, trigger: Trigger, ms: number) => void;

export class DriftTracker {
  /** wasInPlace: whether the key's object was in place once, so that ops on it repair drift (default: always) */
  constructor(private readonly onHeal?: OnHeal, private readonly wasInPlace: (key: string) => boolean = () => true) {}

  private readonly pending = new Map<string, { since: number; trigger: Trigger }>();
  /** keys whose declared state the store changed since their last reconcile */
  private readonly declared = new Set<string>();
  /** keys whose reconciles until then follow up on the agent's own act (expectFollowUps) */
  private readonly quietUntil = new Map<string, number>();
  /** off until the start-up pass is done: setting a host up is not healing it */
  enabled = false;

  /** Remembers the first trigger of each key until its next reconcile. */
  mark(keys: string[], trigger: Trigger, now = Date.now()): void {
    if (!this.enabled) return;
    for (const k of keys) if (!this.pending.has(k)) this.pending.set(k, { since: now, trigger });
  }

  /**
   * The start-up pass is about to run over `keys`: each one's first reconcile is marked
   * `restart`, a heal only if it proves what it puts back was in place before
   * (inPlaceBeforeStart). What the informers' first listing declared (every object, as an add)
   * is forgotten: that is what the host was set up for, not a change since the previous run
   * (the proof itself holds the object as it was then against the object now).
   */
  startPass(keys: string[], now = Date.now()): void {
    this.declared.clear();
    // only keys whose reconcile can prove it (restart-evidence.ts): the others are not measured
    for (const k of keys) if (provable(k) && !this.pending.has(k)) this.pending.set(k, { since: now, trigger: 'restart' });
  }

  /** The store changed what these keys declare: their next reconcile carries that out, whatever marked them too. */
  declare(keys: string[]): void {
    // also during the start-up pass: a reconcile just after it may still carry the change out
    for (const k of keys) this.declared.add(k);
  }

  /**
   * The agent acts on the host in a way that makes others change it in turn, in several steps
   * (Docker rewrites its iptables rules, filter then nat, when xnet makes a network): for `ms`
   * from now the reconciler of `keys` may tell that what it fixes is that follow-up (followingUp)
   * and run it uncounted (withoutCounting); what else it repairs then is still a heal.
   */
  expectFollowUps(keys: string[], ms: number, now = Date.now()): void {
    // also during the start-up pass: Docker's rewrites for a network it made go on after it
    for (const k of keys) this.quietUntil.set(k, Math.max(this.quietUntil.get(k) ?? 0, now + ms));
  }

  followingUp(key: string, now = Date.now()): boolean {
    const until = this.quietUntil.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.quietUntil.delete(key);
    return false;
  }

  /**
   * Runs one reconcile of key; records a heal when it was triggered as drift only and ran ops.
   * One that fails did not do what it was for: its retry carries out the same change, or heals
   * the same drift (an iptables-restore that raced Docker's rewrites, then done again, made the
   * ClusterNetwork's chains, not repaired them).
   */
  async reconcile<T>(key: string, f: () => Promise<T>): Promise<T> {
    const marker = this.pending.get(key);
    this.pending.delete(key);
    const declared = this.declared.delete(key);
    try {
      const restart = marker?.trigger === 'restart';
      if (!marker || declared || (!restart && !this.wasInPlace(key))) return await f();
      const { result, ops, appliedAt, proven } = await countingOps(f);
      if (ops > 0 && (!restart || proven)) this.healed(key, marker, appliedAt);
      return result;
    } catch (e) {
      if (declared) this.declared.add(key);
      if (marker && !this.pending.has(key)) this.pending.set(key, marker);
      throw e;
    }
  }

  private healed(key: string, marker: { since: number; trigger: Trigger }, appliedAt = Date.now()): void {
    const kind = keyKind(key);
    const ms = Math.max(0, appliedAt - marker.since);
    driftHealed.inc({ kind, trigger: marker.trigger });
    // no event showed a drift the periodic resync or the start-up pass found: no latency
    if (marker.trigger !== 'resync' && marker.trigger !== 'restart') healLatency.observe({ kind }, ms / 1000);
    this.onHeal?.(key, kind, marker.trigger, ms);
  }
}
