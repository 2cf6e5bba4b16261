// Host routes xnet owns: replace what is missing or points elsewhere, delete xnet's own
// routes that are no longer wanted, and never touch a route some other tool made.
import { isXnetRoute, normalizeDst, type Route } from '../../netlink/types.js';
import { blockOf, formatCidr, parseCidr, type Cidr } from '../../ip/ipv4.js';
import type { Op, Plan, Problem } from './ops.js';

export interface DesiredRoute {
  dst: string;
  via?: string;
  dev?: string;
}

/**
 * `owns` says which of xnet's observed routes this caller is responsible for (peer routes
 * and shim routes are planned by different reconcilers; each deletes only its own).
 */
export function planRoutes(desired: DesiredRoute[], observed: Route[], owns: (r: Route) => boolean, keep: string[] = []): Plan {
  const main = observed.filter((r) => !r.table || r.table === 'main');
  const byDst = new Map<string, Route[]>();
  for (const r of main) {
    const k = normalizeDst(r.dst);
    const same = byDst.get(k);
    if (same) same.push(r); else byDst.set(k, [r]);
  }
  // `keep`: destinations still declared whose next hop is unknown right now (a peer's agent is
  // down and nobody else knows its address): the route that exists stays.
  const wanted = new Set<string>(keep.map(normalizeDst));
  // One pass in the order given, then only what needs doing is sorted by destination: a
  // thousand peers' routes are compared on every pass and nearly always all in place.
  const todo: Array<{ dst: string; op?: Op; problem?: Problem }> = [];
  for (const d of desired) {
    const dst = normalizeDst(d.dst);
    wanted.add(dst);
    const have = byDst.get(dst) ?? [];
    const same = have.find((r) => (d.via ? r.via === d.via : !r.via) && (!d.dev || r.dev === d.dev));
    if (same) continue; // adopted, whoever made it
    const foreign = have.find((r) => !isXnetRoute(r));
    todo.push(foreign ? { dst, problem: {
      reason: 'RouteConflict',
      message: `a route to ${dst} that xnet did not make exists (${describe(foreign)}); remove it so xnet can route ${dst}${d.via ? ` via ${d.via}` : ''}`,
    } } : { dst, op: { op: 'route.replace', dst, ...(d.via ? { via: d.via } : {}), ...(d.dev ? { dev: d.dev } : {}) } });
  }
  for (const t of shadowed(desired, main)) todo.push(t);
  todo.sort((a, b) => (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0));
  const ops: Op[] = todo.flatMap((t) => (t.op ? [t.op] : []));
  const problems: Problem[] = todo.flatMap((t) => (t.problem ? [t.problem] : []));
  for (const r of main) {
    if (!isXnetRoute(r) || !owns(r) || wanted.has(normalizeDst(r.dst))) continue;
    ops.push({ op: 'route.del', dst: normalizeDst(r.dst), ...(r.via ? { via: r.via } : {}), ...(r.dev ? { dev: r.dev } : {}), proto: r.proto });
  }
  return { ops, problems };
}

/**
 * Routes xnet did not make that are more specific than a declared destination and lead
 * elsewhere: the kernel picks them for part of it (an admin's 10.76.2.0/25 over a peer's
 * 10.76.2.0/24), so half the peer's containers are reached through another next hop while
 * xnet's own route is in place. Said (RouteConflict), never removed: not xnet's to touch. Each
 * foreign route is looked up at every shorter prefix (32 lookups), not against every peer.
 */
function shadowed(desired: DesiredRoute[], main: Route[]): Array<{ dst: string; problem: Problem }> {
  const byDst = new Map(desired.map((d) => [normalizeDst(d.dst), d]));
  const out: Array<{ dst: string; problem: Problem }> = [];
  for (const r of main) {
    if (isXnetRoute(r)) continue;
    const inner = cidrOf(r.dst);
    for (let p = (inner?.prefix ?? 0) - 1; inner && p >= 0; p--) {
      const dst = formatCidr(blockOf(inner.base, p));
      const d = byDst.get(dst);
      if (!d || (d.via ? r.via === d.via : !r.via) && (!d.dev || r.dev === d.dev)) continue;
      out.push({ dst, problem: {
        reason: 'RouteConflict',
        message: `a route that xnet did not make takes part of ${dst} elsewhere (${describe(r)}); remove it so xnet can route all of ${dst}${d.via ? ` via ${d.via}` : ''}`,
      } });
      break;
    }
  }
  return out;
}

function cidrOf(dst: string): Cidr | undefined {
  try { return dst === 'default' ? undefined : parseCidr(normalizeDst(dst), false); } catch { return undefined; }
}

function describe(r: Route): string {
  return [r.dst, r.via ? `via ${r.via}` : '', r.dev ? `dev ${r.dev}` : '', `proto ${r.proto}`].filter(Boolean).join(' ');
}
