// References that a first apply may pass through unresolved, told as the agents tell their
// order-dependent reasons (agent/settling.ts): no Warning for what is normal for a moment, one
// Warning when it persists past the grace (the agents' settling grace, 15 s). Per term: a new
// leader counts its own grace.
//
// - A ContainerNic whose spec.node names no Node (a typo: host1 for host-1) waits for ever, and
//   only its status said why; `xctl get events`, where a kubectl user looks first (as for a pod's
//   FailedScheduling), showed nothing. A Node normally comes when its agent joins, and manifests
//   are often applied before the agents start: the Warning `NodeNotFound` comes once the Node has
//   been missing for the grace, once per NIC incarnation and node name.
// - A ContainerNic or HostSubnet whose network is not there (a ClusterNetwork in a later apply)
//   is refused `InvalidSpec`; that event is Normal while the refusal is young and a Warning once
//   it persists, instead of a Warning at once.
import type { EventRecorder } from '../events/recorder.js';
import type { ContainerNic, HostSubnet } from '../api/index.js';
import { DEFAULT_SETTLE_GRACE_MS, type EventType } from '../events/types.js';
import { monotonicMs } from '../runtime/clock.js';
import { missingNodeNote } from './node-missing.js';
import type { Model } from './model.js';

/** entries remembered at most; past it the oldest goes (its object, if still waiting, counts its grace again) */
const MAX_REMEMBERED = 10_000;

interface Seen { since: number; warned: boolean }

/** What a reconcile does about a reference still missing: the event's type, and when to look again. */
export interface LateVerdict { type: EventType; againMs?: number }

const WARNING: LateVerdict = { type: 'Warning' };

/**
 * How long past the grace's end the object is looked at again: the queue's delay may fire a
 * moment early, and a look just before the end would tell the young event once more (a Normal
 * counted twice beside the Warning, in the same instant).
 */
const PAST_THE_END_MS = 50;

export class LateWarnings {
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly events: EventRecorder, private readonly graceMs = DEFAULT_SETTLE_GRACE_MS, private readonly now: () => number = monotonicMs) {}

  /**
   * The NIC's Node: records NodeNotFound once it has been missing for the grace; returns in how
   * many ms to look again while the grace runs, undefined otherwise.
   */
  nodeNotFound(model: Pick<Model, 'node' | 'cache' | 'keys' | 'closestNode'>, nic: ContainerNic): number | undefined {
    const note = nic.metadata.deletionTimestamp ? '' : missingNodeNote(model, nic.spec.node);
    // every NIC's reconcile passes here: nothing built for it while nothing is remembered
    if (!note && !this.seen.size) return undefined;
    const key = `node\0${nic.metadata.uid ?? nic.metadata.name}\0${nic.spec.node}`;
    if (!note) { this.seen.delete(key); return undefined; }
    const s = this.observe(key);
    if (s.warned) return undefined;
    const left = s.since + this.graceMs - this.now();
    if (left > 0) return left + PAST_THE_END_MS;
    s.warned = true;
    const message = `${note.replace(/^; /, '')} (missing for ${Math.round(this.graceMs / 1000)} s: a Node is made when its node's agent joins)`;
    void this.events.record({ kind: 'ContainerNic', name: nic.metadata.name, uid: nic.metadata.uid }, 'Warning', 'NodeNotFound', message);
    return undefined;
  }

  /**
   * The type of the event of a NIC or HostSubnet refused: Normal while it is refused because its
   * network is not there yet (`missingNetwork`: as the round that refused it saw it, not the
   * cache after the commit, where the network may have just arrived) and that is young (then
   * looked at again when the grace ends), else Warning.
   */
  refusal(obj: ContainerNic | HostSubnet, missingNetwork: boolean): LateVerdict {
    if (!missingNetwork && !this.seen.size) return WARNING;
    const key = `network\0${obj.kind}\0${obj.metadata.uid ?? obj.metadata.name}\0${networksOf(obj)}`;
    if (!missingNetwork) { this.seen.delete(key); return WARNING; }
    const left = this.observe(key).since + this.graceMs - this.now();
    return left > 0 ? { type: 'Normal', againMs: left + PAST_THE_END_MS } : WARNING;
  }

  private observe(key: string): Seen {
    let s = this.seen.get(key);
    if (s) return s;
    if (this.seen.size >= MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, (s = { since: this.now(), warned: false }));
    return s;
  }
}

/** The networks an object names: its grace is counted per name (a new name is a new wait). */
function networksOf(obj: ContainerNic | HostSubnet): string {
  if (obj.kind === 'HostSubnet') return obj.spec.clusterNetwork;
  const { clusterNetwork, macvlanNet } = obj.spec.network;
  return `${clusterNetwork ?? ''}\0${macvlanNet ?? ''}`;
}
