// A ContainerNic whose spec.node names no Node (a typo: host1 for host-1) waits for ever, and
// until now only its status said why: `xctl get events`, where a kubectl user looks first (as
// for a pod's FailedScheduling), showed nothing. A Node normally comes when its agent joins, and
// manifests are often applied before the agents start, so a NIC whose Node is missing for a
// moment is no news: the Warning `NodeNotFound` is recorded once the controller has seen the
// Node missing for the grace (the agents' settling grace, 15 s), once per NIC incarnation and
// node name. A leader that takes over counts its own grace.
import type { EventRecorder } from '../events/recorder.js';
import type { ContainerNic } from '../api/index.js';
import { DEFAULT_SETTLE_GRACE_MS } from '../events/types.js';
import { monotonicMs } from '../runtime/clock.js';
import { missingNodeNote } from './node-missing.js';
import type { Model } from './model.js';

/** NICs remembered at most; past it the oldest entry goes (its NIC, if still waiting, counts its grace again). */
const MAX_REMEMBERED = 10_000;

interface Missing { node: string; since: number; warned: boolean }

export class NodeNotFoundWarnings {
  private readonly missing = new Map<string, Missing>();

  constructor(private readonly events: EventRecorder, private readonly graceMs = DEFAULT_SETTLE_GRACE_MS, private readonly now: () => number = monotonicMs) {}

  /**
   * Looks at the NIC as it is now: records the Warning when its Node has been missing for the
   * grace; returns in how many ms to look again while the grace runs, undefined otherwise.
   */
  check(model: Pick<Model, 'node' | 'cache' | 'keys' | 'closestNode'>, nic: ContainerNic): number | undefined {
    const uid = nic.metadata.uid ?? nic.metadata.name;
    const node = nic.spec.node;
    const note = nic.metadata.deletionTimestamp ? '' : missingNodeNote(model, node);
    if (!note) { this.missing.delete(uid); return undefined; }
    let m = this.missing.get(uid);
    if (!m || m.node !== node) m = this.remember(uid, { node, since: this.now(), warned: false });
    if (m.warned) return undefined;
    const left = m.since + this.graceMs - this.now();
    if (left > 0) return left;
    m.warned = true;
    const message = `${note.replace(/^; /, '')} (waiting ${Math.round(this.graceMs / 1000)} s for it: a Node is made when its node's agent joins)`;
    void this.events.record({ kind: 'ContainerNic', name: nic.metadata.name, uid: nic.metadata.uid }, 'Warning', 'NodeNotFound', message);
    return undefined;
  }

  private remember(uid: string, m: Missing): Missing {
    this.missing.delete(uid);
    if (this.missing.size >= MAX_REMEMBERED) this.missing.delete(this.missing.keys().next().value!);
    this.missing.set(uid, m);
    return m;
  }
}
