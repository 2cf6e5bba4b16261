// Typed views of what `ip -json` prints. Only the fields xnet decides on are kept, so the
// planner's inputs stay small and its tests readable.

/** Routes xnet installs carry this protocol number; xnet deletes no route without it. */
export const XNET_RT_PROTO = 76;

export interface Link {
  ifindex: number;
  name: string;
  /** veth/macvlan/bridge/vlan...; undefined for plain devices */
  kind?: string;
  /** name of the bridge this link is enslaved to */
  master?: string;
  /** for veth: the peer's ifindex (in the peer's namespace); for macvlan/vlan: the parent's */
  linkIndex?: number;
  /** the lower device's name when it lives in the same namespace */
  parent?: string;
  /** set when the peer/parent lives in another namespace */
  linkNetnsId?: number;
  mac: string;
  mtu: number;
  up: boolean;
  promisc: boolean;
  /** ifalias: xnet marks the links it makes with one (agent/planner/names.ts nicAlias) */
  alias?: string;
  macvlanMode?: string;
  vlanId?: number;
}

export interface Addr {
  dev: string;
  /** "10.76.1.84/24" */
  cidr: string;
}

export interface Route {
  /** "10.76.2.0/24", "10.76.1.5/32" or "default" */
  dst: string;
  via?: string;
  dev?: string;
  /** the kernel's name of the protocol ("kernel", "boot", "static": ./rt-names.ts), else its number ("76"), whatever rt_protos names it */
  proto: string;
  table?: string;
  scope?: string;
  /** the local source address of a connected route: one of the host's own addresses */
  prefsrc?: string;
  /** the route's priority, when not 0 (`ip` prints none then): of two routes to one destination the lower wins */
  metric?: number;
}

/**
 * A policy routing rule (`ip rule`), as far as it names links: a rule with `iif` or `oif`
 * (negated or not, the device present or not) makes the host rely on a link of that name.
 */
export interface Rule {
  family: 'inet' | 'inet6';
  priority: number;
  iif?: string;
  oif?: string;
  /** `not`: the rule matches packets that do not come in or go out there */
  not?: true;
  /** what it does: "lookup 100", "goto 32766", "blackhole"... */
  action: string;
}

/** One line naming the rule for a person: "ip -6 rule 32765: iif eth1 lookup 100". */
export function describeRule(r: Rule): string {
  const dev = [r.iif !== undefined ? `iif ${r.iif}` : '', r.oif !== undefined ? `oif ${r.oif}` : ''].filter(Boolean).join(' ');
  return `ip${r.family === 'inet6' ? ' -6' : ''} rule ${r.priority}: ${r.not ? 'not ' : ''}${dev} ${r.action}`.replace(/\s+/g, ' ').trim();
}

export function isXnetRoute(r: Route): boolean {
  return r.proto === String(XNET_RT_PROTO);
}

/** Host routes print as a bare address; the planner compares CIDRs. */
export function normalizeDst(dst: string): string {
  if (dst === 'default' || dst.includes('/')) return dst;
  return `${dst}/32`;
}
