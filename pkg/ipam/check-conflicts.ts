// `xctl ipam check`: dockerIPAM blocks addresses held twice on a MacvlanNet's segment (check.ts).
// Each node's agent reports the addresses its containers hold outside its own Docker block
// (api/outside-block.ts: `docker run --ip`, which Docker checks only against its own node); the
// audit compares them with the blocks and shims the MacvlanNet's status announces, the NICs'
// claims, the Nodes' own addresses and the other nodes' reports, as the controller does
// (address-conflicts.ts), and names each duplicate as a problem. A report is read as untrusted:
// about its own node's containers only, outside that node's own blocks; one that does not decode
// is named in a note and not compared.
import type { MacvlanNet, MacvlanNodeStatus, Status } from '../api/index.js';
import { outsideOwnBlocks, readOutsideBlock } from '../api/outside-block.js';
import { isIPv4, parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { addressConflicts, conflictText, type ReportedHolder, type SegmentHolder } from './address-conflicts.js';
import type { Claim } from './keys.js';
import { cidrInterval, contains } from './ranges.js';

type StoredObject = { metadata: { name: string }; spec: unknown };

/** What the audit read that this check looks at (check-input.ts AuditInput). */
export interface ConflictInput {
  objects: Map<string, StoredObject>;
  statuses: Map<string, Status>;
  claims: Array<{ claim: Claim; type: string; pool: string; space: string; ip: number }>;
  /** each node's report on a MacvlanNet, as parsed JSON (or undefined when it is not JSON) */
  mvnReports: Array<{ mvn: string; node: string; report: unknown }>;
}

/**
 * The address each Node is routed by: its spec.address, else the address the controller
 * accepted (as controller/model.ts nodeRoutedBy), by address.
 */
export function nodesRoutedBy(objects: Map<string, StoredObject>, statuses: Map<string, Status>): Map<number, string> {
  const routed = new Map<number, string>();
  for (const [id, o] of objects) {
    if (!id.startsWith('Node/')) continue;
    const address = (o.spec as { address?: unknown } | undefined)?.address ?? statuses.get(id)?.address;
    if (typeof address === 'string' && isIPv4(address)) routed.set(parseIPv4(address), o.metadata.name);
  }
  return routed;
}

/** The duplicates (problems) and the reports not compared (notes) of every `blocks` MacvlanNet. */
export function blockConflicts(input: ConflictInput): { duplicates: string[]; notes: string[] } {
  const duplicates: string[] = [];
  const notes: string[] = [];
  const routed = nodesRoutedBy(input.objects, input.statuses);
  for (const [id, o] of input.objects) {
    const spec = o.spec as MacvlanNet['spec'];
    if (!id.startsWith('MacvlanNet/') || spec.dockerIPAM !== 'blocks') continue;
    const name = o.metadata.name;
    const parts = (input.statuses.get(id)?.nodes ?? []) as MacvlanNodeStatus[];
    const { held, unreadable } = reportedOn(input, name, spec, parts);
    for (const node of unreadable) notes.push(`MacvlanNet "${name}": the report of node ${node} on the addresses its containers hold outside its Docker block does not decode; not compared`);
    if (!held.length) continue;
    for (const c of addressConflicts(held, holdersOf(input, name, spec, parts, routed))) duplicates.push(`macvlannet/${name} ${conflictText(c)} (docker run --ip outside its node's Docker block)`);
  }
  return { duplicates, notes };
}

function reportedOn(input: ConflictInput, name: string, spec: MacvlanNet['spec'], parts: MacvlanNodeStatus[]): { held: ReportedHolder[]; unreadable: string[] } {
  const held: ReportedHolder[] = [];
  const unreadable: string[] = [];
  for (const r of input.mvnReports) {
    const part = r.mvn === name ? parts.find((p) => p.name === r.node) : undefined;
    const ranges = part && outsideOwnBlocks(spec.subnet, [part.dockerRange, part.previousDockerRange], spec.gateway);
    if (!ranges) continue;
    const read = readOutsideBlock(r.report, ranges);
    if ('unreadable' in read) unreadable.push(r.node);
    else held.push(...read.held.map((h) => ({ node: r.node, ...h })));
  }
  return { held, unreadable };
}

function holdersOf(input: ConflictInput, name: string, spec: MacvlanNet['spec'], parts: MacvlanNodeStatus[], routed: Map<number, string>): SegmentHolder[] {
  const out: SegmentHolder[] = [];
  for (const p of parts) {
    for (const cidr of [p.dockerRange, p.previousDockerRange]) {
      try { if (cidr) out.push({ role: 'docker-block', node: p.name, cidr, range: cidrInterval(parseCidr(cidr)) }); } catch { /* a status value that does not parse holds nothing here */ }
    }
    if (p.shimAddress && isIPv4(p.shimAddress)) out.push({ role: 'shim', node: p.name, ip: parseIPv4(p.shimAddress) });
  }
  for (const c of input.claims) {
    if (c.type === 'macvlannets' && c.pool === name && c.space === 'addresses' && c.claim.owner.kind === 'ContainerNic') out.push({ role: 'nic', nic: c.claim.owner.name, ip: c.ip, ...(c.claim.node ? { node: c.claim.node } : {}) });
  }
  let subnet;
  try { subnet = [cidrInterval(parseCidr(spec.subnet))]; } catch { return out; }
  for (const [ip, node] of routed) if (contains(subnet, ip)) out.push({ role: 'node-address', node, ip });
  return out;
}
