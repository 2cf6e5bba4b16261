// Claim keys under <prefix>/ipam/. One key per claimed block or address, so etcd's
// create-if-absent is the uniqueness proof. Addresses are written as zero-padded dotted
// quads ("010.076.001.084") so that keys sort in address order and a block's addresses form
// one key range (a ranged compare can then prove a block empty).
import { formatIPv4, parseIPv4 } from '../ip/ipv4.js';

export type PoolType = 'clusternetworks' | 'macvlannets';
export type ClaimSpace = 'blocks' | 'addresses';
export type ClaimRole = 'hostsubnet' | 'nic' | 'docker-block' | 'shim';

export interface ClaimOwner { kind: 'HostSubnet' | 'ContainerNic' | 'MacvlanNet'; name: string; uid: string }

export interface Claim {
  owner: ClaimOwner;
  role: ClaimRole;
  /** the block (cidr) or address (ip) this claim holds */
  cidr?: string;
  ip?: string;
  /** for MacvlanNet per-node claims */
  node?: string;
}

export function padIp(ip: number): string {
  return formatIPv4(ip).split('.').map((o) => o.padStart(3, '0')).join('.');
}

export function unpadIp(s: string): number {
  return parseIPv4(s.split('.').map((o) => String(Number(o))).join('.'));
}

export class IpamKeys {
  constructor(readonly prefix: string = '/xnet') {}
  root(): string { return `${this.prefix}/ipam/`; }
  pool(type: PoolType, name: string): string { return `${this.root()}${type}/${name}/`; }
  space(type: PoolType, name: string, space: ClaimSpace): string { return `${this.pool(type, name)}${space}/`; }
  claim(type: PoolType, name: string, space: ClaimSpace, ip: number): string {
    return this.space(type, name, space) + padIp(ip);
  }
  /** Parses a claim key into its pool and the address it starts at. */
  parse(key: string): { type: PoolType; pool: string; space: ClaimSpace; ip: number } | undefined {
    if (!key.startsWith(this.root())) return undefined;
    const [type, pool, space, addr, ...more] = key.slice(this.root().length).split('/');
    if (more.length || !addr || (type !== 'clusternetworks' && type !== 'macvlannets') || (space !== 'blocks' && space !== 'addresses')) return undefined;
    try { return { type, pool, space, ip: unpadIp(addr) }; } catch { return undefined; }
  }
}
