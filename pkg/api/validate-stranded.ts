// A ClusterNetwork edit that strands the HostSubnets it already has: a cidr that no longer
// holds one (every agent then refuses it, hostSubnetFit: no bridge, no peer routes) or a
// reserved range laid over one (reserved is never handed out, hostSubnetReservedWhy). Refused
// at apply on the ClusterNetwork's field, naming the HostSubnets. Only what the edit breaks is
// refused: a HostSubnet that the stored spec already fails (written around xctl) does not
// block re-applying the ClusterNetwork.
import { hostSubnetFit, hostSubnetReservedWhy, type HostSubnetPool } from './rules.js';
import type { AnyObject, ClusterNetwork, HostSubnet } from './types.js';
import { firstFew } from '../first-few.js';

interface Entry { obj: AnyObject; batchIndex?: number }
interface StrandedIssue { index: number; path: (string | number)[]; message: string }

/** What the HostSubnet rules read of a ClusterNetwork. */
export const poolOf = (cn: ClusterNetwork): HostSubnetPool & { reserved?: string[] } =>
  ({ name: cn.metadata.name, cidr: cn.spec.cidr, hostPrefix: cn.spec.hostPrefix, reserved: cn.spec.reserved });

/** The subnet a HostSubnet holds and the field that says so: its pinned spec.subnet, else what the controller allocated. */
function heldSubnet(h: HostSubnet): { subnet: string; field: string; pinned: boolean } | undefined {
  if (h.spec.subnet) return { subnet: h.spec.subnet, field: 'spec.subnet', pinned: true };
  const allocated = h.status?.subnet;
  return typeof allocated === 'string' ? { subnet: allocated, field: 'status.subnet', pinned: false } : undefined;
}

/** A stored status is untrusted: a subnet that does not parse is not judged here (the agents skip it). */
function orUndefined<T>(f: () => T): T | undefined {
  try { return f(); } catch { return undefined; }
}

/** The field of `cn` (edited from `old`, if stored) that strands HostSubnet `h`, or undefined. */
function strandingField(cn: ClusterNetwork, old: ClusterNetwork | undefined, h: HostSubnet): { path: (string | number)[]; held: string } | undefined {
  const held = heldSubnet(h);
  if (!held) return undefined;
  const label = `"${h.metadata.name}" (${held.field} ${held.subnet})`;
  // Only a cidr that no longer covers the subnet is the cidr's doing: a subnet larger than an
  // edited hostPrefix is that field's change, refused on its own (set-once.ts).
  const outside = (c: ClusterNetwork) => orUndefined(() => hostSubnetFit(held.subnet, poolOf(c), held.pinned)?.reason === 'OutOfRange');
  if (outside(cn) && !(old && outside(old))) return { path: ['spec', 'cidr'], held: label };
  const onReserved = (c: ClusterNetwork) => orUndefined(() => hostSubnetReservedWhy(held.subnet, poolOf(c)));
  const hit = onReserved(cn);
  if (hit && !(old && onReserved(old))) return { path: ['spec', 'reserved', hit.index], held: label };
  return undefined;
}

const MAX_NAMED = 5;

function listed(held: string[]): string {
  return `HostSubnet${held.length > 1 ? 's' : ''} ${firstFew(held, MAX_NAMED)}`;
}

function strandedMessage(cn: ClusterNetwork, path: (string | number)[], held: string[]): string {
  if (path[1] === 'cidr') {
    return `${cn.spec.cidr} leaves ${listed(held)} outside ClusterNetwork "${cn.metadata.name}"; every agent refuses a HostSubnet outside its ClusterNetwork (no bridge, no peer routes), so the cidr must keep every HostSubnet inside`;
  }
  const range = cn.spec.reserved![path[2] as number];
  return `reserved range ${range} holds ${listed(held)}; a reserved range is never handed out, so it must not cover a block a HostSubnet already holds`;
}

/**
 * Each ClusterNetwork of the batch, against the HostSubnets of it in `all` (the batch laid
 * over the store). A pinned HostSubnet of the batch is left to its own check (on its
 * spec.subnet); one issue per field of the ClusterNetwork, naming the HostSubnets.
 */
export function strandedHostSubnetIssues(m: { all: Entry[] }, existing: AnyObject[]): StrandedIssue[] {
  const stored = new Map(existing.filter((o) => o.kind === 'ClusterNetwork').map((o) => [o.metadata.name, o as ClusterNetwork]));
  const hostSubnets = m.all.filter((e) => e.obj.kind === 'HostSubnet' && !(e.batchIndex !== undefined && e.obj.spec.subnet)).map((e) => e.obj as HostSubnet);
  const out: StrandedIssue[] = [];
  for (const e of m.all) {
    if (e.obj.kind !== 'ClusterNetwork' || e.batchIndex === undefined) continue;
    const cn = e.obj;
    const byField = new Map<string, { path: (string | number)[]; held: string[] }>();
    for (const h of hostSubnets) {
      if (h.spec.clusterNetwork !== cn.metadata.name) continue;
      const s = strandingField(cn, stored.get(cn.metadata.name), h);
      if (!s) continue;
      const key = s.path.join('.');
      if (!byField.has(key)) byField.set(key, { path: s.path, held: [] });
      byField.get(key)!.held.push(s.held);
    }
    for (const f of byField.values()) out.push({ index: e.batchIndex, path: f.path, message: strandedMessage(cn, f.path, f.held) });
  }
  return out;
}
