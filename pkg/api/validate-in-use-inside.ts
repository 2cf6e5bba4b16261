// A MacvlanNet edit (dockerIPAM: xnet) that makes an address a container uses inside the range
// its gateway, or its subnet's network or broadcast address. The controller's status lists such
// an address among the node's `addresses` (pre-claimed for its IPAM plugin), not telling it from
// one at hand; the node's own IPAM report (`ipam.assigned`, ./ipam-report.ts, under the
// node's status key) tells. Refused at apply on the edited field, naming the node and the
// address, as validate-kept-outside.ts refuses it for an address kept outside the range (whose
// rule this shares). Reports are untrusted: one that does not decode, or is about an earlier
// object of the name, is ignored, and only an address the controller's status lists as that
// node's counts, so that no node blocks an edit with addresses that are not its own. apply reads
// only the reports it needs (inUseReportsToRead): of the nodes holding an address the edit lands on.
import { decodeReport } from './ipam-report.js';
import { edgeIssues, landedAddresses, type Entry, type HeldAddress, type KeptIssue } from './validate-kept-outside.js';
import type { AnyObject, MacvlanNet } from './types.js';

/** MacvlanNet name -> node -> that node's own status of it (as the store decodes it; untrusted). */
export type NodeReports = ReadonlyMap<string, ReadonlyMap<string, unknown>>;

/** The most nodes whose reports one MacvlanNet's edit reads (an address is claimed for one node). */
export const MAX_REPORTS_READ = 16;

/** Each node the controller's status lists, with the addresses it pre-claimed for it. */
function nodeAddresses(m: MacvlanNet): Map<string, Set<string>> {
  const nodes = m.status?.nodes as unknown;
  const out = new Map<string, Set<string>>();
  if (!Array.isArray(nodes)) return out;
  for (const n of nodes as Array<{ name?: unknown; addresses?: unknown }>) {
    if (typeof n?.name !== 'string' || !Array.isArray(n.addresses)) continue;
    const mine = out.get(n.name) ?? new Set<string>();
    for (const ip of n.addresses) if (typeof ip === 'string') mine.add(ip);
    out.set(n.name, mine);
  }
  return out;
}

const usesXnetIpam = (m: MacvlanNet) => (m.spec.dockerIPAM ?? 'xnet') === 'xnet';

/** Which nodes' reports apply needs, per edited MacvlanNet: those holding an address the edit newly lands on. */
export function inUseReportsToRead(batch: AnyObject[], existing: AnyObject[]): Array<{ name: string; nodes: string[] }> {
  const stored = new Map(existing.filter((o) => o.kind === 'MacvlanNet').map((o) => [o.metadata.name, o as MacvlanNet]));
  return batch.flatMap((o) => {
    const old = o.kind === 'MacvlanNet' ? stored.get(o.metadata.name) : undefined;
    if (!old || !usesXnetIpam(old)) return [];
    const landed = landedAddresses(o as MacvlanNet, old);
    const nodes = [...nodeAddresses(old)].filter(([, ips]) => landed.some((ip) => ips.has(ip))).map(([n]) => n);
    return nodes.length ? [{ name: o.metadata.name, nodes: nodes.slice(0, MAX_REPORTS_READ) }] : [];
  });
}

/** The addresses a node's report says its containers use, if it decodes and is about this object. */
function assignedOf(m: MacvlanNet, report: unknown): string[] {
  const st = report as { objectUid?: unknown; ipam?: unknown } | null;
  if (typeof st !== 'object' || st === null) return [];
  if (typeof st.objectUid === 'string' && m.metadata.uid && st.objectUid !== m.metadata.uid) return [];
  return decodeReport(st.ipam)?.assigned.map((a) => a.ip) ?? [];
}

/** The node and address of each container address inside the range: reported by the node, and that node's as the controller's status says. */
function inUseInside(m: MacvlanNet, reports: NodeReports): HeldAddress[] {
  const byNode = reports.get(m.metadata.name);
  if (!byNode || !usesXnetIpam(m)) return [];
  return [...nodeAddresses(m)].flatMap(([node, mine]) => {
    const report = byNode.get(node);
    return report === undefined ? [] : assignedOf(m, report).filter((ip) => mine.has(ip)).map((ip) => ({ node, ip }));
  });
}

/** Each edited MacvlanNet of the batch, against the addresses its nodes report their containers use. */
export function inUseInsideIssues(m: { all: Entry[] }, existing: AnyObject[], reports: NodeReports = new Map()): KeptIssue[] {
  if (!reports.size) return [];
  return edgeIssues(m, existing, (old) => inUseInside(old, reports), (name) => ({ verb: 'uses', where: `inside the range of MacvlanNet "${name}" (the node's IPAM report)` }));
}
