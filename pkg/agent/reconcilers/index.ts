// One work-queue key of the agent to the reconciler that owns it (pkg/agent/events.ts names the keys).
import type { ReconcileResult } from '../../runtime/workers.js';
import type { AgentContext } from '../context.js';
import { KEY_GC, KEY_HOST_SUBNETS, KEY_MACVLAN_LEFTOVERS, KEY_NAT, KEY_ROUTES } from '../events.js';
import { IPAM_KEY } from '../ipam-host.js';
import { reconcileHostSubnets } from './host-subnets.js';
import { reconcileMacvlan, removeMacvlanLeftovers } from './macvlan.js';
import { reconcileNat } from './nat.js';
import { collectNicGarbage, reconcileNic } from './nics.js';
import { sweepOnce } from './nic-leftovers.js';
import { sweepUnservedAsks } from './docker-ipam.js';
import { releaseParents } from './parents.js';
import { reconcileRoutes } from './routes.js';

/** `publish`: the IPAM plugin's report of one MacvlanNet (absent when the agent serves no plugin). */
export async function reconcileAgentKey(ctx: AgentContext, key: string, publish?: (mvn: string) => Promise<void>): Promise<ReconcileResult | void> {
  if (key === KEY_ROUTES) return reconcileRoutes(ctx);
  if (key === KEY_HOST_SUBNETS) return reconcileHostSubnets(ctx);
  if (key === KEY_NAT) return reconcileNat(ctx);
  if (key === KEY_GC) { await collectNicGarbage(ctx); await sweepOnce(ctx); await releaseParents(ctx); await sweepUnservedAsks(ctx); return removeMacvlanLeftovers(ctx); }
  if (key === KEY_MACVLAN_LEFTOVERS) return removeMacvlanLeftovers(ctx);
  if (key.startsWith('nic/')) return reconcileNic(ctx, key.slice(4));
  if (key.startsWith('mvn/')) return reconcileMacvlan(ctx, key.slice(4));
  if (key.startsWith(IPAM_KEY)) return publish?.(key.slice(IPAM_KEY.length));
}
