// A HostSubnet or MacvlanNet edit that takes away addresses ContainerNics already hold: a
// pinned spec.ip the new range no longer hands out (the controller would fail the NIC,
// OutOfRange, and take its address away), or a gateway moved onto any NIC's address (the
// bridge or the segment's router would answer for it). Refused at apply on the edited field,
// naming the NICs. A NIC the controller allocated and the new range leaves out is not refused:
// it gets a new address (docs/api.md). Only what the edit breaks is refused, as in
// validate-stranded.ts.
import { cidrContains, parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { contains } from '../ipam/ranges.js';
import { hostSubnetDefaults, hostSubnetXnetRange, macvlanRange } from './rules.js';
import type { AnyObject, ContainerNic, HostSubnet, MacvlanNet } from './types.js';
import { firstFew } from '../first-few.js';

interface Entry { obj: AnyObject; batchIndex?: number }
interface StrandedIssue { index: number; path: (string | number)[]; message: string }
interface Layout { subnet: string; gateway: string; dockerRange: string }

const MAX_NAMED = 5;

/** What a HostSubnet holds: its pinned spec (with the defaults), else what the controller allocated. */
function layoutOf(h: HostSubnet): Layout | undefined {
  const s = h.spec;
  if (s.subnet) return { subnet: s.subnet, ...hostSubnetDefaults(s.subnet), ...(s.gateway ? { gateway: s.gateway } : {}), ...(s.dockerRange ? { dockerRange: s.dockerRange } : {}) };
  const st = (h.status ?? {}) as Partial<Layout>;
  return st.subnet && st.gateway && st.dockerRange ? { subnet: st.subnet, gateway: st.gateway, dockerRange: st.dockerRange } : undefined;
}

/** A stored status is untrusted: what does not parse is not judged here. */
function orUndefined<T>(f: () => T): T | undefined {
  try { return f(); } catch { return undefined; }
}

const nicIp = (n: ContainerNic): string | undefined => n.spec.ip ?? (typeof n.status?.ip === 'string' ? n.status.ip : undefined);

function hostSubnetField(l: Layout, ip: number): string {
  if (!cidrContains(parseCidr(l.subnet), ip)) return 'subnet';
  if (ip === parseIPv4(l.gateway)) return 'gateway';
  return cidrContains(parseCidr(l.dockerRange), ip) ? 'dockerRange' : 'subnet';
}

function macvlanField(s: MacvlanNet['spec'], ip: number): (string | number)[] {
  if (!cidrContains(parseCidr(s.subnet), ip)) return ['subnet'];
  if (s.ipRange && !cidrContains(parseCidr(s.ipRange), ip)) return ['ipRange'];
  const i = (s.exclude ?? []).findIndex((e) => cidrContains(parseCidr(e), ip));
  return i >= 0 ? ['exclude', i] : ['gateway'];
}

/** Where an address of a pool is handed out, under the pool's old and new spec. */
interface PoolEdit { index: number; kind: string; name: string; inNew(ip: number): boolean; inOld(ip: number): boolean; field(ip: number): (string | number)[]; gateway?: string; oldGateway?: string }

function hostSubnetEdit(e: Entry & { obj: HostSubnet }, old: HostSubnet): PoolEdit | undefined {
  const next = layoutOf(e.obj);
  const prev = layoutOf(old);
  if (!next || !prev) return undefined;
  const [nr, pr] = [orUndefined(() => hostSubnetXnetRange(next)), orUndefined(() => hostSubnetXnetRange(prev))];
  if (!nr || !pr) return undefined;
  return { index: e.batchIndex!, kind: 'HostSubnet', name: e.obj.metadata.name, inNew: (ip) => contains(nr, ip), inOld: (ip) => contains(pr, ip), field: (ip) => [hostSubnetField(next, ip)], gateway: next.gateway, oldGateway: prev.gateway };
}

function macvlanEdit(e: Entry & { obj: MacvlanNet }, old: MacvlanNet): PoolEdit | undefined {
  const [nr, pr] = [orUndefined(() => macvlanRange(e.obj.spec)), orUndefined(() => macvlanRange(old.spec))];
  if (!nr || !pr) return undefined;
  const gw = (s: MacvlanNet['spec']) => s.gateway ?? orUndefined(() => hostSubnetDefaults(s.subnet).gateway);
  return { index: e.batchIndex!, kind: 'MacvlanNet', name: e.obj.metadata.name, inNew: (ip) => contains(nr, ip), inOld: (ip) => contains(pr, ip), field: (ip) => macvlanField(e.obj.spec, ip), gateway: gw(e.obj.spec), oldGateway: gw(old.spec) };
}

/** The NICs the edit strands, per field: pinned addresses it no longer hands out, and any NIC address its new gateway takes. */
function strandedBy(edit: PoolEdit, nics: ContainerNic[]): Map<string, { path: (string | number)[]; held: string[] }> {
  const byField = new Map<string, { path: (string | number)[]; held: string[] }>();
  const add = (path: (string | number)[], what: string) => {
    const key = path.join('.');
    if (!byField.has(key)) byField.set(key, { path: ['spec', ...path], held: [] });
    byField.get(key)!.held.push(what);
  };
  for (const n of nics) {
    const text = nicIp(n);
    const ip = text === undefined ? undefined : orUndefined(() => parseIPv4(text));
    if (ip === undefined) continue;
    if (text === edit.gateway && text !== edit.oldGateway) add(['gateway'], `"${n.metadata.name}" (${n.spec.ip ? 'spec.ip' : 'status.ip'} ${text})`);
    else if (n.spec.ip && edit.inOld(ip) && !edit.inNew(ip)) add(edit.field(ip), `"${n.metadata.name}" (spec.ip ${text})`);
  }
  return byField;
}

function message(edit: PoolEdit, path: (string | number)[], held: string[]): string {
  const nics = `ContainerNic${held.length > 1 ? 's' : ''} ${firstFew(held, MAX_NAMED)}`;
  if (path[1] === 'gateway') return `the new gateway is the address of ${nics}; a gateway must not take an address a NIC holds`;
  return `this edit leaves the pinned address of ${nics} out of what ${edit.kind} "${edit.name}" hands out, so the NIC would lose it (OutOfRange); change or delete the NIC first`;
}

/** Each edited HostSubnet and MacvlanNet of the batch, against the stored ContainerNics on it. */
export function strandedNicIssues(m: { all: Entry[] }, existing: AnyObject[]): StrandedIssue[] {
  const stored = new Map(existing.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
  // a NIC being deleted gives its address up (its finalizer waits for the agent only)
  const nics = m.all.filter((e) => e.obj.kind === 'ContainerNic' && e.batchIndex === undefined && !e.obj.metadata.deletionTimestamp).map((e) => e.obj as ContainerNic);
  const out: StrandedIssue[] = [];
  for (const e of m.all) {
    const old = e.batchIndex === undefined ? undefined : stored.get(`${e.obj.kind}/${e.obj.metadata.name}`);
    if (!old) continue;
    const edit = e.obj.kind === 'HostSubnet' ? hostSubnetEdit(e as Entry & { obj: HostSubnet }, old as HostSubnet)
      : e.obj.kind === 'MacvlanNet' ? macvlanEdit(e as Entry & { obj: MacvlanNet }, old as MacvlanNet) : undefined;
    if (!edit) continue;
    const on = nics.filter((n) => (e.obj.kind === 'HostSubnet'
      ? n.spec.network.clusterNetwork === (e.obj as HostSubnet).spec.clusterNetwork && n.spec.node === (e.obj as HostSubnet).spec.node
      : n.spec.network.macvlanNet === e.obj.metadata.name));
    for (const f of strandedBy(edit, on).values()) out.push({ index: edit.index, path: f.path, message: message(edit, f.path, f.held) });
  }
  return out;
}
