// A routes pass for a few changed peers. The full pass (reconcilers/routes.ts) is level-triggered
// over every peer: at a thousand hosts it walks a thousand HostSubnets and compares a thousand
// routes on every host for each new node, which is most of the agents' CPU when a node joins.
// When only some peers' HostSubnets or Nodes changed since a full pass that left nothing to
// report, only their destinations are planned; the kernel's other routes were in place after
// that pass and are not looked at again (a kernel route event or the periodic resync runs a
// full pass). Anything unusual (a problem, two peers wanting one destination, this host's
// addresses changed, a failed pass) falls back to the full pass, which stays the reference.
import { normalizeDst, type Route } from '../netlink/types.js';
import type { PeerPart } from './peer-routes.js';
import type { Plan } from './planner/ops.js';
import { planRoutes } from './planner/routes.js';
import { parseCidr } from '../ip/ipv4.js';
import { cidrInterval } from '../ipam/ranges.js';

/** More changed peers than this since the last pass: a full pass (it costs about the same). */
export const MAX_DELTA_PEERS = 32;

/** Which peers changed since the last routes pass, or that everything must be looked at. */
export class RoutesDirty {
  private names = new Set<string>();
  private all = true;

  /** a peer's HostSubnet (by name) changed, or the Node it routes via */
  peers(names: Iterable<string>): void {
    if (this.all) return;
    for (const n of names) this.names.add(n);
    if (this.names.size > MAX_DELTA_PEERS) this.everything();
  }

  everything(): void {
    this.all = true;
    this.names.clear();
  }

  /** What the next pass must look at; the record starts empty again. */
  take(): PeerChanges {
    const t: PeerChanges = this.all ? { all: true } : { all: false, names: [...this.names] };
    this.all = false;
    this.names.clear();
    return t;
  }
}

export type PeerChanges = { all: true } | { all: false; names: string[] };

/** What the last full pass left, when it reported nothing: each peer's share, and how many peers want each destination. */
export interface RoutesMemory {
  localKey: string;
  parts: Map<string, PeerPart>;
  wanted: Map<string, number>;
}

/** The memory of a full pass over `parts` (HostSubnet name -> its share); undefined when two peers want one destination. */
export function rememberPass(localKey: string, parts: Map<string, PeerPart>): RoutesMemory | undefined {
  const wanted = new Map<string, number>();
  for (const p of parts.values()) {
    for (const d of partDsts(p)) {
      if (wanted.has(d)) return undefined;
      wanted.set(d, 1);
    }
  }
  return { localKey, parts, wanted };
}

const partDsts = (p: PeerPart | undefined) => (p ? [...(p.route ? [normalizeDst(p.route.dst)] : []), ...(p.keep ? [normalizeDst(p.keep)] : [])] : []);

/**
 * The plan for the changed peers' destinations only, with `memory` brought up to date; or
 * undefined when a full pass must decide (memory is left as it was). `fresh`: each changed
 * peer's share now, by HostSubnet name (undefined: no HostSubnet by that name, or this host's own).
 */
export function planDelta(memory: RoutesMemory, fresh: Map<string, PeerPart | undefined>, observed: Route[], owns: (r: Route) => boolean): Plan | undefined {
  const before = new Set<string>();
  const after = new Set<string>();
  for (const [n, p] of fresh) {
    const old = memory.parts.get(n);
    if (p?.problems.length || old?.problems.length) return undefined;
    for (const d of partDsts(old)) before.add(d);
    for (const d of partDsts(p)) {
      if (after.has(d)) return undefined;
      after.add(d);
    }
  }
  // Each destination in play must be wanted by the changed peers alone: one another peer still
  // wants (or a second changed peer now wants) is the full pass's to order.
  for (const d of after) if (memory.wanted.has(d) && !before.has(d)) return undefined;
  for (const d of before) if (!after.has(d) && memory.wanted.get(d) !== 1) return undefined;
  const dsts = new Set([...before, ...after]);
  const desired = [...fresh.values()].flatMap((p) => (p?.route ? [p.route] : []));
  const keep = [...fresh.values()].flatMap((p) => (p?.keep ? [p.keep] : []));
  // also the routes more specific than one of them: a foreign one there is a conflict (planRoutes)
  const within = inside([...dsts]);
  const plan = planRoutes(desired, observed.filter((r) => dsts.has(normalizeDst(r.dst)) || within(r.dst)), owns, keep);
  if (plan.problems.length) return undefined;
  for (const [n, p] of fresh) if (p) memory.parts.set(n, p); else memory.parts.delete(n);
  for (const d of before) memory.wanted.delete(d);
  for (const d of after) memory.wanted.set(d, 1);
  return plan;
}

/** Whether a route's destination lies strictly inside one of `dsts` (a few: the changed peers'). */
function inside(dsts: string[]): (dst: string) => boolean {
  const outer = dsts.flatMap((d) => { try { return [cidrInterval(parseCidr(d, false))]; } catch { return []; } });
  return (dst) => {
    if (dst === 'default' || !outer.length) return false;
    let iv;
    try { iv = cidrInterval(parseCidr(normalizeDst(dst), false)); } catch { return false; }
    return outer.some((o) => o.first <= iv.first && iv.last <= o.last && (o.first !== iv.first || o.last !== iv.last));
  };
}
