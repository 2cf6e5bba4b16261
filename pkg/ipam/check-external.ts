// `xctl ipam check` of a MacvlanNet's `external` marks against its status. status.external lists
// the lowest MAX_STATUS_EXTERNAL marks only (controller/macvlan-status.ts), and
// status.externalCount how many there are in all when that is more: a mark above the last one
// listed is announced by the count, which must be the number of marks claimed.
import type { Status } from '../api/index.js';
import { parseIPv4 } from '../ip/ipv4.js';

interface Listed { ips: Set<string>; last?: number; capped: boolean }
const seen = new WeakMap<Status, Listed>();

function listedIn(st: Status): Listed {
  let l = seen.get(st);
  if (l) return l;
  const ips = Array.isArray(st.external) ? (st.external as unknown[]).filter((x): x is string => typeof x === 'string') : [];
  const count = st.externalCount;
  l = { ips: new Set(ips), last: ips.length ? ipNum(ips[ips.length - 1]) : undefined, capped: typeof count === 'number' && count > ips.length };
  seen.set(st, l);
  return l;
}

function ipNum(s: string): number | undefined {
  try { return parseIPv4(s); } catch { return undefined; }
}

/** Whether the MacvlanNet's status `st` announces the external mark of `ip`: listed, or above the last listed while more are counted. */
export function externalAnnounced(st: Status | undefined, ip: string): boolean {
  if (!st) return false;
  const l = listedIn(st);
  if (l.ips.has(ip)) return true;
  const n = ipNum(ip);
  return l.capped && l.last !== undefined && n !== undefined && n > l.last;
}

/**
 * A MacvlanNet whose status.externalCount is not the number of its external marks (`marks`, by
 * name, claims of the MacvlanNet of the same uid): more counted than claimed are unclaimed, fewer
 * leave marks nobody announces, leaks.
 */
export function externalCountProblems(statuses: Map<string, Status>, marks: Map<string, number>): { leaks: string[]; unclaimed: string[] } {
  const leaks: string[] = [];
  const unclaimed: string[] = [];
  for (const [id, st] of statuses) {
    if (!id.startsWith('MacvlanNet/') || typeof st.externalCount !== 'number') continue;
    const name = id.slice('MacvlanNet/'.length);
    const claimed = marks.get(name) ?? 0;
    const line = `MacvlanNet "${name}" counts ${st.externalCount} external marks (status.externalCount) but ${claimed} are claimed`;
    if (st.externalCount > claimed) unclaimed.push(line);
    else if (st.externalCount < claimed) leaks.push(line);
  }
  return { leaks, unclaimed };
}
