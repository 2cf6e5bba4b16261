// The controller's refusal of a HostSubnet's pinned spec.subnet: one rule for the agent (no
// bridge, Docker network or peer route for it: agent/desired.ts) and xctl (no network to warn
// of remaking: docker-network.ts).
import type { HostSubnet } from './types.js';

/**
 * The controller's refusal of the HostSubnet's pinned spec.subnet (Allocated=False and no
 * status.subnet: it overlaps another's, SubnetConflict), as its Allocated message; undefined
 * when it has none. The subnet is another HostSubnet's: its node made a bridge and Docker
 * network on it, and peers routed it via that node (all or part of the other's, a /25 inside its
 * /24, more specific, went to the wrong host). One no controller looked at yet (no Allocated) is
 * taken by its spec, as before.
 */
export function refusedPin(hs: Pick<HostSubnet, 'spec' | 'status'>): string | undefined {
  const st = hs.status as { subnet?: unknown; conditions?: unknown } | undefined;
  if (hs.spec.subnet == null || st?.subnet != null || !Array.isArray(st?.conditions)) return undefined;
  const c = (st.conditions as Array<{ type?: unknown; status?: unknown; message?: unknown } | null>).find((x) => x?.type === 'Allocated');
  return c?.status === 'False' ? (typeof c.message === 'string' ? c.message : 'refused') : undefined;
}
