// Rules that relate the fields of one object (a gateway inside its subnet, hostPrefix >= the
// pool's prefix...). Each rule names the spec fields it reads, so it runs whenever those
// decoded fine, even when other fields of the object did not: one run of xctl reports every
// problem instead of showing the cross-field ones only once the rest is fixed.
import { z } from 'zod';
import { reservedDockerNetworkWhy } from './docker-network.js';
import { cidrContains, cidrCovers, formatCidr, parseCidr, parseIPv4, type Cidr } from '../ip/ipv4.js';
import type { KindInfo } from './kinds.js';
import { containerIfNameWhy, hostLinkBridgeWhy } from './names.js';
import { clusterCidrWhy, macvlanPassthruWhy, macvlanSubnetWhy, reservedAddressWhy } from './rules.js';
import type { Kind } from './kinds.js';
import type { AnyObject, ClusterNetwork, ContainerNic, HostSubnet, MacvlanNet } from './types.js';
import type { FieldIssue, FieldPath } from './field-issue.js';

interface FieldRule<S> {
  /** the spec fields the rule reads: it runs only when every one of them decoded */
  needs: (keyof S & string)[];
  check(spec: S): FieldIssue[];
}

const rule = <S>(needs: (keyof S & string)[], check: (spec: S) => FieldIssue[]): FieldRule<S> => ({ needs, check });
const issue = (path: FieldPath, message: string): FieldIssue[] => [{ path, message }];

type CnSpec = ClusterNetwork['spec'];
type HsSpec = HostSubnet['spec'];
type NicSpec = ContainerNic['spec'];
type MvnSpec = MacvlanNet['spec'];

/**
 * An explicit spec.dockerNetwork that Docker keeps for itself is refused; one taken from
 * metadata.name is an object's rule, not its spec's (docker-network.ts, derivedDockerNetworkIssues).
 */
const dockerNetworkRule = <S extends { dockerNetwork?: string }>(): FieldRule<S> => rule<S>(['dockerNetwork'], (s) => {
  const why = s.dockerNetwork !== undefined ? reservedDockerNetworkWhy(s.dockerNetwork) : undefined;
  return why ? issue(['spec', 'dockerNetwork'], why) : [];
});

const CLUSTER_NETWORK_RULES: FieldRule<CnSpec>[] = [
  dockerNetworkRule<CnSpec>(),
  rule(['cidr'], (s) => {
    const bad = clusterCidrWhy(s.cidr);
    return bad ? issue(['spec', 'cidr'], bad) : [];
  }),
  rule(['cidr', 'hostPrefix'], (s) => {
    const prefix = parseCidr(s.cidr).prefix;
    return s.hostPrefix >= prefix ? [] : issue(['spec', 'hostPrefix'], `must be >= the prefix of cidr ${s.cidr} (/${prefix}): a host subnet cannot be larger than the pool`);
  }),
  rule(['cidr', 'reserved'], (s) => (s.reserved ?? []).flatMap((r, i) => insideIssues(['spec', 'reserved', i], r, parseCidr(s.cidr), 'cidr', s.cidr))),
];

const HOST_SUBNET_RULES: FieldRule<HsSpec>[] = [
  rule(['bridge'], (s) => {
    const why = s.bridge !== undefined ? hostLinkBridgeWhy(s.bridge) : undefined;
    return why ? issue(['spec', 'bridge'], why) : [];
  }),
  rule(['subnet', 'gateway'], (s) => {
    if (!s.gateway) return [];
    if (!s.subnet) return issue(['spec', 'gateway'], 'needs spec.subnet: a gateway can only be pinned together with the subnet it belongs to');
    return gatewayIssues(['spec', 'gateway'], s.gateway, parseCidr(s.subnet), s.subnet);
  }),
  rule(['subnet', 'dockerRange'], (s) => {
    if (!s.dockerRange) return [];
    if (!s.subnet) return issue(['spec', 'dockerRange'], 'needs spec.subnet: a dockerRange can only be pinned together with the subnet it belongs to');
    return insideIssues(['spec', 'dockerRange'], s.dockerRange, parseCidr(s.subnet), 'subnet', s.subnet);
  }),
];

const CONTAINER_NIC_RULES: FieldRule<NicSpec>[] = [
  rule(['ifName'], (s) => {
    const why = containerIfNameWhy(s.ifName);
    return why ? issue(['spec', 'ifName'], why) : [];
  }),
  rule(['network'], ({ network: n }) => {
    const set = [n.clusterNetwork, n.macvlanNet].filter((x) => x !== undefined).length;
    if (set === 1) return [];
    return issue(['spec', 'network'], set === 0 ? 'must name exactly one network: set clusterNetwork or macvlanNet' : 'must name exactly one network: clusterNetwork and macvlanNet are both set');
  }),
];

const MACVLAN_NET_RULES: FieldRule<MvnSpec>[] = [
  dockerNetworkRule<MvnSpec>(),
  rule(['subnet'], (s) => {
    const bad = macvlanSubnetWhy(s.subnet);
    return bad ? issue(['spec', 'subnet'], bad) : [];
  }),
  rule(['mode', 'parent', 'hostShim'], (s) => {
    const bad = macvlanPassthruWhy(s);
    return bad ? issue(['spec', bad.field], bad.message) : [];
  }),
  rule(['subnet', 'gateway'], (s) => (s.gateway ? gatewayIssues(['spec', 'gateway'], s.gateway, parseCidr(s.subnet), s.subnet) : [])),
  rule(['subnet', 'ipRange'], (s) => (s.ipRange ? insideIssues(['spec', 'ipRange'], s.ipRange, parseCidr(s.subnet), 'subnet', s.subnet) : [])),
  rule(['subnet', 'exclude'], (s) => (s.exclude ?? []).flatMap((e, i) => insideIssues(['spec', 'exclude', i], e, parseCidr(s.subnet), 'subnet', s.subnet))),
  // only Docker blocks are carved out: with xnet's IPAM plugin (the default) blockPrefix, even
  // its default of 28, does nothing, and a /29 segment is fine
  rule(['subnet', 'ipRange', 'blockPrefix', 'dockerIPAM'], (s) => {
    const pool = s.ipRange ? parseCidr(s.ipRange) : parseCidr(s.subnet);
    if (s.dockerIPAM !== 'blocks' || s.blockPrefix >= pool.prefix) return [];
    return issue(['spec', 'blockPrefix'], `must be >= /${pool.prefix}, the prefix of ${s.ipRange ? 'ipRange' : 'subnet'} ${formatCidr(pool)}: blocks are carved from it`);
  }),
  rule(['nodes'], (s) => {
    const seen = new Map<string, number>();
    return (s.nodes ?? []).flatMap((n, i) => {
      const first = seen.get(n.name);
      if (first === undefined) seen.set(n.name, i);
      return first === undefined ? [] : issue(['spec', 'nodes', i, 'name'], `node "${n.name}" is listed twice (also at spec.nodes[${first}])`);
    });
  }),
];

const RULES: Partial<Record<Kind, FieldRule<never>[]>> = {
  ClusterNetwork: CLUSTER_NETWORK_RULES as FieldRule<never>[],
  HostSubnet: HOST_SUBNET_RULES as FieldRule<never>[],
  ContainerNic: CONTAINER_NIC_RULES as FieldRule<never>[],
  MacvlanNet: MACVLAN_NET_RULES as FieldRule<never>[],
};

/** Cross-field rules of one (schema-valid) object. */
export function fieldRuleIssues(obj: AnyObject): FieldIssue[] {
  return (RULES[obj.kind] ?? []).flatMap((r) => r.check(obj.spec as never));
}

/**
 * Cross-field rules of an object that failed its schema: each spec field is decoded on its
 * own (defaults filled in), and a rule runs when every field it reads decoded.
 */
export function decodedFieldRuleIssues(info: KindInfo, raw: Record<string, unknown>): FieldIssue[] {
  const fields = specFields(info.schema);
  const spec = raw.spec;
  if (!fields || spec === null || typeof spec !== 'object' || Array.isArray(spec)) return [];
  const decoded: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(fields)) {
    const r = schema.safeParse((spec as Record<string, unknown>)[key]);
    if (r.success) decoded[key] = r.data;
  }
  const runs = (r: FieldRule<never>) => r.needs.every((k) => k in decoded);
  return (RULES[info.kind as Kind] ?? []).filter(runs).flatMap((r) => r.check(decoded as never));
}

/** The schemas of a kind's spec fields, by name. */
function specFields(kindSchema: z.ZodTypeAny): Record<string, z.ZodTypeAny> | undefined {
  if (!(kindSchema instanceof z.ZodObject)) return undefined;
  let spec: unknown = kindSchema.shape.spec;
  if (spec instanceof z.ZodDefault) spec = spec.unwrap();
  return spec instanceof z.ZodObject ? (spec.shape as Record<string, z.ZodTypeAny>) : undefined;
}

function gatewayIssues(path: FieldPath, gw: string, subnet: Cidr, subnetText: string): FieldIssue[] {
  const ip = parseIPv4(gw);
  if (!cidrContains(subnet, ip)) return [{ path, message: `${gw} is not inside subnet ${subnetText}` }];
  const reserved = reservedAddressWhy(subnet, ip);
  return reserved ? [{ path, message: `${gw} is the ${reserved} address of ${subnetText}; use a host address` }] : [];
}

function insideIssues(path: FieldPath, inner: string, outer: Cidr, outerName: string, outerText: string): FieldIssue[] {
  return cidrCovers(outer, parseCidr(inner)) ? [] : [{ path, message: `${inner} is not inside ${outerName} ${outerText}` }];
}
