// dockerIPAM xnet: `docker run --ip X` on node A while X is node B's pre-claim. In a Docker
// user's trial it was refused for good ("pre-claimed for the containers of node B") although no
// container used X, and nothing short of deleting Node B got it to A. The controller never takes
// a pre-claim itself (B's plugin may be handing it out this instant: ../dockeripam/node-pool.ts),
// so it asks B for X by name in B's part (status.nodes[].giveBack), as it asks for a count with
// maxFree. B's agent decides, since only it knows whether a container holds X
// (../dockeripam/give-back.ts): free there, it lists X as returned, the round releases it and the
// next grants it to A; in use, its report lists X as assigned and A is refused naming B. A node
// whose agent does not report is never asked (it cannot answer): A is refused at once, naming it.
import { formatIPv4, parseIPv4 } from '../ip/ipv4.js';
import type { NodeIpamReport } from '../dockeripam/report.js';
import { nodeReports } from './ipam-report.js';
import { askedByName } from './macvlan-reserved.js';
import { reportOf, type MvnRound } from './macvlan-round.js';
import type { Ctx } from './context.js';
import { maxPreClaims, preClaimRoom } from './macvlan-requests.js';

/** At most this many addresses asked back of one node at a time: the status every node reads stays small. */
export const MAX_GIVE_BACK = 8;

export interface GiveBacks {
  /** holder -> the addresses it is asked to give back, lowest first (status.nodes[].giveBack) */
  asked: Map<string, number[]>;
  /** pre-claims asked back, or already being returned: no refusal, the asker waits for them */
  coming: Set<number>;
  /** pre-claims their holder's report lists in use (or kept for a stopped container) */
  inUse: Set<number>;
  /** every address a node asks for by name, reserved for it: no shim, refill or NIC pick takes one the moment it is free (macvlan-reserved.ts) */
  wanted: Set<number>;
}

export interface GiveBackInput {
  /** the selected nodes */
  nodes: string[];
  report(node: string): NodeIpamReport | undefined;
  /** the selected node holding ip as a pre-claim that stays in this round */
  holderOf(ip: number): string | undefined;
  /** whether its agent reports on the MacvlanNet (ipam-report.ts nodeReports) */
  reporting(node: string): boolean;
  /** whether the node holds the most pre-claims it may (macvlan-requests.ts): what it asks for is refused, none asked back for it */
  full?(node: string): boolean;
}

/** What the round asks back of whom, for the nodes' requests by name; pure. */
export function planGiveBacks(f: GiveBackInput): GiveBacks {
  const g: GiveBacks = { asked: new Map(), coming: new Set(), inUse: new Set(), wanted: askedByName([...f.nodes].filter((n) => f.reporting(n)), f.report) };
  const states = new Map<string, ReturnType<typeof holderState>>();
  for (const asker of f.nodes) {
    // a holder giving back what the asker could not take would lose it for nothing
    if (f.full?.(asker)) continue;
    for (const text of f.report(asker)?.requested ?? []) {
      const ip = parseIPv4(text);
      const holder = f.holderOf(ip);
      if (holder === undefined || holder === asker || !f.reporting(holder) || g.coming.has(ip)) continue;
      if (!states.has(holder)) states.set(holder, holderState(f.report(holder)));
      const state = states.get(holder)!;
      if (state.inUse.has(text)) { g.inUse.add(ip); continue; }
      // one the holder returns (or found external) already goes: nothing more to ask
      g.coming.add(ip);
      if (state.going.has(text)) continue;
      const list = g.asked.get(holder) ?? [];
      // beyond the bound it waits, unrefused, for a later round (its request within its 20 s)
      if (list.length < MAX_GIVE_BACK) g.asked.set(holder, [...list, ip]);
    }
  }
  for (const list of g.asked.values()) list.sort((a, b) => a - b);
  return g;
}

function holderState(r: NodeIpamReport | undefined): { inUse: Set<string>; going: Set<string> } {
  return { inUse: new Set((r?.assigned ?? []).map((a) => a.ip)), going: new Set([...r?.returned ?? [], ...r?.external ?? []]) };
}

/** The round's asks, once its claims are sorted (the pre-claims that stay are in r.pools). */
export function giveBacksOf(ctx: Ctx, r: MvnRound, nodes: string[]): GiveBacks {
  const holders = new Map<number, string>();
  for (const [node, list] of r.pools) for (const c of list) if (c.claim.role === 'node-pool') holders.set(c.ip, node);
  return planGiveBacks({
    nodes, holderOf: (ip) => holders.get(ip),
    report: (node) => reportOf(ctx, r, node),
    reporting: (node) => nodeReports(ctx, node, r.name),
    full: (node) => !preClaimRoom((r.pools.get(node)?.length ?? 0) + (r.reclaimed.get(node)?.length ?? 0), maxPreClaims(ctx)),
  });
}

/** The node's part's giveBack field, when it is asked for any. */
export function giveBackField(g: GiveBacks | undefined, node: string): { giveBack?: string[] } {
  const list = g?.asked.get(node);
  return list?.length ? { giveBack: list.map(formatIPv4) } : {};
}

/**
 * Why another node's pre-claim `ip` is not granted to the asker (macvlan-requests.ts); undefined
 * while it is asked back or being returned: the asker's request waits for it.
 */
export function preClaimRefusal(g: GiveBacks | undefined, ip: number, holder: string, reporting: boolean): string | undefined {
  if (g?.coming.has(ip)) return undefined;
  if (g?.inUse.has(ip)) return `in use by a container on node "${holder}" (running, or stopped and keeping its address)`;
  if (!reporting) return `pre-claimed for the containers of node "${holder}", whose agent does not report: it cannot give it back`;
  return `pre-claimed for the containers of node "${holder}"`;
}
