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
/** An address held twice (or more), lowest first, and by whom; `holderCount`: how many in all, when `holders` lists fewer. */
export interface AddressConflict { ip: string; holders: ConflictHolder[]; holderCount?: number }

/** The most conflicts a status lists (and a round tells as events); the rest are counted. */
export const MAX_LISTED_CONFLICTS = 64;

/**
 * The most holders one conflict lists in the status, its condition and its event; the rest are
 * counted. Every node's container may hold one address (the same `docker run --ip` on each
 * host): 64 conflicts of 1,000 holders each made a status of 5 MB, which etcd refuses (1.5 MiB),
 * and the MacvlanNet's status, every node's block with it, was then never written again.
 */
export const MAX_LISTED_HOLDERS = 4;

/**
 * `c` with at most MAX_LISTED_HOLDERS holders: the holders that are not containers first kept
 * (a block, a shim, a NIC, a Node: the controller's own, a few at most), the reported
 * containers first listed, and `holderCount` when some are left out.
 */
export function listedConflict(c: AddressConflict): AddressConflict {
  if (c.holders.length <= MAX_LISTED_HOLDERS) return c;
  const others = c.holders.filter((h) => h.role !== 'container').slice(0, MAX_LISTED_HOLDERS - 1);
  const containers = c.holders.filter((h) => h.role === 'container').slice(0, MAX_LISTED_HOLDERS - others.length);
  return { ip: c.ip, holders: [...containers, ...others], holderCount: c.holderCount ?? c.holders.length };
}

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

/**
 * The holders among `others` by address: single addresses by value, Docker blocks (CIDRs) by
 * size and base, so each reported address is looked up once per block size (one or two: an
 * edit of blockPrefix) instead of against every block; a thousand nodes' reports of 256
 * addresses each met a thousand blocks each, a quarter of a billion comparisons a round.
 */
class HolderIndex {
  private readonly singles = new Map<number, SegmentHolder[]>();
  /** block size -> base -> blocks */
  private readonly blocks = new Map<number, Map<number, SegmentHolder[]>>();

  constructor(others: ReadonlyArray<SegmentHolder>) {
    for (const h of others) {
      if (h.role !== 'docker-block') { push(this.singles, h.ip, h); continue; }
      const size = h.range.last - h.range.first + 1;
      let bases = this.blocks.get(size);
      if (!bases) this.blocks.set(size, (bases = new Map()));
      push(bases, h.range.first, h);
    }
  }

  at(ip: number): SegmentHolder[] {
    const out = [...this.singles.get(ip) ?? []];
    // a CIDR of `size` addresses starts at a multiple of its size (cidrInterval); one that does not is found by no lookup
    for (const [size, bases] of this.blocks) for (const b of bases.get(ip - (ip % size)) ?? []) if (b.role === 'docker-block' && ip <= b.range.last) out.push(b);
    return out;
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v); else m.set(k, [v]);
}

/**
 * Every address a reported container holds that something else holds too: another node's
 * container (two reports), a Docker block (not the reporting node's own: the reports list only
 * addresses outside it), a shim, a NIC, a Node's own address. Lowest first, all of them (the
 * caller bounds what it lists).
 */
export function addressConflicts(reported: ReadonlyArray<ReportedHolder>, others: ReadonlyArray<SegmentHolder>): AddressConflict[] {
  const index = new HolderIndex(others);
  // each node once an address (its first entry): a node's containers are one holder
  const byIp = new Map<number, Map<string, ReportedHolder>>();
  for (const r of reported) {
    let n: number;
    try { n = parseIPv4(r.ip); } catch { continue; }
    let nodes = byIp.get(n);
    if (!nodes) byIp.set(n, (nodes = new Map()));
    if (!nodes.has(r.node)) nodes.set(r.node, r);
  }
  const out: AddressConflict[] = [];
  for (const [n, nodes] of [...byIp].sort((a, b) => a[0] - b[0])) {
    const rest = index.at(n).filter((h) => h.role !== 'docker-block' || !nodes.has(h.node));
    if (nodes.size + rest.length < 2) continue;
    out.push({ ip: formatIPv4(n), holders: [...[...nodes.values()].map(containerOf), ...rest.map(describe)] });
  }
  return out;
}

/**
 * `198.19.1.20 is held twice: container web on node host-2 and node host-1's Docker block ...`;
 * `named`: false for what every node reads (`a container on node host-2`). A conflict that
 * lists fewer holders than it has (holderCount) ends `... and 997 more`.
 */
export function conflictText(c: AddressConflict, named = true): string {
  const names = c.holders.map((h) => (named ? namedHolder(h) : h.what));
  const total = Math.max(c.holderCount ?? 0, names.length);
  const times = total === 2 ? 'twice' : `${total} times`;
  if (total > names.length) return `${c.ip} is held ${times}: ${names.join(', ')} and ${total - names.length} more`;
  return `${c.ip} is held ${times}: ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
