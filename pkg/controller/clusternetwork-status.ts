// A ClusterNetwork's status: how many of its host blocks are allocated, and Ready. Planned by the
// term's reconcile of the ClusterNetwork (hostsubnet-work.ts), which recounts it after HostSubnets come and
// go (countsLater); written only when it changes (putStatusIfChanged).
import type { ClusterNetwork } from '../api/index.js';
import { blockCount, parseCidr } from '../ip/ipv4.js';
import { slotCount } from '../ipam/plan.js';
import { conditions, putStatusIfChanged, type Ctx } from './context.js';
import type { Entry } from './model.js';
import { noNodeSelected } from './node-missing.js';
import type { TxnPlan } from './txn-plan.js';

/** Puts the ClusterNetwork's counts in `plan` when they changed, pinned to the object as cached. */
export function planClusterNetworkStatus(ctx: Ctx, cn: Entry<ClusterNetwork>, plan: TxnPlan): void {
  const name = cn.obj.metadata.name;
  const pool = parseCidr(cn.obj.spec.cidr);
  const claimed = ctx.model.claimsIn('clusternetworks', name, 'blocks').size;
  const total = slotCount(cn.obj.spec);
  const prev = ctx.model.controllerStatus('ClusterNetwork', name)?.status;
  plan.unchanged(ctx.model.keys.object('ClusterNetwork', name), cn.kv);
  putStatusIfChanged(ctx, plan, 'ClusterNetwork', name, {
    observedGeneration: cn.obj.metadata.generation,
    allocated: claimed,
    free: Math.max(0, total - claimed),
    conditions: conditions(prev, [{
      type: 'Ready', status: 'True', reason: 'Ready',
      message: `${claimed} of ${total} /${cn.obj.spec.hostPrefix} blocks allocated (${blockCount(pool, cn.obj.spec.hostPrefix)} in ${cn.obj.spec.cidr})${claimed ? '' : noNodeSelected(ctx.model, cn.obj)}`,
    }]),
  });
}
