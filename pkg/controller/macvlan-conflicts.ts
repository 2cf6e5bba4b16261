// dockerIPAM blocks: an address of the segment given twice. Each node's Docker checks a `docker
// run --ip` only against its own containers, so it accepts an address of another node's block,
// a ContainerNic's, a host shim's or a Node's own, and two hosts on one L2 segment then answer
// for it. xnet cannot stop Docker from accepting it; it says so. Each node's agent reports the
// addresses its containers hold outside its own block (`outsideBlock`, api/outside-block.ts);
// the leader compares them, in each round of the MacvlanNet, with the blocks, shims, NICs and
// Nodes that hold the segment and with the other nodes' reports (ipam/address-conflicts.ts,
// which `xctl ipam check` runs too), lists what is held twice in the status
// (`status.addressConflicts`, condition `AddressesUnique`) and tells each new one as a Warning
// event. A report is the node's word about its own containers only: the rule is applied again
// to it against that node's own blocks, and one that does not decode is skipped, logged once
// and named in the condition, never thrown.
import type { MacvlanNet, MacvlanNodeStatus } from '../api/index.js';
import { outsideOwnBlocks, readOutsideBlock } from '../api/outside-block.js';
import type { EventRecorder } from '../events/recorder.js';
import type { InvolvedObject } from '../events/types.js';
import { firstFew } from '../first-few.js';
import { formatIPv4, isIPv4, parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { addressConflicts, conflictText, listedConflict, MAX_LISTED_CONFLICTS, type AddressConflict, type ReportedHolder, type SegmentHolder } from '../ipam/address-conflicts.js';
import { cidrInterval } from '../ipam/ranges.js';
import type { Ctx } from './context.js';
import { sameJson } from '../api/key-order.js';

/** What a round found: the conflicts (all of them), and the nodes whose report does not decode. */
export interface ConflictsFound { conflicts: AddressConflict[]; unreadable: string[] }

/** Per controller (its model): the node/MacvlanNet pairs whose outsideBlock does not decode (logged once). */
const unreadableNow = new WeakMap<object, Set<string>>();

type ReportRead = { held: ReportedHolder[] } | { unreadable: string };

/**
 * Each report's decode, kept with the report as cached (its parsed value: the same object until
 * its key changes) and the blocks it was read against. A MacvlanNet's round runs on every change
 * of any of its nodes, its NICs' claims among them: 1,000 unchanged reports of 256 addresses took
 * a third of a second to decode again in each.
 */
const decodedReports = new WeakMap<object, { against: string; read: ReportRead }>();

/** Node `p`'s report on `m`, its entries outside the node's own blocks with the node's name, or why it does not decode. */
function readReport(report: object, m: MacvlanNet, p: MacvlanNodeStatus): ReportRead | undefined {
  const against = [p.name, m.spec.subnet, p.dockerRange, p.previousDockerRange, m.spec.gateway].join(' ');
  const kept = decodedReports.get(report);
  if (kept?.against === against) return kept.read;
  const ranges = outsideOwnBlocks(m.spec.subnet, [p.dockerRange, p.previousDockerRange], m.spec.gateway);
  if (!ranges) return undefined;
  const r = readOutsideBlock(report, ranges);
  const read = 'unreadable' in r ? r : { held: r.held.map((h) => ({ node: p.name, ...h })) };
  decodedReports.set(report, { against, read });
  return read;
}

/** The containers each node of `parts` reports outside its own blocks; the nodes whose report does not decode. */
function reported(ctx: Ctx, m: MacvlanNet, parts: MacvlanNodeStatus[]): { held: ReportedHolder[]; unreadable: string[] } {
  let open = unreadableNow.get(ctx.model);
  if (!open) unreadableNow.set(ctx.model, (open = new Set()));
  const held: ReportedHolder[] = [];
  const unreadable: string[] = [];
  for (const p of parts) {
    const report = ctx.model.nodeStatus(p.name, 'MacvlanNet', m.metadata.name);
    // most reports list none: no decode for them
    if (!report || (!('outsideBlock' in report) && !('outsideBlockCount' in report))) continue;
    const r = readReport(report, m, p);
    if (!r) continue;
    const pair = `${p.name}/${m.metadata.name}`;
    if ('unreadable' in r) {
      if (!open.has(pair)) ctx.log.warn('node report of addresses its containers hold outside its Docker block does not decode; ignored', { node: p.name, macvlanNet: m.metadata.name, error: r.unreadable });
      open.add(pair);
      unreadable.push(p.name);
      continue;
    }
    open.delete(pair);
    for (const h of r.held) held.push(h);
  }
  return { held, unreadable };
}

/** What else holds the segment: the parts' blocks and shims (as this round writes them), NICs' claims, Nodes' own addresses. */
function segmentHolders(ctx: Ctx, m: MacvlanNet, parts: MacvlanNodeStatus[]): SegmentHolder[] {
  const out: SegmentHolder[] = [];
  for (const p of parts) {
    for (const cidr of [p.dockerRange, p.previousDockerRange]) {
      if (!cidr) continue;
      try { out.push({ role: 'docker-block', node: p.name, cidr, range: cidrInterval(parseCidr(cidr)) }); } catch { /* a part the controller wrote: always parses */ }
    }
    if (p.shimAddress && isIPv4(p.shimAddress)) out.push({ role: 'shim', node: p.name, ip: parseIPv4(p.shimAddress) });
  }
  for (const [ip, c] of ctx.model.claimsIn('macvlannets', m.metadata.name, 'addresses')) {
    if (c.claim.owner.kind === 'ContainerNic') out.push({ role: 'nic', nic: c.claim.owner.name, ip, ...(c.claim.node ? { node: c.claim.node } : {}) });
  }
  for (const ip of ctx.model.routedAddressesIn(parseCidr(m.spec.subnet))) {
    const node = ctx.model.nodeRoutedBy(formatIPv4(ip));
    if (node) out.push({ role: 'node-address', node, ip });
  }
  return out;
}

/** The round's comparison for a `blocks` MacvlanNet; none for `xnet` (its IPAM plugin refuses such an --ip). */
export function findConflicts(ctx: Ctx, m: MacvlanNet, parts: MacvlanNodeStatus[]): ConflictsFound | undefined {
  if ((m.spec.dockerIPAM ?? 'xnet') !== 'blocks') return undefined;
  const { held, unreadable } = reported(ctx, m, parts);
  return { conflicts: held.length ? addressConflicts(held, segmentHolders(ctx, m, parts)) : [], unreadable };
}

/** The status fields: the lowest MAX_LISTED_CONFLICTS, and how many in all when there are more. */
export function conflictFields(found: ConflictsFound | undefined): Record<string, unknown> {
  if (!found?.conflicts.length) return {};
  // no container's or NIC's name in what every node reads (ipam/address-conflicts.ts ConflictHolder)
  // at most MAX_LISTED_HOLDERS holders each (listedConflict): the status must stay writable
  const listed = found.conflicts.slice(0, MAX_LISTED_CONFLICTS).map(listedConflict).map((c) => ({ ip: c.ip, holders: c.holders.map(({ name: _, ...h }) => h), ...(c.holderCount ? { holderCount: c.holderCount } : {}) }));
  return { addressConflicts: listed, ...(found.conflicts.length > listed.length ? { addressConflictCount: found.conflicts.length } : {}) };
}

/** The `AddressesUnique` condition: False `AddressConflict` naming the first few, True `NoConflict` otherwise. */
export function conflictCondition(found: ConflictsFound) {
  const skipped = found.unreadable.length ? `; the report of ${firstFew(found.unreadable, 3)} on the addresses its containers hold outside its block does not decode and was not compared` : '';
  const n = found.conflicts.length;
  if (!n) return { type: 'AddressesUnique', status: 'True' as const, reason: 'NoConflict', message: `no address the nodes report their containers hold outside their Docker block is held twice${skipped}` };
  return {
    type: 'AddressesUnique', status: 'False' as const, reason: 'AddressConflict',
    message: `${n} address(es) held twice on the segment (docker run --ip: Docker checks it only against its own node): ${found.conflicts.slice(0, 2).map((c) => conflictText(listedConflict(c), false)).join('; ')}${n > 2 ? `; and ${n - 2} more (status.addressConflicts)` : ''}${skipped}`,
  };
}

/**
 * The conflicts of `found` the previous status did not list: an address not listed, or listed
 * without one of the holders listed now (each told once as an event). A holder leaving, or one
 * more beyond those listed (holderCount), is not news: an address held 3 times, then twice
 * again, told its first Warning a second time.
 */
export function newConflicts(prev: { addressConflicts?: unknown } | undefined, found: ConflictsFound | undefined): AddressConflict[] {
  if (!found?.conflicts.length) return [];
  const before = new Map<string, unknown[]>();
  for (const c of Array.isArray(prev?.addressConflicts) ? prev.addressConflicts as unknown[] : []) {
    const { ip, holders } = (c && typeof c === 'object' ? c : {}) as { ip?: unknown; holders?: unknown };
    if (typeof ip === 'string' && Array.isArray(holders)) before.set(ip, holders);
  }
  const listed = conflictFields(found).addressConflicts as Array<{ ip: string; holders: unknown[] }>;
  // as stored (etcd keeps whatever key order its writer used): compared up to key order
  return found.conflicts.slice(0, MAX_LISTED_CONFLICTS).filter((_, i) => {
    const had = before.get(listed[i].ip);
    return !had || listed[i].holders.some((h) => !had.some((b) => sameJson(b, h)));
  });
}

/** One Warning per conflict a round found new, on the MacvlanNet (the recorder's rate limit bounds a burst). */
export function tellConflicts(events: EventRecorder, on: InvolvedObject, conflicts: AddressConflict[] | undefined): void {
  for (const c of conflicts ?? []) {
    void events.record(on, 'Warning', 'AddressConflict', `${conflictText(listedConflict(c))}: Docker's IPAM checks a docker run --ip only against its own node's containers; `
      + 'remove or reconnect one of them (pin addresses with dockerIPAM xnet or a ContainerNic spec.ip)');
  }
}
