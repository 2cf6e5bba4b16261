// IPv4 arithmetic on plain numbers (0..2^32-1). Parsing is delegated to ipaddr.js so that
// odd spellings ("010.1.1.1", "1.2.3") are rejected the way every other tool rejects them.
import ipaddr from 'ipaddr.js';
import { ValidationError } from '../errors.js';

export interface Cidr {
  /** network address as an unsigned 32-bit number */
  readonly base: number;
  readonly prefix: number;
}

export class IpParseError extends ValidationError {
  constructor(readonly input: string, readonly why: string) {
    super('InvalidAddress', `${JSON.stringify(input)}: ${why}`);
  }
}

/**
 * Addresses parsed lately: a controller's term start parses the same few ClusterNetwork CIDRs,
 * gateways and subnets thousands of times, and ipaddr.js's checks (regular expressions) were
 * a tenth of the HostSubnet checks' CPU. Only valid spellings are kept; bounded by clearing.
 */
const parsed = new Map<string, number>();
const MAX_PARSED = 4096;

export function parseIPv4(text: string): number {
  const hit = parsed.get(text);
  if (hit !== undefined) return hit;
  if (typeof text !== 'string' || !ipaddr.IPv4.isValidFourPartDecimal(text)) {
    const slip = typeof text === 'string' ? ipv4Slip(text) : '';
    throw new IpParseError(String(text), `not an IPv4 address in dotted-quad form${slip ? `; ${slip}` : ''}`);
  }
  const b = ipaddr.IPv4.parse(text).octets;
  const n = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  if (parsed.size >= MAX_PARSED) parsed.clear();
  parsed.set(text, n);
  return n;
}

/**
 * The usual slip behind text that is no dotted-quad address, or '': an IPv6 address, or an
 * octet with a leading zero, which inet_aton (ping, some scripts) reads as octal and others
 * as decimal, so the address it stands for depends on the reader.
 */
export function ipv4Slip(text: string): string {
  if (text.includes(':')) return 'IPv6 is not supported (every xnet address is IPv4)';
  const octets = text.split('.');
  if (octets.length !== 4 || !octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) return '';
  if (!octets.some((o) => o.length > 1 && o.startsWith('0'))) return '';
  return `an octet with a leading zero is octal to some tools (inet_aton reads 010 as 8): write ${octets.map(Number).join('.')} if that is what was meant`;
}

/** Sorts dotted IPv4 addresses by their value (`10.0.0.9` before `10.0.0.10`). */
export function byAddress(a: string, b: string): number {
  return parseIPv4(a) - parseIPv4(b);
}

export function isIPv4(text: string): boolean {
  try { parseIPv4(text); return true; } catch { return false; }
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function sizeOf(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

/** The prefix-sized block that holds ip (ip with its host bits cleared). */
export function blockOf(ip: number, prefix: number): Cidr {
  return { base: (ip & maskOf(prefix)) >>> 0, prefix };
}

/** Parses "a.b.c.d/p". With strict (the default) host bits must be zero, as in Docker and Kubernetes. */
export function parseCidr(text: string, strict = true): Cidr {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(typeof text === 'string' ? text : '');
  if (!m) throw new IpParseError(String(text), 'not a CIDR (expected a.b.c.d/prefix)');
  // the address first: an IPv6 one (fd00::/64) is that, not a prefix too long
  const addr = parseIPv4(m[1]);
  const prefix = Number(m[2]);
  if (prefix > 32) throw new IpParseError(text, 'prefix length must be 0..32');
  const { base } = blockOf(addr, prefix);
  if (strict && base !== addr) {
    throw new IpParseError(text, `host bits are set (did you mean ${formatIPv4(base)}/${prefix}?)`);
  }
  return { base, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

export function lastAddress(c: Cidr): number {
  return (c.base + sizeOf(c) - 1) >>> 0;
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.prefix)) >>> 0) === c.base;
}

/** True when inner lies completely inside outer. */
export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && cidrContains(outer, inner.base);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrCovers(a, b) || cidrCovers(b, a);
}

/** The index-th block of size `prefix` inside `within`. */
export function nthBlock(within: Cidr, prefix: number, index: number): Cidr {
  return { base: (within.base + index * 2 ** (32 - prefix)) >>> 0, prefix };
}

export function blockIndex(within: Cidr, block: Cidr): number {
  return (block.base - within.base) / 2 ** (32 - block.prefix);
}

export function blockCount(within: Cidr, prefix: number): number {
  return 2 ** (prefix - within.prefix);
}

/** Usable host addresses of a subnet: network and broadcast excluded for prefixes up to /30. */
export function hostRange(c: Cidr): { first: number; last: number } {
  if (c.prefix >= 31) return { first: c.base, last: lastAddress(c) };
  return { first: c.base + 1, last: lastAddress(c) - 1 };
}
