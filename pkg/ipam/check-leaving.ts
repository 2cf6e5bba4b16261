// `xctl ipam check` and the blocks of HostSubnets that are gone but whose Docker network is
// still on their node's host (containers attached): the controller keeps such a block claimed
// while the node's report on the HostSubnet is there (controller/hostsubnet-leaving.ts). The
// report announces the claim: not a leak, and still a holder of its block (duplicates). The
// same rule: the report is the one of the node the claim names, it is about that HostSubnet
// (objectUid, or it does not say) or does not decode, and its Node is there or does not decode
// (a deleted Node keeps nothing).

/** A node's report on a HostSubnet, as far as the audit needs it. */
export interface HsReport { node: string; uid?: string; unreadable: boolean }

/** The report read from its stored value (untrusted: one that is not a JSON object does not decode). */
export function readHsReport(node: string, value: string): HsReport {
  try {
    const v = JSON.parse(value) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return { node, unreadable: true };
    const uid = (v as { objectUid?: unknown }).objectUid;
    if (uid !== undefined && typeof uid !== 'string') return { node, unreadable: true };
    return { node, unreadable: false, ...(uid === undefined ? {} : { uid }) };
  } catch {
    return { node, unreadable: true };
  }
}

/**
 * Whether the report of `node` (the node the claim names: no other node's counts) keeps the
 * claims of the gone HostSubnet incarnation `uid`.
 */
export function keptByNode(reports: HsReport[] | undefined, node: string | undefined, uid: string, nodeHolds: (node: string) => boolean): boolean {
  if (!node || !nodeHolds(node)) return false;
  const r = reports?.find((x) => x.node === node);
  return !!r && (r.unreadable || r.uid === undefined || r.uid === uid);
}
