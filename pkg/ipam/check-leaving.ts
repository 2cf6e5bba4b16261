// `xctl ipam check` and the blocks of HostSubnets that are gone but whose Docker network is
// still on their node's host (containers attached): the controller keeps such a block claimed
// while the node's report on the HostSubnet is there (controller/hostsubnet-leaving.ts). The
// report announces the claim: not a leak, and still a holder of its block (duplicates). The
// same rule (api/hostsubnet-report.ts): the report is the one of the node the claim names, it
// is marked by an agent that removes it itself and is about that HostSubnet (objectUid, or it
// does not say), or does not decode, and its Node is there or does not decode (a deleted Node
// keeps nothing).
import { ANY_INCARNATION, reportKeepsFor, reportNetworkElsewhere } from '../api/hostsubnet-report.js';
import { decodeStatus, UndecodableError } from '../store/decode.js';

/** A node's report on a HostSubnet, as far as the audit needs it: the incarnation it keeps (reportKeepsFor). */
/** `report`: as decoded (undefined when it does not decode), for what its network is on now (reportNetworkElsewhere). */
export interface HsReport { node: string; keeps: ReturnType<typeof reportKeepsFor>; report?: unknown }

/**
 * The report read from its stored value (untrusted): one that does not decode as a HostSubnet
 * status (not JSON, not an object, a field of the wrong type) is unreadable, as the controller's
 * cache refuses it (controller/admit.ts), and keeps the block whatever it says.
 */
export function readHsReport(node: string, value: string): HsReport {
  try {
    const report = decodeStatus('HostSubnet', `report of node ${node}`, value);
    return { node, keeps: reportKeepsFor(report), report };
  } catch (e) {
    if (!(e instanceof UndecodableError)) throw e;
    return { node, keeps: reportKeepsFor('unreadable') };
  }
}

/**
 * Whether the report of `node` (the node the claim names: no other node's counts) keeps the
 * claims of the gone HostSubnet incarnation `uid`.
 */
export function keptByNode(reports: HsReport[] | undefined, node: string | undefined, uid: string, nodeHolds: (node: string) => boolean): boolean {
  if (!node || !nodeHolds(node)) return false;
  const k = reports?.find((x) => x.node === node)?.keeps;
  return k === ANY_INCARNATION || k === uid;
}

/**
 * Whether the report of `node` (the live HostSubnet's own node, which the claim names) keeps a
 * block of incarnation `uid` that its subnet no longer covers after an edit: as a delete would
 * keep it, while the report does not say its network is on a subnet clear of it now
 * (controller/hostsubnet-leaving.ts editKeeps).
 */
export function keptAfterEdit(reports: HsReport[] | undefined, node: string | undefined, uid: string, cidr: string | undefined, nodeHolds: (node: string) => boolean): boolean {
  if (!keptByNode(reports, node, uid, nodeHolds)) return false;
  return !reportNetworkElsewhere(reports?.find((x) => x.node === node)?.report, cidr);
}
