// Pure parsers of `ip -json` output into ./types.ts values.
import type { Addr, Link, Route, Rule } from './types.js';
import { DataplaneError } from '../errors.js';
import { rtName } from './rt-names.js';

/** `ip` printed what its reader cannot take (a format of another iproute2). */
export class IpOutputError extends DataplaneError {
  constructor(message: string) { super('IpOutputUnreadable', message); }
}

interface RawLink {
  ifindex: number; ifname: string; flags?: string[]; mtu?: number; master?: string; address?: string;
  link?: string; link_index?: number; link_netnsid?: number; promiscuity?: number; ifalias?: string;
  linkinfo?: { info_kind?: string; info_data?: { mode?: string; id?: number } };
}

export function parseLinks(raw: unknown): Link[] {
  return (raw as RawLink[]).map((l) => {
    const flags = l.flags ?? [];
    const link: Link = {
      ifindex: l.ifindex,
      name: l.ifname,
      mac: (l.address ?? '').toLowerCase(),
      mtu: l.mtu ?? 0,
      up: flags.includes('UP'),
      promisc: flags.includes('PROMISC'),
    };
    if (l.linkinfo?.info_kind) link.kind = l.linkinfo.info_kind;
    if (l.master) link.master = l.master;
    if (l.link_index !== undefined) link.linkIndex = l.link_index;
    if (l.link) link.parent = l.link;
    if (l.link_netnsid !== undefined) link.linkNetnsId = l.link_netnsid;
    if (l.ifalias) link.alias = l.ifalias;
    if (link.kind === 'macvlan' && l.linkinfo?.info_data?.mode) link.macvlanMode = l.linkinfo.info_data.mode;
    if (link.kind === 'vlan' && l.linkinfo?.info_data?.id !== undefined) link.vlanId = l.linkinfo.info_data.id;
    return link;
  });
}

interface RawAddrLink { ifname: string; addr_info?: Array<{ family: string; local: string; prefixlen: number }> }

/** The addresses of `families` (IPv4 only unless told: the planners compare IPv4 CIDRs). */
export function parseAddrs(raw: unknown, families: readonly string[] = ['inet']): Addr[] {
  const out: Addr[] = [];
  for (const l of raw as RawAddrLink[]) {
    for (const a of l.addr_info ?? []) {
      if (families.includes(a.family)) out.push({ dev: l.ifname, cidr: `${a.local}/${a.prefixlen}` });
    }
  }
  return out;
}

interface RawHop { gateway?: string; dev?: string }
interface RawRoute extends RawHop { dst: string; protocol?: string | number; table?: string | number; scope?: string | number; prefsrc?: string; metric?: number; nexthops?: RawHop[] }

/** Routes of `ip -Numeric -json route show`, the kernel's protocols, scopes and tables by name (./rt-names.ts). */
export function parseRoutes(raw: unknown): Route[] {
  return (raw as RawRoute[]).map((r) => {
    const route: Route = { dst: r.dst, proto: rtName('protocol', r.protocol ?? 'boot') };
    if (r.gateway) route.via = r.gateway;
    if (r.dev) route.dev = r.dev;
    if (r.table !== undefined && r.table !== '') route.table = rtName('table', r.table);
    if (r.scope !== undefined && r.scope !== '') route.scope = rtName('scope', r.scope);
    if (r.prefsrc) route.prefsrc = r.prefsrc;
    if (typeof r.metric === 'number' && r.metric > 0) route.metric = r.metric;
    return route;
  });
}

/**
 * Routes of `ip -details -json route show`, as parseRoutes reads them without `-details`: ip
 * prints the scope of every route then, where it leaves out "global" (the universe scope)
 * otherwise. (Its other additions, "type" and an explicit "boot" protocol, change nothing here.)
 */
export function parseDetailedRoutes(raw: unknown): Route[] {
  return parseRoutes(raw).map((r) => {
    if (r.scope !== 'global') return r;
    const { scope: _global, ...rest } = r;
    return rest;
  });
}

/**
 * The outputs of an `ip -json -batch` of `count` show commands: one JSON value per line, in
 * order. Anything else (another count, a line that is not JSON) is refused, not guessed at.
 */
export function batchJson(out: string, count: number, where: string): unknown[] {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== count) throw new IpOutputError(`ip -batch in ${where} printed ${lines.length} JSON lines, not ${count}`);
  return lines.map((l) => {
    try { return JSON.parse(l) as unknown; } catch (e) { throw new IpOutputError(`ip -batch in ${where} printed a line that is not JSON: ${(e as Error).message}`); }
  });
}

/**
 * Routes as parseRoutes reads them, but a multipath route once per next hop, with that hop's
 * device and gateway: which links the host routes through (a multipath route has no `dev` of
 * its own, and `ip route show dev X` leaves it out).
 */
export function parseRouteHops(raw: unknown): Route[] {
  return (raw as RawRoute[]).flatMap((r) => {
    const [route] = parseRoutes([r]);
    if (!r.nexthops?.length) return [route];
    return r.nexthops.map((h) => ({ ...route, ...(h.gateway ? { via: h.gateway } : {}), ...(h.dev ? { dev: h.dev } : {}) }));
  });
}

interface RawRule { priority?: number; iif?: unknown; oif?: unknown; not?: unknown; table?: unknown; goto?: unknown; action?: unknown }

/** What a rule does, as `ip rule show` says it: "lookup 100", "goto 32766", "blackhole". */
function ruleAction(r: RawRule): string {
  if (r.table !== undefined) return `lookup ${typeof r.table === 'string' || typeof r.table === 'number' ? rtName('table', r.table) : String(r.table)}`;
  if (r.goto !== undefined) return `goto ${String(r.goto)}`;
  return r.action !== undefined ? String(r.action) : 'unknown action';
}

/**
 * The rules of `ip -j -4|-6 rule show` that name a link (`iif`, `oif`); the rest (the kernel's
 * own local/main/default lookups, rules on addresses or marks) say nothing of any link.
 */
export function parseRules(raw: unknown, family: Rule['family']): Rule[] {
  const out: Rule[] = [];
  for (const r of raw as RawRule[]) {
    const iif = typeof r.iif === 'string' ? r.iif : undefined;
    const oif = typeof r.oif === 'string' ? r.oif : undefined;
    if (iif === undefined && oif === undefined) continue;
    out.push({
      family, priority: Number(r.priority ?? 0), action: ruleAction(r),
      ...(iif !== undefined ? { iif } : {}), ...(oif !== undefined ? { oif } : {}), ...('not' in r ? { not: true as const } : {}),
    });
  }
  return out;
}
