// The merged status view (docs/design.md): controller's status, then the bound node's on top,
// limited to what that node may report (../api/authority.ts).
import type { Condition } from '../api/fields.js';
import { nodeReportable } from '../api/authority.js';
import { TERMINATING, WAITING_FOR_CONTROLLER } from '../api/conditions.js';
import type { AnyObject, Kind, Status } from '../api/index.js';
import { staleAddressReport, withStaleNote } from './stale-report.js';

/** The node whose agent reports on this object, if any. */
export function boundNode(obj: { kind: Kind; metadata: { name: string }; spec?: unknown }): string | undefined {
  if (obj.kind === 'Node') return obj.metadata.name;
  if (obj.kind === 'HostSubnet' || obj.kind === 'ContainerNic') return (obj.spec as { node: string }).node;
  return undefined;
}

/**
 * `deleting`: the object is being deleted. Then a controller condition of reason `Terminating`
 * (what the delete waits on) stays over the node's of the same type: the node's may be its
 * report from before the delete, its agent down, while the controller knows why it waits.
 * Likewise the controller's `Ready` stays over a node's that only waits for the controller
 * (`NoAddress`, `NotAllocated`, `StaleAllocation`) while the controller's `Allocated` is False:
 * it says why. And, for a ContainerNic (`kind`), over a node's Ready True (or Unknown) about an
 * address the NIC no longer has (stale-report.ts), its message saying so.
 */
export function mergeStatus(controller: Status | undefined, node: Status | undefined, deleting = false, kind?: Kind): Status | undefined {
  if (!controller && !node) return undefined;
  const out: Status = { ...(controller ?? {}), ...(node ?? {}) };
  const conds = new Map<string, Condition>();
  for (const c of controller?.conditions ?? []) conds.set(c.type, c);
  for (const c of node?.conditions ?? []) {
    if (!shownOver(controller, node, c, deleting, kind)) conds.set(c.type, c);
    else if (kind === 'ContainerNic' && staleAddressReport(controller, node, c)) conds.set(c.type, withStaleNote(conds.get(c.type)!, controller, node, c));
  }
  if (conds.size) out.conditions = [...conds.values()];
  return out;
}

/** Whether the controller's condition of this node condition's type is shown over it (mergeStatus). */
const shownOver = (controller: Status | undefined, node: Status | undefined, c: Condition, deleting: boolean, kind: Kind | undefined) =>
  (deleting && controller?.conditions?.some((o) => o.type === c.type && o.reason === TERMINATING) === true)
  || waitsOnRefusal(controller, c)
  || (kind === 'ContainerNic' && staleAddressReport(controller, node, c));

/** A node's Ready that waits for the controller, which has not allocated and says why in its own Ready. */
function waitsOnRefusal(controller: Status | undefined, c: Condition): boolean {
  if (c.type !== 'Ready' || c.status !== 'False' || !WAITING_FOR_CONTROLLER.has(c.reason ?? '')) return false;
  const conds = controller?.conditions ?? [];
  const allocated = conds.find((o) => o.type === 'Allocated');
  return allocated?.status === 'False' && conds.some((o) => o.type === 'Ready' && o.status === 'False');
}

/**
 * The node's status unless it says it is about another object of the same name (objectUid,
 * written by agents: NodeStatusReporter): one deleted and made again keeps no report of the
 * one before, whose node status a delete removes only after the object (status-cleanup.ts).
 */
function ofThisObject(obj: AnyObject, st: Status | undefined): Status | undefined {
  const uid = st?.objectUid;
  return typeof uid === 'string' && obj.metadata.uid && uid !== obj.metadata.uid ? undefined : st;
}

/** The bound node's status of the object, limited to what that node may report. */
function boundNodeStatus(obj: AnyObject, nodeStatuses: Map<string, Status>): Status | undefined {
  const node = boundNode(obj);
  return node ? nodeReportable(obj.kind, ofThisObject(obj, nodeStatuses.get(node))) : undefined;
}

export function withStatus<T extends AnyObject>(obj: T, controller: Status | undefined, nodeStatuses: Map<string, Status>): T {
  const status = mergeStatus(controller, boundNodeStatus(obj, nodeStatuses), !!obj.metadata.deletionTimestamp, obj.kind);
  const out = { ...obj } as T;
  if (status) (out as { status?: unknown }).status = status;
  else delete (out as { status?: unknown }).status;
  return out;
}

/** A node's own conditions of an object that the merged view does not show (see NodeConditions). */
export interface NodeConditions { node: string; conditions: Condition[] }

/**
 * The bound node's conditions that the merged view shows the controller's over (mergeStatus:
 * `Terminating` on a deleting object, a refusal, a report about an address the NIC no longer
 * has), for `xctl describe` to show beside it: what the node last said (its last report, maybe
 * from before the delete, or from before its agent stopped). Undefined when none is hidden.
 */
export function hiddenNodeConditions(obj: AnyObject, controller: Status | undefined, nodeStatuses: Map<string, Status>): NodeConditions | undefined {
  const node = boundNode(obj);
  const deleting = !!obj.metadata.deletionTimestamp;
  const report = boundNodeStatus(obj, nodeStatuses);
  const hidden = (report?.conditions ?? []).filter((c) => shownOver(controller, report, c, deleting, obj.kind));
  return node && hidden.length ? { node, conditions: hidden } : undefined;
}
