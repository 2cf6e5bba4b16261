// No NAT inside the cluster: a nat rule ahead of Docker's MASQUERADE keeps the source
// address of cluster->cluster traffic, and a filter rule lets routed cluster traffic reach
// the bridge (Docker's FORWARD policy is DROP for anything it did not publish).
import type { ChainDump } from '../../netlink/iptables.js';
import type { Op, Plan } from './ops.js';

export const NAT_CHAIN = 'XNET-POSTROUTING';
export const FWD_CHAIN = 'XNET-FORWARD';

export interface DesiredNat {
  /** every ClusterNetwork CIDR: traffic between any two of them is cluster traffic */
  clusterCidrs: string[];
  /** local bridges: same-bridge traffic stays under Docker's ICC setting */
  bridges: string[];
}

export interface ObservedNat {
  nat: ChainDump;
  filter: ChainDump;
  ipForward: string;
}

export function natRules(d: DesiredNat): string[] {
  const cidrs = [...new Set(d.clusterCidrs)].sort();
  return cidrs.flatMap((s) => cidrs.map((t) => `-s ${s} -d ${t} -j ACCEPT`));
}

export function forwardRules(d: DesiredNat): string[] {
  const keepIcc = [...new Set(d.bridges)].sort().map((b) => `-i ${b} -o ${b} -j RETURN`);
  return [...keepIcc, ...natRules(d)];
}

const JUMP_NAT = `-j ${NAT_CHAIN}`;
const JUMP_FWD = `-j ${FWD_CHAIN}`;

function chainLines(chain: string, rules: string[]): string[] {
  // Declaring an existing user chain under --noflush empties it, so this rewrites it whole.
  return [`:${chain} - [0:0]`, ...rules.map((r) => `-A ${chain} ${r}`)];
}

function sameList(a: string[] | undefined, b: string[]): boolean {
  return !!a && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The jump must sit above every rule whose target could decide first (`targets`). */
function jumpLines(builtin: string, jump: string, rules: string[] | undefined, blocking: RegExp): string[] {
  const list = rules ?? [];
  const at = list.indexOf(jump);
  const firstBlocking = list.findIndex((r) => blocking.test(r));
  if (at >= 0 && (firstBlocking < 0 || at < firstBlocking)) return [];
  return [...(at >= 0 ? [`-D ${builtin} ${jump}`] : []), `-I ${builtin} 1 ${jump}`];
}

export function planNat(d: DesiredNat, o: ObservedNat): Plan {
  const ops: Op[] = [];
  if (o.ipForward !== '1') ops.push({ op: 'sysctl.set', values: { 'net.ipv4.ip_forward': '1' } });
  const nat: string[] = [];
  const want = natRules(d);
  if (!sameList(o.nat.rules[NAT_CHAIN], want) || !o.nat.chains.includes(NAT_CHAIN)) nat.push(...chainLines(NAT_CHAIN, want));
  nat.push(...jumpLines('POSTROUTING', JUMP_NAT, o.nat.rules.POSTROUTING, /-j (MASQUERADE|SNAT)( |$)/));
  if (nat.length) ops.push({ op: 'iptables.restore', table: 'nat', lines: nat });
  const filter: string[] = [];
  const wantF = forwardRules(d);
  if (!sameList(o.filter.rules[FWD_CHAIN], wantF) || !o.filter.chains.includes(FWD_CHAIN)) filter.push(...chainLines(FWD_CHAIN, wantF));
  filter.push(...jumpLines('FORWARD', JUMP_FWD, o.filter.rules.FORWARD, /-j (DROP|REJECT|DOCKER)( |$)/));
  if (filter.length) ops.push({ op: 'iptables.restore', table: 'filter', lines: filter });
  return { ops, problems: [] };
}
