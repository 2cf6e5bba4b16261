// What holds a MacvlanNet's range when a ContainerNic finds no free address in it, as its
// PoolExhausted message says. It said `no free address left in MacvlanNet "small"'s range
// (198.19.50.8/29 minus exclude, gateway and the nodes' Docker blocks)` of a dockerIPAM: xnet
// pool (no Docker blocks) whose addresses were held idle by the nodes' pre-claims: the user
// could not tell that, nor that they are asked back for the NIC (macvlan-nic-need.ts).
import type { MacvlanNet } from '../api/index.js';
import { idleCount } from '../dockeripam/node-pool.js';
import { contains, type Interval } from '../ipam/ranges.js';
import { nodeIpamReport, nodeReports } from './ipam-report.js';
import { reservedForRequests } from './macvlan-reserved.js';
import type { Ctx } from './context.js';
import { passMemo, type RoundState } from './pool-executor.js';
import { firstFew } from '../first-few.js';

/** Nodes named in the message; the rest are counted. */
const MAX_NAMED = 3;

/** What the NIC's message calls the MacvlanNet's range. */
export function macvlanRangeText(m: MacvlanNet): string {
  const less = (m.spec.dockerIPAM ?? 'xnet') === 'xnet' ? 'exclude and gateway' : 'exclude, gateway and the nodes\' Docker blocks';
  return `MacvlanNet "${m.metadata.name}"'s range (${m.spec.ipRange ?? m.spec.subnet} minus ${less})`;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** An address claim of the range as the holders' count reads it. */
export interface HeldAddress { ip: number; claim: { role: string; node?: string } }

/**
 * dockerIPAM xnet: who holds the range's addresses, e.g. `: 3 host shims, 1 ContainerNic, 3
 * pre-claimed for the nodes' containers (3 idle: host-1 (1), host-2 (1), host-3 (1); asked back
 * for the ContainerNics waiting)`; '' for dockerIPAM blocks (its range message says it).
 * `claims`: the range's address claims, as cached unless a round gives them as it leaves them.
 */
export function macvlanHolders(ctx: Ctx, m: MacvlanNet, range: Interval[], claims?: Iterable<HeldAddress>): string {
  const name = m.metadata.name;
  if ((m.spec.dockerIPAM ?? 'xnet') !== 'xnet') return '';
  const count = { nic: 0, shim: 0, external: 0, other: 0 };
  const pools = new Map<string, Set<number>>();
  const held = [...(claims ?? ctx.model.claimsIn('macvlannets', name, 'addresses').values())];
  const heldIps = new Set(held.map((c) => c.ip));
  // free, but kept for a node's `docker run --ip` (macvlan-reserved.ts): the NIC would not see why
  const reserved = [...reservedForRequests(ctx, { type: 'macvlannets', name })].filter((ip) => contains(range, ip) && !heldIps.has(ip)).length;
  for (const c of held) {
    if (!contains(range, c.ip)) continue;
    const role = c.claim.role;
    if (role === 'node-pool' && c.claim.node) pools.set(c.claim.node, (pools.get(c.claim.node) ?? new Set()).add(c.ip));
    // by role, as `xctl ipam check` counts them (check-macvlan.ts)
    else if (role === 'nic' || role === 'shim' || role === 'external') count[role]++;
    else count.other++;
  }
  const parts = [
    count.shim && plural(count.shim, 'host shim', 'host shims'),
    count.nic && plural(count.nic, 'ContainerNic', 'ContainerNics'),
    pools.size && preClaimedText(ctx, name, pools),
    count.external && `${count.external} in use outside xnet (external)`,
    count.other && `${count.other} other`,
    reserved && `${reserved} reserved for a node's docker run --ip until its request ends`,
  ].filter((p): p is string => !!p);
  return parts.length ? `: held by ${parts.join(', ')}` : '';
}

/**
 * The pre-claimed addresses, who holds them idle (its report lists them in use or not), and
 * who holds them with an agent that does not report (nothing given back until it does).
 */
function preClaimedText(ctx: Ctx, mvn: string, pools: Map<string, Set<number>>): string {
  let all = 0;
  const idle: Array<[string, number]> = [];
  const silent: Array<[string, number]> = [];
  for (const [node, held] of pools) {
    all += held.size;
    if (!nodeReports(ctx, node, mvn)) { silent.push([node, held.size]); continue; }
    const n = idleCount(held, nodeIpamReport(ctx, node, mvn));
    if (n > 0) idle.push([node, n]);
  }
  const parts = [
    idle.length && `${sum(idle)} idle: ${named(idle)}; asked back for the ContainerNics waiting`,
    silent.length && `${sum(silent)} held by ${named(silent)}, ${silent.length > 1 ? SILENT_MANY : SILENT_ONE}`,
  ].filter((p): p is string => !!p);
  return `${all} pre-claimed for the nodes' containers (${parts.length ? parts.join('; ') : 'all in use'})`;
}

const SILENT_ONE = 'whose agent does not report: kept until it reports again or its Node is deleted';
const SILENT_MANY = 'whose agents do not report: kept until they report again or their Nodes are deleted';
const sum = (held: Array<[string, number]>) => held.reduce((s, [, n]) => s + n, 0);

/** The nodes holding the most first, as `host-1 (3)`. */
function named(held: Array<[string, number]>): string {
  held.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return firstFew(held.map(([node, n]) => `${node} (${n})`), MAX_NAMED);
}

/** Who holds the range, said once per planning pass (passMemo): every NIC refused in it would walk the pool's claims and Nodes. */
export function macvlanHoldersInPass(ctx: Ctx, name: string, ranges: Interval[], state: RoundState): string {
  const m = ctx.model.macvlanNet(name);
  if (!m) return '';
  const memo = passMemo(state);
  const key = `holders/${name}/${ranges.map((r) => `${r.first}-${r.last}`).join(',')}`;
  let text = memo.get(key) as string | undefined;
  if (text === undefined) memo.set(key, (text = macvlanHolders(ctx, m.obj, ranges)));
  return text;
}
