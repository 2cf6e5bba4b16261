// A node's report that a ContainerNic is in its container (Ready True, or Unknown `Attaching`)
// is about one address: the one the controller had given the NIC when its agent acted. Once the
// controller releases that address (`Allocated` False, saying why, and no `status.ip`: e.g.
// `WaitingForHostSubnet` after the NIC's Node was deleted) or gives the NIC another (the
// report's `observedIp` is not `status.ip`: its MacvlanNet's range edited), the report speaks of
// an address the NIC does not have. A running agent reports again at once (it takes the
// interface out, or gives it the new address); one that is down, or whose node is gone, never
// does. The merged view (merge.ts) then shows the controller's Ready, which says why, with a
// note naming the report it hides: `xctl get`, `describe` and `wait` never show such a NIC
// Ready, and `xctl describe` shows the node's report in a row of its own.
import type { Condition } from '../api/fields.js';
import type { Status } from '../api/index.js';

/** The address a node's report of a ContainerNic is about (the agent's `observedIp`), if it names one. */
const observedIp = (node: Status | undefined): string | undefined => (typeof node?.observedIp === 'string' ? node.observedIp : undefined);

/**
 * Whether `c`, the bound node's condition of a ContainerNic, is a Ready that is not False and is
 * about an address the NIC no longer has, while the controller has a Ready of its own that is not
 * True to show instead (it always has one once it has looked at the NIC).
 */
export function staleAddressReport(controller: Status | undefined, node: Status | undefined, c: Condition): boolean {
  if (c.type !== 'Ready' || c.status === 'False') return false;
  if (!controller?.conditions?.some((o) => o.type === 'Ready' && o.status !== 'True')) return false;
  if (released(controller)) return true;
  const seen = observedIp(node);
  return seen !== undefined && typeof controller.ip === 'string' && seen !== controller.ip;
}

/** The controller gives the NIC no address: its Allocated is False (it says why; its status has no ip then). */
const released = (controller: Status) => controller.conditions?.some((o) => o.type === 'Allocated' && o.status === 'False') === true;

/**
 * The controller's Ready `shown`, its message ending with the node's report `c` that it hides and
 * why: `...; the node's last report, Ready True Converged ("eth1 is in container web with
 * 10.80.0.4/24"), is about an address the controller has released`.
 */
export function withStaleNote(shown: Condition, controller: Status | undefined, node: Status | undefined, c: Condition): Condition {
  const why = controller && released(controller) ? 'is about an address the controller has released'
    : `is about ${observedIp(node)}, not the NIC's address ${String(controller?.ip)}`;
  const report = `the node's last report, Ready ${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? ` ("${c.message}")` : ''}`;
  return { ...shown, message: `${shown.message ? `${shown.message}; ` : ''}${report}, ${why}` };
}
