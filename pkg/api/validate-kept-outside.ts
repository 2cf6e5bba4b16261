// A MacvlanNet edit that makes an address a container keeps outside the range since an earlier
// edit (status.nodes[].outsideRange) its gateway, or its subnet's network or broadcast address.
// The controller keeps that claim for the node as long as the container uses the address
// (controller/macvlan-reclaim.ts keptInUse, inside the subnet) and the node's shim routes it, so
// the segment's gateway or broadcast address would be a container. Refused at apply on the
// edited field, naming the node and the address, as validate-stranded-nics.ts refuses a gateway
// moved onto a NIC's address. Only what the edit breaks is refused (not what the stored spec
// already had). Addresses in use inside the range are not judged here: the MacvlanNet's status
// does not tell them from those a node holds at hand (its `addresses`).
import { parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { hostSubnetDefaults, reservedAddressWhy } from './rules.js';
import type { AnyObject, MacvlanNet } from './types.js';

interface Entry { obj: AnyObject; batchIndex?: number }
interface KeptIssue { index: number; path: (string | number)[]; message: string }

/** A stored status is untrusted, and a spec may not parse yet (its own check says so). */
function orUndefined<T>(f: () => T): T | undefined {
  try { return f(); } catch { return undefined; }
}

/** The node and address of each claim kept outside the range, as the stored status lists them. */
function keptOutside(m: MacvlanNet): Array<{ node: string; ip: string }> {
  const nodes = (m.status?.nodes ?? []) as Array<{ name?: unknown; outsideRange?: unknown }>;
  if (!Array.isArray(nodes)) return [];
  return nodes.flatMap((n) => (typeof n?.name === 'string' && Array.isArray(n.outsideRange)
    ? n.outsideRange.filter((ip): ip is string => typeof ip === 'string' && orUndefined(() => parseIPv4(ip)) !== undefined).map((ip) => ({ node: n.name as string, ip }))
    : []));
}

/** The gateway a spec gives its segment: spec.gateway, else the subnet's first address (Docker's default). */
const gatewayOf = (s: MacvlanNet['spec']) => s.gateway ?? orUndefined(() => hostSubnetDefaults(s.subnet).gateway);

/** network/broadcast, if ip is that address of the spec's subnet. */
const reservedOf = (s: MacvlanNet['spec'], ip: string) => orUndefined(() => reservedAddressWhy(parseCidr(s.subnet), parseIPv4(ip)));

/** The issue, if the edit from `old` to `next` lands the gateway or the subnet's edge on kept address `k`. */
function keptIssue(index: number, next: MacvlanNet, old: MacvlanNet, k: { node: string; ip: string }): KeptIssue | undefined {
  const where = `outside the range of MacvlanNet "${next.metadata.name}" (status.nodes[].outsideRange; its claim stays until the container is removed)`;
  const gw = gatewayOf(next.spec);
  if (gw === k.ip && gatewayOf(old.spec) !== k.ip) {
    return { index, path: ['spec', next.spec.gateway ? 'gateway' : 'subnet'], message: `the new gateway ${k.ip} is the address a container on node ${k.node} keeps ${where}; remove that container first, or choose another gateway` };
  }
  const edge = reservedOf(next.spec, k.ip);
  if (edge && !reservedOf(old.spec, k.ip)) {
    return { index, path: ['spec', 'subnet'], message: `${k.ip} would be the ${edge} address of ${next.spec.subnet}, and a container on node ${k.node} keeps it ${where}; remove that container first, or choose another subnet` };
  }
  return undefined;
}

/** Each edited MacvlanNet of the batch, against the addresses its stored status keeps outside the range. */
export function keptOutsideIssues(m: { all: Entry[] }, existing: AnyObject[]): KeptIssue[] {
  const stored = new Map(existing.filter((o) => o.kind === 'MacvlanNet').map((o) => [o.metadata.name, o as MacvlanNet]));
  const out: KeptIssue[] = [];
  for (const e of m.all) {
    const old = e.batchIndex === undefined || e.obj.kind !== 'MacvlanNet' ? undefined : stored.get(e.obj.metadata.name);
    if (!old) continue;
    const seen = new Set<string>();
    for (const k of keptOutside(old)) {
      const issue = keptIssue(e.batchIndex!, e.obj as MacvlanNet, old, k);
      // one issue per field: the first kept address it lands on names the node
      if (issue && !seen.has(issue.path.join('.'))) { seen.add(issue.path.join('.')); out.push(issue); }
    }
  }
  return out;
}
