// What every reconciler of the agent shares: its node, the store and caches, the dataplane,
// and a status writer that writes only when something changed (our own status writes come
// back as watch events; unchanged writes would make the agent chase its own tail).
import type { HostEnds } from './host-ends.js';
import type { ClusterNetwork, Condition, ContainerNic, HostSubnet, Kind, MacvlanNet, Node } from '../api/index.js';
import type { EventRecorder } from '../events/recorder.js';
import { setCondition } from '../api/index.js';
import { STALE_ALLOCATION, WAITING_FOR_CONTROLLER } from '../api/conditions.js';
import { SETTLING_REASONS, SettlingClock, isCascade, mayTurnWarning, notReadyEventType, type NotReadyFacts } from './settling.js';
import { HOSTSUBNET_REPORT_MARK, reportKeepsFor } from '../api/hostsubnet-report.js';
import type { Informer } from '../store/informer.js';
import type { Store } from '../store/types.js';
import type { Logger } from '../log.js';
import type { AgentDataplane } from './dataplane.js';
import type { RemovedNic } from './planner/nic.js';
import type { Problem } from './planner/ops.js';
import type { AddressBook } from '../dockeripam/book.js';
import type { MacWaits } from './mac-wait.js';
import type { RoutesDirty } from './routes-delta.js';
import type { ParentRecord } from './parent-record.js';
import type { NetworkEvidence } from './network-record.js';
import type { RoutesRecord } from './routes-record.js';
import type { PinnedNetns } from '../netlink/pinned.js';
import type { SelfReportGate } from './self-report-gate.js';

export interface Caches {
  nodes: Informer<Node>;
  clusterNetworks: Informer<ClusterNetwork>;
  hostSubnets: Informer<HostSubnet>;
  nics: Informer<ContainerNic>;
  macvlanNets: Informer<MacvlanNet>;
}

export interface Ready {
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/**
 * Not Ready only because the controller has not yet done its part (an address, a HostSubnet, a
 * block): every new object passes through these for a moment, so they are told as Normal
 * events, as Kubernetes tells a pod's scheduling; a Warning is something a user may act on.
 * Only on the way in: an object that was Ready and is back to waiting (its address released)
 * is a Warning. A refused allocation has the controller's own Warning too (PoolExhausted).
 * The rule, with the reasons Normal only while young, is settling.ts's.
 */
export const WAITING_REASONS: ReadonlySet<string> = WAITING_FOR_CONTROLLER;

/** The Ready of this node's stored report on the object (of this uid), if it has one. */
function storedReady(stored: string | undefined, uid: string | undefined): Condition[] | undefined {
  if (stored === undefined) return undefined;
  let report: { objectUid?: unknown; conditions?: Condition[] } | null;
  try { report = JSON.parse(stored) as typeof report; } catch { return undefined; }
  if (uid && report?.objectUid !== uid) return undefined;
  const ready = (report?.conditions ?? []).filter((c) => c?.type === 'Ready');
  return ready.length ? ready : undefined;
}

/** This node's status reports (its own status keys), written only when they change. */
export class NodeStatusReporter {
  private last = new Map<string, string>();
  private conditions = new Map<string, Condition[]>();
  /** objects this process has reported Ready True (wasReady) */
  private readyOnce = new Set<string>();
  /** `kind/name/` -> the key of `last` written for it (an object's uid changes when it is made again) */
  private lastKeyOf = new Map<string, string>();
  /** key -> the write before the last: its watch event may come after the last write (forgetIfChanged) */
  private before = new Map<string, string>();
  /** `kind/name` -> this node's report as etcd held it before this process first wrote or removed it (previousRun) */
  private found = new Map<string, string | undefined>();

  /**
   * `stored`: this node's status key of the object as etcd holds it (the node's view), so
   * that an agent that starts again does not rewrite every report it already made.
   */
  /**
   * `settling`: since when each object never Ready is not Ready for its reason (settling.ts):
   * young, such a condition is told as a Normal event.
   */
  /** `gate`: no report on an object before the node's report about itself (self-report-gate.ts). */
  constructor(private readonly store: Store, private readonly node: string, private readonly events?: EventRecorder,
    private readonly stored?: (kind: Kind, name: string) => string | undefined, private readonly settling = new SettlingClock(),
    private readonly gate?: SelfReportGate) {}

  /** Writes this node's status for the object unless it is what we last wrote, or what etcd holds. */
  async write(kind: Kind, obj: { metadata: { name: string; uid?: string; generation?: number }; status?: unknown }, fields: Record<string, unknown>, ready: Ready): Promise<void> {
    // By uid: an object deleted and made again under the same name has no status yet.
    const key = `${kind}/${obj.metadata.name}/${obj.metadata.uid ?? ''}`;
    if (ready.status === 'True') { this.readyOnce.add(key); this.settling.forget(`${kind}/${obj.metadata.name}/`); }
    else if (ready.status === 'False' && !this.readyOnce.has(key)) this.settling.saw(`${kind}/${obj.metadata.name}/`, obj.metadata.uid ?? '', ready.reason);
    // After a restart, this node's stored Ready (else the merged view's) keeps its
    // lastTransitionTime: the merged view may show the controller's Ready over a node's that
    // waits for it (store/merge.ts); other types in it belong to the controller and must not
    // be copied into this node's status.
    const prev = this.conditions.get(key) ?? storedReady(this.stored?.(kind, obj.metadata.name), obj.metadata.uid)
      ?? ((obj.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).filter((c) => c.type === 'Ready');
    const conditions = setCondition(prev, { type: 'Ready', ...ready, observedGeneration: obj.metadata.generation });
    // objectUid: which object of that name this is about, so that an object deleted and made
    // again never shows (nor is taken to have) the report of the one before (store/merge.ts);
    // a HostSubnet's marked as one this agent removes itself (api/hostsubnet-report.ts)
    const mark = kind === 'HostSubnet' ? HOSTSUBNET_REPORT_MARK : {};
    const status = { ...fields, ...mark, ...(obj.metadata.uid ? { objectUid: obj.metadata.uid } : {}), observedGeneration: obj.metadata.generation, conditions };
    const text = JSON.stringify(status);
    if (this.last.get(key) === text) return;
    if (!this.last.has(key) && this.stored?.(kind, obj.metadata.name) === text) {
      this.remember(key, text);
      this.conditions.set(key, conditions);
      // reported before a restart: still told as a Warning if it persists past the grace
      const o = { kind, name: obj.metadata.name, uid: obj.metadata.uid };
      if (ready.status === 'False' && mayTurnWarning(this.facts(o, ready.reason, false))) this.warnIfPersists(o);
      return;
    }
    this.gate?.check(kind, obj.metadata.name);
    this.keepFound(kind, obj.metadata.name);
    await this.store.writeStatus(kind, obj.metadata.name, { node: this.node }, status);
    this.remember(key, text);
    this.conditions.set(key, conditions);
    const before = prev.find((c) => c.type === 'Ready');
    if (before?.status !== ready.status || before?.reason !== ready.reason) this.announce({ kind, name: obj.metadata.name, uid: obj.metadata.uid }, fields, ready, before?.status === 'True');
  }

  /**
   * Whether this node has a report on this object (by uid) in etcd: one this process wrote, or
   * one its view of its own status keys holds (written before a restart). A HostSubnet's counts
   * only with the mark that makes the controller keep the block (an older agent's has none).
   */
  hasReport(kind: Kind, obj: { metadata: { name: string; uid?: string } }): boolean {
    if (this.last.has(`${kind}/${obj.metadata.name}/${obj.metadata.uid ?? ''}`)) return true;
    const stored = this.stored?.(kind, obj.metadata.name);
    if (stored === undefined) return false;
    let report: unknown;
    try { report = JSON.parse(stored); } catch { return false; }
    if (kind === 'HostSubnet') return reportKeepsFor(report) === obj.metadata.uid;
    return (report as { objectUid?: unknown } | null)?.objectUid === obj.metadata.uid;
  }

  private remember(key: string, text: string): void {
    const prev = this.last.get(key);
    if (prev !== undefined) this.before.set(key, prev);
    this.last.set(key, text);
    this.lastKeyOf.set(key.slice(0, key.lastIndexOf('/') + 1), key);
  }

  /**
   * This node's status key of an object changed in etcd. Our own writes come back equal to what
   * was written (the last one, or the one before when they were close); anything else (deleted by hand, an etcd restored from an older backup) makes
   * this forget its write, so that the next write() puts the report back. True when so.
   */
  forgetIfChanged(kind: Kind, name: string, value: string | undefined): boolean {
    const key = this.lastKeyOf.get(`${kind}/${name}/`);
    if (key === undefined || this.last.get(key) === value || (value !== undefined && this.before.get(key) === value)) return false;
    this.last.delete(key);
    this.before.delete(key);
    this.lastKeyOf.delete(`${kind}/${name}/`);
    return true;
  }

  /** An event when Ready changes: attached/ready, or the reason it is not. */
  private announce(obj: { kind: Kind; name: string; uid?: string }, fields: Record<string, unknown>, ready: Ready, wasReady: boolean): void {
    if (!this.events || ready.status === 'Unknown') return;
    const kind = obj.kind;
    // waiting is Normal only on the way in: an object that was Ready and lost its part (an address the controller released) is a Warning
    if (ready.status === 'False') {
      const facts = this.facts(obj, ready.reason, wasReady);
      void this.events.record(obj, notReadyEventType(facts), ready.reason, ready.message);
      if (mayTurnWarning(facts)) this.warnIfPersists(obj);
      return;
    }
    if (kind === 'ContainerNic') void this.events.record(obj, 'Normal', 'Attached', `attached on node ${this.node}${fields.ip ? ` with ${String(fields.ip)}` : ''}${fields.hostInterface ? ` (host side ${String(fields.hostInterface)})` : ''}`);
    else void this.events.record(obj, 'Normal', 'Ready', `ready on node ${this.node}: ${ready.message}`);
  }

  /**
   * At the end of the object's grace (settling.ts), one Warning for its not-Ready condition if it
   * still holds then: a young one was told as Normal, and nothing else is told while it persists.
   */
  private warnIfPersists(obj: { kind: Kind; name: string; uid?: string }): void {
    if (!this.events) return;
    const key = `${obj.kind}/${obj.name}/${obj.uid ?? ''}`;
    this.settling.lookAtEnd(`${obj.kind}/${obj.name}/`, obj.uid ?? '', () => {
      const now = this.conditions.get(key)?.find((c) => c.type === 'Ready');
      // a reason that is no settling one was told as a Warning when it came
      const reason = now?.status === 'False' ? now.reason ?? '' : '';
      if ((SETTLING_REASONS.has(reason) || reason === STALE_ALLOCATION) && notReadyEventType(this.facts(obj, reason, false)) === 'Warning') {
        void this.events?.record(obj, 'Warning', reason, now?.message ?? '');
      }
    });
  }

  /** settling.ts's facts of a not-Ready condition of the object; wasReady: its Ready before, if True. */
  private facts(obj: { kind: Kind; name: string; uid?: string }, reason: string, wasReady: boolean): NotReadyFacts {
    // a dependent the controller removes after its owner's delete is told as one settling
    const ever = !isCascade(obj.kind, reason) && (wasReady || this.readyOnce.has(`${obj.kind}/${obj.name}/${obj.uid ?? ''}`));
    return this.settling.facts(`${obj.kind}/${obj.name}/`, obj.uid ?? '', reason, ever);
  }

  /** Ends the pending looks at young conditions (the agent stops). */
  close(): void {
    this.settling.close();
  }

  /**
   * Rewrites the status last written for the object with some fields replaced (the IPAM
   * report after each Docker request); false when nothing was written for it yet.
   */
  async patch(kind: Kind, obj: { metadata: { name: string; uid?: string } }, fields: Record<string, unknown>): Promise<boolean> {
    const key = `${kind}/${obj.metadata.name}/${obj.metadata.uid ?? ''}`;
    const last = this.last.get(key);
    if (!last) return false;
    const status = { ...(JSON.parse(last) as Record<string, unknown>), ...fields };
    const text = JSON.stringify(status);
    if (text === last) return true;
    this.gate?.check(kind, obj.metadata.name);
    this.keepFound(kind, obj.metadata.name);
    await this.store.writeStatus(kind, obj.metadata.name, { node: this.node }, status);
    this.remember(key, text);
    return true;
  }

  /**
   * What this node last reported for the object: written by this process, else as etcd holds
   * it (after a restart); undefined when neither.
   */
  lastReported(kind: Kind, obj: { metadata: { name: string; uid?: string } }): Record<string, unknown> | undefined {
    const text = this.last.get(`${kind}/${obj.metadata.name}/${obj.metadata.uid ?? ''}`) ?? this.stored?.(kind, obj.metadata.name);
    try {
      const v: unknown = text === undefined ? undefined : JSON.parse(text);
      return v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The Ready status this node last reported for the object: written by this process, else as
   * the object's merged view holds it (after a restart).
   */
  readyStatus(kind: Kind, obj: { metadata: { name: string; uid?: string }; status?: unknown }): Ready['status'] | undefined {
    const conds = this.conditions.get(`${kind}/${obj.metadata.name}/${obj.metadata.uid ?? ''}`) ?? (obj.status as { conditions?: Condition[] } | undefined)?.conditions;
    return conds?.find((c) => c.type === 'Ready')?.status as Ready['status'] | undefined;
  }

  private keepFound(kind: Kind, name: string): void {
    const k = `${kind}/${name}`;
    if (!this.found.has(k)) this.found.set(k, this.stored?.(kind, name));
  }

  /**
   * The report on the object (by uid) that this node's previous agent left: as etcd held it
   * before this process first wrote or removed it (restart-evidence.ts). Undefined when there
   * was none, or it is about another object of that name.
   */
  previousRun(kind: Kind, obj: { metadata: { name: string; uid?: string } }): Record<string, unknown> | undefined {
    const k = `${kind}/${obj.metadata.name}`;
    const text = this.found.has(k) ? this.found.get(k) : this.stored?.(kind, obj.metadata.name);
    let v: unknown;
    try { v = text === undefined ? undefined : JSON.parse(text); } catch { return undefined; }
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    return (v as { objectUid?: unknown }).objectUid === obj.metadata.uid ? v as Record<string, unknown> : undefined;
  }

  /**
   * Whether this process has reported the object Ready True (also when etcd held that report
   * already): a NIC that never was in place is being attached, not healed (heal.ts).
   */
  wasReady(kind: Kind, obj: { metadata: { name: string; uid?: string } }): boolean {
    return this.readyOnce.has(`${kind}/${obj.metadata.name}/${obj.metadata.uid ?? ''}`);
  }

  /**
   * Whether this node's status key of the object exists: written by this process, else as
   * etcd holds it now (after a restart). The controller keeps a deleted NIC's address while it does.
   */
  async reported(kind: Kind, obj: { metadata: { name: string; uid?: string } }): Promise<boolean> {
    if (this.last.has(`${kind}/${obj.metadata.name}/${obj.metadata.uid ?? ''}`)) return true;
    return this.store.hasStatus(kind, obj.metadata.name, { node: this.node });
  }

  async remove(kind: Kind, name: string): Promise<void> {
    await this.store.deleteStatus(kind, name, { node: this.node });
    // no report is left from before: deleted names do not pile up
    this.found.delete(`${kind}/${name}`);
    for (const m of [this.last, this.conditions, this.before]) for (const k of [...m.keys()]) if (k.startsWith(`${kind}/${name}/`)) m.delete(k);
    for (const k of [...this.readyOnce]) if (k.startsWith(`${kind}/${name}/`)) this.readyOnce.delete(k);
    this.settling.forget(`${kind}/${name}/`);
    this.lastKeyOf.delete(`${kind}/${name}/`);
  }
}

/** dockerIPAM xnet on this node: the plugin's name (its socket in Docker's plugin directory) and address book */
export interface AgentIpam {
  plugin: string;
  /** absent when only verifying (xctl verify): the network's IPAM driver matters, no claim is made */
  book?: AddressBook;
}

export interface AgentContext {
  node: string;
  /** set when this agent serves Docker's IPAM plugin */
  ipam?: AgentIpam;
  store: Store;
  caches: Caches;
  dp: AgentDataplane;
  log: Logger;
  status: NodeStatusReporter;
  /** filled at start-up by capability probes */
  capabilities: Record<string, boolean>;
  /**
   * problems of peer routes, shown on the Node's RoutesReady condition: the first one's reason
   * (refusals first, then conflicts, then failures), every message
   */
  routeProblems: Problem[];
  /** which peers changed since the last routes pass; without it every pass looks at every peer */
  routesDirty?: RoutesDirty;
  /** whether the running containers were looked through for links of NICs gone (reconcilers/nic-leftovers.ts) */
  containersSwept?: boolean;
  /** last known shape of deleted ContainerNics, until their NIC is gone */
  removedNics: Map<string, RemovedNic & { container?: string }>;
  /**
   * ifindex of each veth NIC's host end as last put in place -> the NIC: a host end renamed by
   * hand is reported under its new name, which names no NIC (events.ts)
   */
  hostEnds?: HostEnds;
  /** macvlan NICs working on the kernel's MAC while their declared one is held elsewhere */
  macWaits: MacWaits;
  /** what xnet changed on parent interfaces, to undo when no MacvlanNet needs them; absent: nothing is recorded or undone */
  parents?: ParentRecord;
  /** the peer routes this node's last routes pass left in place, this boot (routes-record.ts); absent: a route put back at start-up is not told as a heal */
  routesRecord?: RoutesRecord;
  /** the Docker networks this node made for its HostSubnets and MacvlanNets (network-record.ts); absent: none is known, so no leftover of a gone one is removed */
  networks?: NetworkEvidence;
  /** looks at these work-queue keys again (a bridge just marked: its HostSubnet's NICs) */
  enqueue?(keys: string[]): void;
  /**
   * xnet is about to change (or just changed) Docker's networks: the iptables rules Docker
   * rewrites for them come from xnet's own act, so the NAT pass that follows is not a heal (heal.ts)
   */
  ownNatChange?(): void;
  /** whether NAT passes now follow up on such an act (within a moment of it) */
  followingOwnNatChange?(): boolean;
  /**
   * a NIC is in place in the container whose namespace `ns` holds: watch that namespace for
   * drift (through a handle of the watcher's own: `ns` is closed when the reconcile ends)
   */
  watchContainer(ns: PinnedNetns, nic: string): Promise<void>;
  /**
   * Stop watching for the NIC in any container namespace but keepPid's (the running
   * container's); resolves once a watcher that held a dead container's namespace has exited.
   */
  unwatchNic(nic: string, keepPid?: number): Promise<void>;
  /** names of objects of `kind` whose key in the node's view does not decode (NodeWatch.unreadable) */
  unreadable?(kind: Kind): string[];
  /** names of objects of `kind` this node has a report of (NodeWatch.ownReports) */
  ownReports?(kind: Kind): string[];
}

/**
 * Objects of `kind` whose key is in etcd but does not decode (docs/security.md, "Unreadable is
 * not absent"). While the agent runs the caches keep their last good value; an agent that
 * started after the key went bad has none, and must not take that for a delete: nothing of
 * theirs (a NIC in its container, a network, a shim, a parent, a route) is removed.
 */
export function unreadable(ctx: Pick<AgentContext, 'unreadable'>, kind: Kind): Set<string> {
  return new Set(ctx.unreadable?.(kind) ?? []);
}

export const ready = (message = 'converged'): Ready => ({ status: 'True', reason: 'Converged', message });
export const notReady = (reason: string, message: string): Ready => ({ status: 'False', reason, message });
