// dockerIPAM xnet on a small MacvlanNet pool: once a round, after every node's shim, each node's
// fair share of what is free or idle, the limit asked of nodes holding more idle than theirs
// while another starves or ContainerNics wait for an address, and why a node has no address
// (the rules: ../dockeripam/fair-share.ts). Shims and ContainerNics come first: the addresses
// free for the nodes' refills are what is free less what the shims still missing and the NICs
// waiting need (`spare`). A shim waits out a returned pre-claim's cooldown while a refill does
// not (address-cooldown.ts), so without that reserve the refills of nodes that joined late took
// what the first node gave back for their shims, and one stayed without a shim for good.
import type { NodeIpamReport } from '../dockeripam/report.js';
import { idleCount } from '../dockeripam/node-pool.js';
import { fairShare, nicLimit, rebalanceLimit, shareCannotBind, starvedMessage, type NodeNeed } from '../dockeripam/fair-share.js';
import { contains, size, type Interval } from '../ipam/ranges.js';

export interface FairRound {
  /** the most free addresses a node may hold after its refill; undefined: none binds */
  share?: number;
  /** status.nodes[].maxFree for the nodes holding more idle than it (one starves, or NICs wait) */
  limit?: number;
  /** each selected node's idle count and need as the round starts */
  needs: Map<string, NodeNeed>;
  /** addresses the pool hands out (ipRange less exclude, gateway, blocks) */
  poolSize: number;
  /** the MacvlanNet's ContainerNics waiting for an address as the round starts */
  nics: number;
  /** the selected nodes without their host shim once the round's shims are claimed (all free cooling down for one) */
  shims: number;
  /** how many free addresses the nodes' pre-claims may still take in this round (what is free less the shims' and NICs' need); counted down */
  spare: number;
  /** what the shims missing and the NICs waiting need beyond what is free: what is given back goes to them first */
  short: number;
}

export interface FairInput {
  range: Interval[];
  /** every address taken in the pool as the round starts (its shims claimed) */
  taken: ReadonlySet<number>;
  nodes: string[];
  held(node: string): ReadonlySet<number>;
  report(node: string): NodeIpamReport | undefined;
  /** whether its agent reports on the MacvlanNet (ipam-report.ts nodeReports) */
  reporting(node: string): boolean;
  lacksShim(node: string): boolean;
  /** how many of the MacvlanNet's ContainerNics wait for an address (asked only of a small pool) */
  nicsWaiting(): number;
}

/** The round's fair shares; undefined on a pool too large for any to bind (the usual case, decided in O(1)). */
export function fairRound(f: FairInput): FairRound | undefined {
  const poolSize = size(f.range);
  if (f.nodes.length === 0 || shareCannotBind(poolSize, f.taken.size, f.nodes.length)) return undefined;
  let free = poolSize;
  for (const ip of f.taken) if (contains(f.range, ip)) free--;
  const needs = new Map<string, NodeNeed>();
  let shimless = 0;
  for (const name of f.nodes) {
    const rep = f.report(name);
    // a silent agent gives nothing back: counted idle, its pre-claims would be asked for in
    // place of a reporting node's, and the ContainerNics would wait for good
    const idle = f.reporting(name) ? idleCount(f.held(name), rep) : 0;
    const noShim = f.lacksShim(name);
    if (noShim) shimless++;
    needs.set(name, { name, idle, starving: noShim || (idle === 0 && (rep?.want ?? 0) > 0) });
  }
  const nics = f.nicsWaiting();
  const idle = [...needs.values()].map((n) => n.idle);
  // a node's shim comes before any node's refill, also while it waits for a cooling address
  const need = nics + shimless;
  const spare = Math.max(0, free - need);
  const share = fairShare(spare, idle);
  const limit = lower(rebalanceLimit([...needs.values()], share), nicLimit(idle, need - free));
  return { share, limit, needs, poolSize, nics, shims: shimless, spare, short: Math.max(0, need - free) };
}

function lower(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/** The limit to publish in the node's part: only to a node holding more idle than it. */
export function maxFreeOf(fair: FairRound | undefined, node: string): number | undefined {
  const idle = fair?.needs.get(node)?.idle ?? 0;
  return fair?.limit !== undefined && idle > fair.limit ? fair.limit : undefined;
}

/**
 * Whether the node's lack is being served: the other nodes hold idle addresses above the limit
 * they are asked to keep (maxFree) and give them back (a lost node counts none idle), more than
 * the ContainerNics waiting take first, so what its containers wait for comes within seconds: no
 * refusal to warn of.
 */
export function beingRebalanced(fair: FairRound | undefined, node: string): boolean {
  const limit = fair?.limit;
  if (limit === undefined) return false;
  let back = 0;
  for (const n of fair!.needs.values()) if (n.name !== node) back += Math.max(0, n.idle - limit);
  return back > fair!.short;
}

/**
 * Why the node has no address at hand after this round, when its agent asks for one (its
 * containers wait, then fail): undefined while it has one, or on a pool too large to run out.
 */
export function starvedWhy(fair: FairRound | undefined, node: string, idleAfter: number, report: NodeIpamReport | undefined): string | undefined {
  if (!fair || idleAfter > 0 || (report?.want ?? 0) === 0) return undefined;
  return starvedMessage(fair.poolSize, [...fair.needs.values()], node, fair.limit, fair.nics, fair.shims);
}
