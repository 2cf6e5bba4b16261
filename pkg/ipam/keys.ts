// Claim keys under <prefix>/ipam/. One key per claimed block or address, so etcd's
// create-if-absent is the uniqueness proof. Addresses are written as zero-padded dotted
// quads ("010.076.001.084") so that keys sort in address order and a block's addresses form
// one key range (a ranged compare can then prove a block empty).
import { z } from 'zod';
import { blockOf, cidrContains, formatIPv4, IpParseError, parseCidr, parseIPv4, type Cidr } from '../ip/ipv4.js';

export type PoolType = 'clusternetworks' | 'macvlannets';
export type ClaimSpace = 'blocks' | 'addresses';
/** node-pool: pre-claimed for one node's Docker IPAM plugin; external: answered an ARP probe, someone outside xnet uses it */
export type ClaimRole = 'hostsubnet' | 'nic' | 'docker-block' | 'shim' | 'node-pool' | 'external';

export interface ClaimOwner { kind: 'HostSubnet' | 'ContainerNic' | 'MacvlanNet'; name: string; uid: string }

export interface Claim {
  owner: ClaimOwner;
  role: ClaimRole;
  /** the block (cidr) or address (ip) this claim holds */
  cidr?: string;
  ip?: string;
  /** for MacvlanNet per-node claims */
  node?: string;
  /** external: when the controller marked it (Unix seconds); absent in a mark of a controller before this field */
  markedAt?: number;
}

/** A claim's role, as claims and release marks (release-mark.ts) hold it. */
export const claimRoleSchema = z.enum(['hostsubnet', 'nic', 'docker-block', 'shim', 'node-pool', 'external']);

/** What a claim key must hold; anything else is reported by `xctl ipam check`, never trusted. */
export const claimSchema = z.object({
  owner: z.object({ kind: z.enum(['HostSubnet', 'ContainerNic', 'MacvlanNet']), name: z.string().min(1), uid: z.string().min(1) }),
  role: claimRoleSchema,
  cidr: z.string().optional(),
  ip: z.string().optional(),
  node: z.string().optional(),
  // a time that is no count is as none (the agent then counts from when it first sees the mark): the claim still holds
  markedAt: z.number().int().min(0).optional().catch(undefined),
}).superRefine((c, ctx) => {
  // what the controller computes with: a block claim's cidr, any other claim's ip
  const block = c.role === 'hostsubnet' || c.role === 'docker-block';
  const [field, value] = block ? ['cidr', c.cidr] as const : ['ip', c.ip] as const;
  try {
    if (value === undefined) throw new Error(`a ${c.role} claim needs ${field}`);
    if (block) parseCidr(value); else parseIPv4(value);
  } catch (e) {
    ctx.addIssue({ code: 'custom', path: [field], message: e instanceof IpParseError ? e.why : (e as Error).message });
  }
});

/**
 * The claim in `value`, or why it is not one. `at`, the key's space and address: a claim must be
 * of that space's roles and hold that address (a block claim's cidr contains its key's base: a
 * HostSubnet's subnet of several blocks has one key per block). Readers take a block's extent
 * from `cidr` and an address claim's from its key or `ip`: a `nic` claim under blocks/ (no cidr)
 * stopped its MacvlanNet and every NIC of it for good, and a shim's `ip` other than its key's
 * was configured on the host while the address was handed to a NIC.
 */
export function decodeClaim(value: string, at?: { space: ClaimSpace; ip: number }): { claim: Claim } | { error: string } {
  let raw: unknown;
  try { raw = JSON.parse(value); } catch { return { error: 'the claim is not readable JSON' }; }
  const r = claimSchema.safeParse(raw);
  if (!r.success) return { error: `the claim does not decode: ${r.error.issues.map((i) => `${i.path.join('.') || '(claim)'} ${i.message}`).join('; ')}` };
  const claim = r.data as Claim;
  const misfit = at && claimMisfit(claim, at.space, at.ip);
  return misfit ? { error: `the claim does not decode: ${misfit}` } : { claim };
}

/** Why a decoded claim cannot be the one its key names, if it cannot (decodeClaim). */
function claimMisfit(c: Claim, space: ClaimSpace, ip: number): string | undefined {
  const block = c.role === 'hostsubnet' || c.role === 'docker-block';
  if (block !== (space === 'blocks')) return `a ${c.role} claim is not kept under ${space}/`;
  const holds = block ? blockClaimFits(c.role, parseCidr(c.cidr!), ip) : parseIPv4(c.ip!) === ip;
  return holds ? undefined : `${block ? `cidr ${c.cidr}` : `ip ${c.ip}`} is not the address its key names (${formatIPv4(ip)})`;
}

/** Shortest hostPrefix a ClusterNetwork has (its schema): the largest block a HostSubnet claim is kept at. */
const MIN_HOST_PREFIX = 8;

/**
 * Whether a block claim of `cidr` can be kept at key `base`: it holds the base (a Docker
 * block; a HostSubnet of one or more hostPrefix blocks, one key per block), or, a HostSubnet's
 * only, it lies inside a block starting there: a pinned spec.subnet smaller than its
 * ClusterNetwork's hostPrefix (10.76.1.128/25) is kept at its block's base (10.76.1.0), which
 * its slot is read from (hostsubnet-slots.ts); the hostPrefix is not in the claim, so which
 * enclosing block is its own is judged where the ClusterNetwork is known (pinnedBlockMisfit).
 */
function blockClaimFits(role: ClaimRole, cidr: Cidr, base: number): boolean {
  if (cidrContains(cidr, base)) return true;
  if (role !== 'hostsubnet') return false;
  for (let p = cidr.prefix - 1; p >= MIN_HOST_PREFIX; p--) if (blockOf(cidr.base, p).base === base) return true;
  return false;
}

/**
 * Why a HostSubnet block claim of `cidr` at key `base` is not where the controller keeps it
 * under a ClusterNetwork of `hostPrefix`, or undefined when it is. decodeClaim lets a claim lie
 * inside any block starting at its key (the hostPrefix is not in the claim); the controller keeps
 * a pinned subnet smaller than the hostPrefix at the base of its own hostPrefix block only. One
 * kept at another enclosing block's base (a hand-written claim: 10.85.1.128/25 at 10.0.0.0)
 * named a slot far from the subnet as its owner's. Readers that know the ClusterNetwork
 * (the controller's model, `xctl ipam check`) hold such a claim unreadable.
 */
export function pinnedBlockMisfit(role: ClaimRole, cidrText: string, base: number, hostPrefix: number): string | undefined {
  if (role !== 'hostsubnet') return undefined;
  let cidr: Cidr;
  try { cidr = parseCidr(cidrText); } catch { return undefined; }
  if (cidrContains(cidr, base)) return undefined;
  const own = blockOf(cidr.base, hostPrefix).base;
  if (cidr.prefix > hostPrefix && own === base) return undefined;
  return `cidr ${cidrText} is not kept at the base of its own /${hostPrefix} block (${formatIPv4(own)}), the ClusterNetwork's hostPrefix, but at ${formatIPv4(base)}`;
}

/** What a HostSubnet block claim is judged by: its ClusterNetwork's hostPrefix, and when that network was created */
export interface BlockNetwork { hostPrefix: number; createRevision?: string }

/**
 * Whether a HostSubnet block claim whose key was made at `claimCreateRevision` is judged by the
 * hostPrefix of its ClusterNetwork as created at `networkCreateRevision` (pinnedBlockMisfit).
 * Every claim key the controller makes sits at a block of the hostPrefix of the network it was
 * made under, and it rewrites a claim only in place (adopted, kept for its node). One made before
 * this network was created (a hand-written HostSubnet's, which the network's delete leaves
 * alone, or one kept for its node across the delete: docs/controller.md) may sit at a block of
 * the hostPrefix of the one before, set anew when it was applied again: it is read as its
 * owner's, who releases or keeps it as before. Revisions not known: judged.
 */
export function judgedByHostPrefix(claimCreateRevision: string | undefined, networkCreateRevision: string | undefined): boolean {
  const claim = Number(claimCreateRevision);
  const network = Number(networkCreateRevision);
  return !(claim > 0 && network > 0 && claim < network);
}

/** Three digits per octet, so that keys sort by address: built without a detour through text (one per claim made). */
export function padIp(ip: number): string {
  const o = (shift: number) => {
    const v = (ip >>> shift) & 255;
    return v < 10 ? `00${v}` : v < 100 ? `0${v}` : String(v);
  };
  return `${o(24)}.${o(16)}.${o(8)}.${o(0)}`;
}

const PADDED = /^(\d{3})\.(\d{3})\.(\d{3})\.(\d{3})$/;

/**
 * The address of a claim key's last segment, only in the form padIp writes: another spelling of
 * it ("10.76.1.84", "0x0a.076.001.084") is another key of the same address, which the model,
 * keyed by address, took for the claim's own. Deleted, such a key took the real claim out of
 * the model with it: the address looked free, and every transaction that picked it failed on
 * the real key, for good (the pool's NICs planned with it got no address).
 */
export function unpadIp(s: string): number {
  // parsed without a detour through text (every claim event parses one)
  const m = PADDED.exec(s);
  const o = m ? [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])] : [];
  if (!m || o.some((x) => x > 255)) throw new IpParseError(s, 'not a claim key\'s address (three digits per octet, 010.076.001.084)');
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

export class IpamKeys {
  /** built once: every key the controller sees is tested against it */
  private readonly rootKey: string;
  constructor(readonly prefix: string = '/xnet') { this.rootKey = `${prefix}/ipam/`; }
  root(): string { return this.rootKey; }
  pool(type: PoolType, name: string): string { return `${this.root()}${type}/${name}/`; }
  space(type: PoolType, name: string, space: ClaimSpace): string { return `${this.pool(type, name)}${space}/`; }
  claim(type: PoolType, name: string, space: ClaimSpace, ip: number): string {
    return this.space(type, name, space) + padIp(ip);
  }
  /**
   * Where the release of an address claim is marked for its cooldown (release-mark.ts): next
   * to the pool's claims, under a lease, so that a controller started after the release knows it.
   */
  releaseMark(type: PoolType, name: string, ip: number): string { return `${this.pool(type, name)}${RELEASED}/${padIp(ip)}`; }
  /** Parses a claim key into its pool and the address it starts at. */
  parse(key: string): { type: PoolType; pool: string; space: ClaimSpace; ip: number } | undefined {
    const p = this.split(key);
    return p && (p.space === 'blocks' || p.space === 'addresses') ? { ...p, space: p.space } : undefined;
  }
  /** Parses a release mark's key (releaseMark) into its pool and address. */
  parseReleaseMark(key: string): { type: PoolType; pool: string; ip: number } | undefined {
    const p = this.split(key);
    return p?.space === RELEASED ? { type: p.type, pool: p.pool, ip: p.ip } : undefined;
  }
  private split(key: string): { type: PoolType; pool: string; space: string; ip: number } | undefined {
    if (!key.startsWith(this.rootKey)) return undefined;
    const [type, pool, space, addr, ...more] = key.slice(this.rootKey.length).split('/');
    if (more.length || !addr || (type !== 'clusternetworks' && type !== 'macvlannets')) return undefined;
    try { return { type, pool, space, ip: unpadIp(addr) }; } catch { return undefined; }
  }
}

/** The directory of a pool's release marks (IpamKeys.releaseMark): not a claim space. */
const RELEASED = 'released';
