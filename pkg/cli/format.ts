// Human output: kubectl-like tables per kind, ages, YAML/JSON documents.
import { stringify } from 'yaml';
import { getCondition } from '../api/conditions.js';
import type { Condition } from '../api/fields.js';
import type { Kind } from '../api/kinds.js';
import type { AnyObject, ClusterNetwork, ContainerNic, HostSubnet, MacvlanNet, Node } from '../api/types.js';
import { printable } from '../printable.js';
import type { Columns } from './custom-columns.js';

export type OutputFormat = 'table' | 'wide' | 'yaml' | 'json' | 'name' | 'jsonpath' | 'go-template' | 'custom-columns';

/**
 * What `get -o` asked for; with jsonpath or go-template, the parsed template's printer (an object
 * or a List in, its text out); with custom-columns, the columns (custom-columns.ts).
 */
export interface Output { format: OutputFormat; template?: (data: unknown) => string; columns?: Columns; showLabels?: boolean }

/** Formats printed as a table: the kind's own (wide or not), or the user's columns. */
export const isTable = (f: OutputFormat): boolean => f === 'table' || f === 'wide' || f === 'custom-columns';

/** The table's header and an object's row: the custom columns when asked for, else the kind's own. */
export function tableOf(kind: Kind, out: Pick<Output, 'format' | 'columns' | 'showLabels'>): Columns {
  if (out.columns) return out.columns;
  const wide = out.format === 'wide';
  // kubectl's --show-labels: every label, k=v joined by ",", as the last column (once: a Node's wide table has it)
  if (!out.showLabels || tableHeader(kind, wide).includes('LABELS')) return { header: tableHeader(kind, wide), row: (o) => tableRow(o as AnyObject, wide) };
  return { header: [...tableHeader(kind, wide), 'LABELS'], row: (o) => [...tableRow(o as AnyObject, wide), labelsText(o as AnyObject)] };
}

export function ref(o: { kind: string; metadata: { name: string } }): string {
  return `${o.kind.toLowerCase()}/${o.metadata.name}`;
}

const INVALID_AGE = '<invalid>';

/** Like kubectl's HumanDuration: 45s, 3m12s, 47m, 5h3m, 20h, 3d4h, 12d */
export function humanAge(from: string | undefined, now = Date.now()): string {
  if (!from) return '<unknown>';
  const ms = now - Date.parse(from);
  if (Number.isNaN(ms)) return '<unknown>';
  // kubectl's rule: more than a second ahead of this clock is no age at all (a skewed clock, or
  // a node writing a far-future lastHeartbeatTime to look fresh forever)
  if (ms < -1000) return INVALID_AGE;
  const s = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(s / 60), h = Math.floor(s / 3600), d = Math.floor(s / 86400);
  if (s < 120) return `${s}s`;
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  if (d < 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  return `${d}d`;
}

const NONE = '<none>';
/** "5s ago"; a time that is no age (humanAge) is shown as such, not as "<invalid> ago" */
export const agoText = (at: string): string => { const age = humanAge(at); return age.startsWith('<') ? age : `${age} ago`; };
const show = (v: unknown, dflt = NONE): string => (v === undefined || v === null || v === '' ? dflt : String(v));
const conditions = (o: AnyObject): Condition[] | undefined => (o.status as { conditions?: Condition[] } | undefined)?.conditions;

/** READY: the Ready condition's status (Unknown until someone reports it), marked for any object being deleted. */
export function readyOf(o: AnyObject): string {
  const status = getCondition(conditions(o), 'Ready')?.status ?? 'Unknown';
  return o.metadata.deletionTimestamp ? `${status} (deleting)` : status;
}

interface KindColumns<T> { head: string[]; wide: string[]; row(o: T): string[]; wideRow(o: T): string[] }

const TABLES: { [K in Kind]: KindColumns<Extract<AnyObject, { kind: K }>> } = {
  ClusterNetwork: {
    head: ['NAME', 'CIDR', 'HOSTPREFIX', 'ALLOCATED', 'READY', 'AGE'],
    wide: ['DOCKERNETWORK', 'BRIDGEPREFIX', 'MASQUERADE', 'RESERVED'],
    row: (o: ClusterNetwork) => [o.metadata.name, o.spec.cidr, `/${o.spec.hostPrefix}`, show(o.status?.allocated, '0'), readyOf(o), humanAge(o.metadata.creationTimestamp)],
    wideRow: (o: ClusterNetwork) => [o.spec.dockerNetwork ?? o.metadata.name, o.spec.bridgePrefix, String(o.spec.masquerade), show(o.spec.reserved?.join(','))],
  },
  Node: {
    head: ['NAME', 'ADDRESS', 'READY', 'AGE'],
    // REPORTED: when the agent last wrote its report (start, new lease, change); liveness is READY (the lease)
    wide: ['INTERFACE', 'AGENT', 'REPORTED', 'LABELS'],
    row: (o: Node) => [o.metadata.name, nodeAddressOf(o), readyOf(o), humanAge(o.metadata.creationTimestamp)],
    wideRow: (o: Node) => [nodeInterfaceOf(o), show(o.status?.agentVersion), o.status?.lastHeartbeatTime ? agoText(o.status.lastHeartbeatTime) : NONE, labelsText(o)],
  },
  HostSubnet: {
    head: ['NAME', 'NODE', 'SUBNET', 'BRIDGE', 'READY', 'AGE'],
    wide: ['CLUSTERNETWORK', 'GATEWAY', 'DOCKERRANGE', 'NODEADDRESS'],
    row: (o: HostSubnet) => [o.metadata.name, o.spec.node, show(o.status?.subnet, '<pending>'), show(o.status?.bridge, '<pending>'), readyOf(o), humanAge(o.metadata.creationTimestamp)],
    // what the controller allocated, never a pinned spec it may have refused (as SUBNET)
    wideRow: (o: HostSubnet) => [o.spec.clusterNetwork, show(o.status?.gateway), show(o.status?.dockerRange), show(o.status?.nodeAddress)],
  },
  ContainerNic: {
    head: ['NAME', 'NODE', 'CONTAINER', 'IFNAME', 'IP', 'READY', 'AGE'],
    wide: ['NETWORK', 'MAC', 'GATEWAY', 'HOSTINTERFACE'],
    row: (o: ContainerNic) => [o.metadata.name, o.spec.node, o.spec.container, o.spec.ifName, ipOf(o), readyOf(o), humanAge(o.metadata.creationTimestamp)],
    wideRow: (o: ContainerNic) => [networkOf(o), show(o.status?.mac ?? o.spec.mac), show(o.status?.gateway), show(o.status?.hostInterface)],
  },
  MacvlanNet: {
    head: ['NAME', 'SUBNET', 'PARENT', 'VLAN', 'ALLOCATED', 'READY', 'AGE'],
    // USED: dockerIPAM xnet, what containers hold of ALLOCATED (the rest pre-claimed at hand, shims)
    wide: ['GATEWAY', 'IPRANGE', 'MODE', 'USED', 'FREE', 'NODES'],
    row: (o: MacvlanNet) => [o.metadata.name, o.spec.subnet, show(o.spec.parent, '<node default>'), show(o.spec.vlan), show(o.status?.allocated, '0'), readyOf(o), humanAge(o.metadata.creationTimestamp)],
    wideRow: (o: MacvlanNet) => [show(o.spec.gateway), o.spec.ipRange ?? o.spec.subnet, o.spec.mode, show(o.status?.used), show(o.status?.free), nodesText(o)],
  },
};

/**
 * The address peers route to: the admin's spec.address (marked when the host does not have it),
 * else the one the agent reports, marked when the controller refused it (peers then keep the
 * last one it accepted: describe says which).
 */
function nodeAddressOf(o: Node): string {
  if (o.spec.address) return notOnHost(o, 'AddressOnHost') ? `${o.spec.address} (not on host)` : o.spec.address;
  const reported = o.status?.address;
  if (!reported) return show(reported);
  // AddressInPool: refused as a new address would be, but peers still route via it
  return o.status?.conditions?.find((c) => c.type === 'AddressAccepted')?.reason === 'InvalidNodeAddress' ? `${reported} (refused)` : reported;
}
/** The interface the agent uses, marked when it is a pinned one the host has no link of. */
function nodeInterfaceOf(o: Node): string {
  const iface = show(o.status?.interface ?? o.spec.interface);
  return o.spec.interface && notOnHost(o, 'InterfaceOnHost') ? `${iface} (not on host)` : iface;
}
/**
 * The agent says its host lacks the pinned address (AddressOnHost False: peers route to nobody)
 * or interface (InterfaceOnHost False: no default macvlan parent), in a report of this very
 * spec: one about a value since corrected is not shown.
 */
function notOnHost(o: Node, type: 'AddressOnHost' | 'InterfaceOnHost'): boolean {
  const st = o.status as (Node['status'] & { observedGeneration?: number }) | undefined;
  return st?.observedGeneration === o.metadata.generation && st?.conditions?.find((c) => c.type === type)?.status === 'False';
}
/** The allocated address: a pinned spec.ip the controller has not allocated (IPConflict, OutOfRange) is not held. */
function ipOf(o: ContainerNic): string {
  const ip = o.status?.ip;
  if (!ip) return '<pending>';
  return o.status?.prefixLength !== undefined ? `${ip}/${o.status.prefixLength}` : ip;
}
function networkOf(o: ContainerNic): string {
  return o.spec.network.clusterNetwork !== undefined ? `cn/${o.spec.network.clusterNetwork}` : `mvn/${o.spec.network.macvlanNet}`;
}
function nodesText(o: MacvlanNet): string {
  const nodes = o.status?.nodes;
  if (!nodes?.length) return NONE;
  return `${nodes.filter((n) => n.ready).length}/${nodes.length} ready`;
}
function labelsText(o: AnyObject): string {
  const l = o.metadata.labels;
  return l && Object.keys(l).length ? Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',') : NONE;
}

// -o wide ends with the Ready condition's reason, so that a list says why each object is not
// ready (ContainerNotFound, WaitingForAgent...) without a describe of each; the message is in describe.
export function tableHeader(kind: Kind, wide: boolean): string[] {
  const t = TABLES[kind] as KindColumns<AnyObject>;
  return wide ? [...t.head, ...t.wide, 'REASON'] : t.head;
}

export function tableRow(o: AnyObject, wide: boolean): string[] {
  const t = TABLES[o.kind] as KindColumns<AnyObject>;
  return wide ? [...t.row(o), ...t.wideRow(o), show(getCondition(conditions(o), 'Ready')?.reason)] : t.row(o);
}

/**
 * The most characters a cell before the last shows. Every row is padded to its column's widest
 * cell, and a node writes some of them (its address, interface and agent version, a condition's
 * reason): one node reporting a 200 KB address padded every row of `xctl get nodes` to 200 KB,
 * pushing each other node's READY and AGE out of sight. The last column (a message) is not padded.
 */
export const MAX_CELL = 160;

/** A cell as printed: control characters escaped, clipped to MAX_CELL unless it is the row's last. */
function cellText(c: string, last: boolean): string {
  const t = printable(c);
  return last || t.length <= MAX_CELL ? t : `${t.slice(0, MAX_CELL - 3)}...`;
}

/**
 * Columns padded to the widest cell plus three spaces, as kubectl prints them. Cells hold what
 * nodes wrote (a MAC, a condition's or an event's message): control characters are escaped.
 */
export function renderTable(rows: string[][], widths?: number[]): string {
  const safe = rows.map((r) => r.map((c, i) => cellText(c, i === r.length - 1)));
  const w = widths ?? columnWidths(rows);
  return safe.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(Math.max(w[i] ?? 0, c.length) + 3))).join('').trimEnd() + '\n').join('');
}

/**
 * The rows of a watch, one call per row, with the widths of what was listed before (`widths`).
 * Nothing listed: the header (when given) comes with the first row, and that row with it sets the
 * widths (at least `floor`'s), as kubectl prints it: a header printed alone, before any row,
 * could only guess them.
 */
export function watchTable(header: string[] | undefined, widths?: number[], floor: string[][] = []): (row: string[]) => string {
  let w = widths;
  return (row) => {
    const rows = w === undefined && header ? [header, row] : [row];
    w ??= columnWidths([...rows, ...floor]);
    return renderTable(rows, w);
  };
}

export function columnWidths(rows: string[][]): number[] {
  const w: number[] = [];
  for (const r of rows) r.forEach((c, i) => { w[i] = Math.max(w[i] ?? 0, cellText(c, i === r.length - 1).length); });
  return w;
}

/**
 * `get -o yaml`. Strings that YAML 1.1 readers (go-yaml, kubectl's; PyYAML) would take for
 * something else are quoted, as kubectl prints them: a label `pods: "yes"` stays a string in any
 * tool the output is piped into (xctl itself reads YAML 1.2, where `yes` is a string anyway).
 */
export function toYaml(v: unknown): string {
  return stringify(v, { lineWidth: 0, version: '1.1' });
}

/**
 * YAML for a human (describe): the library escapes C0 controls in the strings it quotes but
 * prints DEL and C1 controls (U+009B is a CSI) as they are; those are escaped too.
 */
export function toHumanYaml(v: unknown): string {
  // eslint-disable-next-line no-control-regex
  return toYaml(v).replace(/[\x7f-\x9f\p{Cf}\u2028\u2029]/gu, (c) => printable(c));
}

export function toJson(v: unknown): string {
  return JSON.stringify(v, null, 2) + '\n';
}

export function asList(items: AnyObject[]): { apiVersion: 'v1'; kind: 'List'; items: AnyObject[] } {
  return { apiVersion: 'v1', kind: 'List', items };
}

/**
 * One stderr line per key that was read and did not decode, naming the key and why: every
 * command that reads keys written by others reports them the same way and shows the rest.
 */
export function skippedLines(skipped: ReadonlyArray<{ key: string; error: string }> | undefined): string {
  return (skipped ?? []).map((s) => `warning: skipped ${printable(s.key)}: ${printable(s.error)}\n`).join('');
}
