// The Ready a user sees of a ContainerNic (the merged view, store/merge.ts: the node's report
// over the controller's own WaitingForAgent), which the controller sets its own Ready over when
// that one is about to be shown instead: at a delete (Terminating, nic-finalizer.ts) and when it
// stops allocating (failNic in nics.ts: InvalidSpec, PoolExhausted...). So that Ready's
// lastTransitionTime moves when the NIC users saw Ready True turns False, and stays when it was
// False already: the controller's own Ready has been False (WaitingForAgent) since the NIC was
// made, and set over it alone the time would say "False for as long as the NIC exists".
import { getCondition, type ContainerNic, type Status } from '../api/index.js';
import type { Condition } from '../api/fields.js';
import type { Entry } from './model.js';
import type { Ctx } from './context.js';
import { mergeStatus } from '../store/merge.js';

/**
 * The conditions of `prev` (the controller's status of the NIC) with its Ready replaced by the
 * Ready the merged view shows now: the whole status, as its `ip` decides whether the node's
 * report is about the NIC's address (store/stale-report.ts).
 */
export function readyAsShown(ctx: Ctx, e: Entry<ContainerNic>, prev: Status | undefined): Condition[] | undefined {
  const own = prev?.conditions;
  const report = ctx.model.nodeStatus(e.obj.spec.node, 'ContainerNic', e.obj.metadata.name);
  const uid = report?.objectUid;
  const ofThis = typeof uid === 'string' && uid !== e.obj.metadata.uid ? undefined : report;
  const shown = getCondition(mergeStatus({ ...prev, conditions: own }, ofThis, false, 'ContainerNic')?.conditions, 'Ready');
  if (!shown) return own;
  return own?.some((c) => c.type === 'Ready') ? own.map((c) => (c.type === 'Ready' ? shown : c)) : [...(own ?? []), shown];
}
