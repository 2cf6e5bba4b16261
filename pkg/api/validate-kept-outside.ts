// A MacvlanNet edit that makes an address a container keeps outside the range since an earlier
// edit (status.nodes[].outsideRange) its gateway, or its subnet's network or broadcast address.
// The controller keeps that claim for the node as long as the container uses the address
// (controller/macvlan-reclaim.ts keptInUse, inside the subnet) and the node's shim routes it, so
// the segment's gateway or broadcast address would be a container. Refused at apply on the
// edited field, naming the node and the address, as validate-stranded-nics.ts refuses a gateway
// moved onto a NIC's address. Only what the edit breaks is refused (not what the stored spec
// already had). Addresses containers use inside the range, which the status does not tell from
// those a node holds at hand (its `addresses`), are judged from the nodes' IPAM reports by
// validate-in-use-inside.ts, with the edge rule shared here (edgeIssues).
import { formatIPv4, lastAddress, parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { hostSubnetDefaults, reservedAddressWhy } from './rules.js';
import type { AnyObject, MacvlanNet } from './types.js';

export interface Entry { obj: AnyObject; batchIndex?: number }
export interface KeptIssue { index: number; path: (string | number)[]; message: string }

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

/** An address a container on a node holds, and how a message says so (`keeps ... outside the range ...`). */
export interface HeldAddress { node: string; ip: string }
export interface Holding { verb: string; where: string }

/** What the edit from `old` to `next` newly makes of `ip`: the gateway, or the subnet's network or broadcast address. */
function landing(next: MacvlanNet, old: MacvlanNet, ip: string): { gateway: true } | { edge: string } | undefined {
  if (gatewayOf(next.spec) === ip && gatewayOf(old.spec) !== ip) return { gateway: true };
  const edge = reservedOf(next.spec, ip);
  return edge && !reservedOf(old.spec, ip) ? { edge } : undefined;
}

/** The issue, if the edit from `old` to `next` lands the gateway or the subnet's edge on held address `k` (shared with validate-in-use-inside.ts). */
function landingIssue(index: number, next: MacvlanNet, old: MacvlanNet, k: HeldAddress, how: Holding): KeptIssue | undefined {
  const l = landing(next, old, k.ip);
  if (!l) return undefined;
  if ('gateway' in l) {
    return { index, path: ['spec', next.spec.gateway ? 'gateway' : 'subnet'], message: `the new gateway ${k.ip} is the address a container on node ${k.node} ${how.verb} ${how.where}; remove that container first, or choose another gateway` };
  }
  return { index, path: ['spec', 'subnet'], message: `${k.ip} would be the ${l.edge} address of ${next.spec.subnet}, and a container on node ${k.node} ${how.verb} it ${how.where}; remove that container first, or choose another subnet` };
}

/** The addresses the edit from `old` to `next` newly makes the gateway, network or broadcast address. */
export function landedAddresses(next: MacvlanNet, old: MacvlanNet): string[] {
  const subnet = orUndefined(() => parseCidr(next.spec.subnet));
  const gw = gatewayOf(next.spec);
  const candidates = [...(gw ? [gw] : []), ...(subnet ? [subnet.base, lastAddress(subnet)].map(formatIPv4) : [])];
  return [...new Set(candidates)].filter((ip) => landing(next, old, ip));
}

/** Each edited MacvlanNet of the batch with its stored version: one issue per field, the first held address it lands on names the node. */
export function edgeIssues(m: { all: Entry[] }, existing: AnyObject[], heldOf: (old: MacvlanNet) => HeldAddress[], how: (name: string) => Holding): KeptIssue[] {
  const stored = new Map(existing.filter((o) => o.kind === 'MacvlanNet').map((o) => [o.metadata.name, o as MacvlanNet]));
  const out: KeptIssue[] = [];
  for (const e of m.all) {
    const old = e.batchIndex === undefined || e.obj.kind !== 'MacvlanNet' ? undefined : stored.get(e.obj.metadata.name);
    if (!old) continue;
    const seen = new Set<string>();
    for (const k of heldOf(old)) {
      const issue = landingIssue(e.batchIndex!, e.obj as MacvlanNet, old, k, how(e.obj.metadata.name));
      if (issue && !seen.has(issue.path.join('.'))) { seen.add(issue.path.join('.')); out.push(issue); }
    }
  }
  return out;
}

/** Each edited MacvlanNet of the batch, against the addresses its stored status keeps outside the range. */
export function keptOutsideIssues(m: { all: Entry[] }, existing: AnyObject[]): KeptIssue[] {
  return edgeIssues(m, existing, keptOutside, (name) => ({ verb: 'keeps', where: `outside the range of MacvlanNet "${name}" (status.nodes[].outsideRange; its claim stays until the container is removed)` }));
}
