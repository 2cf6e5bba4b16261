// When a ContainerNic's address that is no longer its address (its pin edited, its network or
// range changed, or it moved to another node) may go: the one rule that the controller
// (controller/nic-old-address.ts) and `xctl ipam check` (ipam/check.ts) share. Its claim names the
// node it was bound to (`node`); that node's agent may still have the NIC in its container with
// that address (a down or partitioned agent is a common reason for the edit). The claim is kept,
// as a deleting NIC's is (controller/nic-finalizer.ts), while that node's report of the NIC says
// that address (`observedIp`: the controller's ip the agent acted on), or does not say which (an
// older agent's, or one from before the agent acted), or does not decode (unreadable is not
// absent), and the Node is there or does not decode (a deleted Node keeps nothing).

/**
 * Whether a node's report of a ContainerNic keeps `ip`: `report` is the decoded report,
 * 'unreadable' for one that does not decode, undefined for none.
 */
export function nicReportKeeps(report: object | 'unreadable' | undefined, ip: string | undefined): boolean {
  if (report === 'unreadable') return true;
  if (report === undefined || ip === undefined) return false;
  const observed = (report as { observedIp?: unknown }).observedIp;
  return observed === undefined || observed === ip;
}
