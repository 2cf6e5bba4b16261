// What the controller tells about each allocation it made or refused: a counter, the latency
// from the object's creation, and an event on the object (rate-limited by the recorder).
import type { Kind } from '../api/index.js';
import type { EventRecorder } from '../events/recorder.js';
import type { EventType } from '../events/types.js';
import { allocationLatency, allocations } from '../metrics/metrics.js';

/** uid: the incarnation of the object the allocation was planned for, whose event it is */
export interface AllocationOutcome { result: string; name?: string; uid?: string; ip?: string; reason?: string; message?: string }

/**
 * Counts an allocation made or refused (a made one also records creation-to-stored latency)
 * and tells the user with an event on the object: a refusal is a Warning unless `refusedAs`
 * says it is young (late-warnings.ts).
 */
export function recordAllocation(events: EventRecorder, kind: Kind, created: string | undefined, o: AllocationOutcome, refusedAs: EventType = 'Warning'): void {
  const result = o.result === 'created' ? 'allocated' : o.result;
  if (result !== 'allocated' && result !== 'failed') return;
  allocations.inc({ kind, result });
  if (o.name) {
    const obj = { kind, name: o.name, uid: o.uid };
    if (result === 'failed') void events.record(obj, refusedAs, o.reason ?? 'AllocationFailed', o.message ?? 'allocation failed');
    else void events.record(obj, 'Normal', 'Allocated', o.ip ? `address ${o.ip} allocated` : `${kind === 'HostSubnet' ? 'subnet' : 'address'} allocated`);
  }
  const t = created ? Date.parse(created) : NaN;
  if (result === 'allocated' && Number.isFinite(t)) allocationLatency.observe({ kind }, Math.max(0, (Date.now() - t) / 1000));
}
