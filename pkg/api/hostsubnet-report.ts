// What a node's report on a HostSubnet keeps once that HostSubnet is gone: the one rule that the
// controller (controller/hostsubnet-leaving.ts) and `xctl ipam check` (ipam/check-leaving.ts)
// share. An agent that keeps its report until xnet's Docker network of the HostSubnet is off
// the host, and then removes it (agent/reconcilers/host-subnet-reports.ts), marks every report
// it writes on a HostSubnet (`keptUntilNetworkGone: true`). Only such a report keeps the block:
// an agent before the mark never removes its report (the controller's delete did), so in a
// rolling upgrade an unmarked one would keep the block until that agent is upgraded or its
// Node deleted. The mark is no field a node may report (api/authority.ts): the merged view
// never shows it, like objectUid.

import { cidrsOverlap, parseCidr } from '../ip/ipv4.js';

/** The mark, as the agent writes it into each of its reports on a HostSubnet. */
export const HOSTSUBNET_REPORT_MARK = { keptUntilNetworkGone: true } as const;

/** The report keeps the block of whichever incarnation it is about: it does not say which, or does not decode. */
export const ANY_INCARNATION = Symbol('any incarnation');

/**
 * The incarnation (uid) of the gone HostSubnet whose block a node's report keeps: a uid,
 * ANY_INCARNATION, or undefined: none. `report` is the stored value as parsed (untrusted),
 * 'unreadable' for one that does not decode (it keeps: unreadable is not absent), undefined
 * for none. An objectUid that is not a string does not decode either.
 */
export function reportKeepsFor(report: unknown): string | typeof ANY_INCARNATION | undefined {
  if (report === 'unreadable') return ANY_INCARNATION;
  if (!report || typeof report !== 'object' || Array.isArray(report)) return undefined;
  const r = report as { keptUntilNetworkGone?: unknown; objectUid?: unknown };
  if (r.keptUntilNetworkGone !== true) return undefined;
  return typeof r.objectUid === 'string' ? r.objectUid : ANY_INCARNATION;
}

/**
 * Whether a node's report on its live HostSubnet says the HostSubnet's Docker network is now on
 * a subnet that does not overlap `cidr` (a block the HostSubnet held before its subnet was
 * edited): the agent writes `networkSubnet`, the subnet of the network it has in place as
 * declared (agent/reconcilers/host-subnet-network.ts), only when it is. A report without it
 * (its network not in place: NetworkInUse while containers are attached; an agent before the
 * field), one that does not decode, or a value that is no CIDR says nothing: the block stays.
 */
export function reportNetworkElsewhere(report: unknown, cidr: string | undefined): boolean {
  if (!report || typeof report !== 'object' || Array.isArray(report) || cidr === undefined) return false;
  const on = (report as { networkSubnet?: unknown }).networkSubnet;
  if (typeof on !== 'string') return false;
  try {
    return !cidrsOverlap(parseCidr(on), parseCidr(cidr));
  } catch {
    return false;
  }
}
