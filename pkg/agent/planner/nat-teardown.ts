// xnet's chains live only while the node needs them: with no local HostSubnet in a
// ClusterNetwork there is no rule to hold, and xnet's jumps and chains leave the host (as
// Calico's cali- chains and flannel's rules do). Only what xnet writes goes: its jump (the bare
// `-j XNET-...` line in the built-in chain, every copy) and its chain. A chain some other rule
// still refers to (an admin's jump into it) cannot be deleted: it is only emptied.
import type { ChainDump } from '../../netlink/iptables.js';
import { FWD_CHAIN, NAT_CHAIN, type DesiredNat, type ObservedNat } from './nat.js';
import type { Op, Plan } from './ops.js';

/** Does any rule on the node name one of its HostSubnets (nat.ts: every rule does)? */
export function natNeeded(d: DesiredNat): boolean {
  return d.local.length > 0 && d.clusterCidrs.length > 0;
}

/** Rules of the table, but xnet's own jumps and the chain's own rules, that jump or go to `chain`. */
function otherReferences(t: ChainDump, builtin: string, chain: string): string[] {
  const target = new RegExp(`(^| )-[jg] ${chain}( |$)`);
  return Object.entries(t.rules).flatMap(([c, rules]) => (c === chain ? [] : rules
    .filter((r) => target.test(r) && !(c === builtin && r === `-j ${chain}`))
    .map((r) => `-A ${c} ${r}`)));
}

/** The restore lines that take xnet's jumps and chain out of one table; none when already gone. */
export function teardownLines(t: ChainDump, builtin: string, chain: string): string[] {
  const jumps = (t.rules[builtin] ?? []).filter((r) => r === `-j ${chain}`).map(() => `-D ${builtin} -j ${chain}`);
  if (!t.chains.includes(chain)) return jumps;
  // under --noflush, declaring the chain empties it; -X then deletes it (no rule refers to it)
  if (otherReferences(t, builtin, chain).length === 0) return [...jumps, `:${chain} - [0:0]`, `-X ${chain}`];
  return [...jumps, ...((t.rules[chain] ?? []).length ? [`:${chain} - [0:0]`] : [])];
}

/** Nothing needs NAT rules here: xnet's jumps and chains go, in both tables. IP forwarding is left as it is. */
export function planNatTeardown(o: ObservedNat): Plan {
  const ops: Op[] = [];
  const nat = teardownLines(o.nat, 'POSTROUTING', NAT_CHAIN);
  if (nat.length) ops.push({ op: 'iptables.restore', table: 'nat', lines: nat });
  const filter = teardownLines(o.filter, 'FORWARD', FWD_CHAIN);
  if (filter.length) ops.push({ op: 'iptables.restore', table: 'filter', lines: filter });
  return { ops, problems: [] };
}
