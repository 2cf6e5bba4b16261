// `dockerIPAM: blocks`: an address of the segment given twice. Each node's Docker hands out its
// own block and checks a `docker run --ip` only against its own containers, so it accepts an
// address another node's block, a ContainerNic, a host shim or a Node holds (api/outside-block.ts).
// Pure: the controller (controller/macvlan-conflicts.ts) and `xctl ipam check` (check.ts) feed it
// what each reads, the nodes' reports (each only about its own node's containers) and what the
// MacvlanNet's claims and the Nodes hold, and both name the same duplicates.
import { formatIPv4, parseIPv4 } from '../ip/ipv4.js';
import type { Interval } from './ranges.js';

/** A container's address outside its node's own block, as that node reports it. */
export interface ReportedHolder { node: string; ip: string; name?: string }

/** What else holds an address or a block of the segment: a Docker block, a shim, a NIC, a Node. */
export type SegmentHolder =
  | { role: 'docker-block'; node: string; range: Interval; cidr: string }
  | { role: 'shim' | 'node-address'; node: string; ip: number }
  | { role: 'nic'; node?: string; ip: number; nic: string };

/**
 * One holder as a conflict names it. `what` names no container and no ContainerNic: the status
 * every node reads carries it, and a node could otherwise learn other nodes' names by reporting
 * their addresses (docs/security.md). `name`: the container's or NIC's, for the event and `xctl
 * ipam check`, which only the controller and the admin read (conflictText).
 */
export interface ConflictHolder { node?: string; role: 'container' | SegmentHolder['role']; what: string; name?: string }
/** An address held twice (or more), lowest first, and by whom. */
export interface AddressConflict { ip: string; holders: ConflictHolder[] }

/** The most conflicts a status lists (and a round tells as events); the rest are counted. */
export const MAX_LISTED_CONFLICTS = 64;

function describe(h: SegmentHolder): ConflictHolder {
  switch (h.role) {
    case 'docker-block': return { node: h.node, role: h.role, what: `node ${h.node}'s Docker block ${h.cidr} (its Docker hands it out)` };
    case 'shim': return { node: h.node, role: h.role, what: `node ${h.node}'s host shim` };
    case 'node-address': return { node: h.node, role: h.role, what: `Node ${h.node}'s own address` };
    case 'nic': return { ...(h.node ? { node: h.node } : {}), role: h.role, what: `a ContainerNic${h.node ? ` on node ${h.node}` : ''}`, name: h.nic };
  }
}

const containerOf = (r: ReportedHolder): ConflictHolder => ({ node: r.node, role: 'container', what: `a container on node ${r.node}`, name: r.name ?? '' });

/** The holder with its container's or NIC's name (`what` names neither). */
export function namedHolder(h: ConflictHolder): string {
  if (h.name === undefined) return h.what;
  if (h.role === 'container') return `container ${h.name || '(unnamed)'} on node ${h.node}`;
  return `ContainerNic ${h.name}${h.node ? ` on node ${h.node}` : ''}`;
}

/** The holders among `others` of `ip`: single addresses by lookup, blocks by a scan of the few there are. */
function othersAt(ip: number, singles: Map<number, SegmentHolder[]>, blocks: SegmentHolder[]): SegmentHolder[] {
  const out = [...singles.get(ip) ?? []];
  for (const b of blocks) if (b.role === 'docker-block' && ip >= b.range.first && ip <= b.range.last) out.push(b);
  return out;
}

/**
 * Every address a reported container holds that something else holds too: another node's
 * container (two reports), a Docker block (not the reporting node's own: the reports list only
 * addresses outside it), a shim, a NIC, a Node's own address. Lowest first, all of them (the
 * caller bounds what it lists).
 */
export function addressConflicts(reported: ReadonlyArray<ReportedHolder>, others: ReadonlyArray<SegmentHolder>): AddressConflict[] {
  const singles = new Map<number, SegmentHolder[]>();
  const blocks: SegmentHolder[] = [];
  for (const h of others) {
    if (h.role === 'docker-block') blocks.push(h);
    else singles.set(h.ip, [...singles.get(h.ip) ?? [], h]);
  }
  const byIp = new Map<number, ReportedHolder[]>();
  for (const r of reported) {
    let n: number;
    try { n = parseIPv4(r.ip); } catch { continue; }
    const list = byIp.get(n) ?? [];
    if (!list.some((x) => x.node === r.node)) list.push(r);
    byIp.set(n, list);
  }
  const out: AddressConflict[] = [];
  for (const [n, containers] of [...byIp].sort((a, b) => a[0] - b[0])) {
    const rest = othersAt(n, singles, blocks).filter((h) => h.role !== 'docker-block' || !containers.some((c) => c.node === h.node));
    if (containers.length + rest.length < 2) continue;
    out.push({ ip: formatIPv4(n), holders: [...containers.map(containerOf), ...rest.map(describe)] });
  }
  return out;
}

/**
 * `198.19.1.20 is held twice: container web on node host-2 and node host-1's Docker block ...`;
 * `named`: false for what every node reads (`a container on node host-2`).
 */
export function conflictText(c: AddressConflict, named = true): string {
  const names = c.holders.map((h) => (named ? namedHolder(h) : h.what));
  const times = names.length === 2 ? 'twice' : `${names.length} times`;
  return `${c.ip} is held ${times}: ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
