// The work-queue side of HostSubnets: which HostSubnets a Node's, a ClusterNetwork's or a
// HostSubnet's reconcile makes, keeps up to date or deletes (hostsubnets.ts plans each in its
// ClusterNetwork's executor), and what their outcomes ask for afterwards: the ClusterNetworks'
// counts recounted, an allocation's event, the NICs of a deleted HostSubnet looked at again.
// A Node's status is written here too (its term's node-status executor), and a node that
// reported itself without a Node gets one.
import type { ClusterNetwork, ContainerNic, HostSubnet, Kind } from '../api/index.js';
import type { EventRecorder } from '../events/recorder.js';
import { labelsMatch } from './model.js';
import type { PoolExecutor } from './pool-executor.js';
import { TxnPlan } from './txn-plan.js';
import { isControllerMade, nodeAddress, type HsItem, type HsOutcome } from './hostsubnets.js';
import { planJoinedNode, type LastSeen } from './nodes.js';
import type { Ctx } from './context.js';
import { RetryLater } from './retry-later.js';
import { recordAllocation } from './record-allocation.js';
import { isDeletingHostSubnet } from './hostsubnet-finalizer.js';
import { planClusterNetworkStatus } from './clusternetwork-status.js';
import type { LateWarnings } from './late-warnings.js';

/** What HostSubnet work needs of its term. */
export interface HsWorkHost {
  /** the term: its model, client and guard */
  readonly ctx: Ctx;
  readonly late: LateWarnings;
  readonly events: EventRecorder;
  readonly lastSeen: LastSeen;
  /** the executor of the ClusterNetwork's blocks */
  hsExecutor(cn: string): PoolExecutor<HsItem, HsOutcome>;
  /** the executor that batches Node statuses */
  nodeStatusExecutor(): PoolExecutor<string, void>;
  enqueue(kind: Kind, name: string, afterMs?: number): void;
}

async function commit(h: HsWorkHost, plan: TxnPlan, what: string): Promise<void> {
  if (!(await plan.commit(h.ctx.client, h.ctx.model.cache))) throw new RetryLater('Conflict', `${what} changed concurrently`);
}

function check(o: HsOutcome): void {
  if (o.result === 'failed' && (o.reason === 'PoolExhausted' || o.reason === 'SubnetConflict' || o.reason === 'Unreadable')) {
    throw new RetryLater(o.reason, o.message ?? o.reason);
  }
}

/**
 * An object key in etcd that does not decode: not gone (docs/security.md), so nothing is
 * deleted or made for it (a delete guarded by its absence would fail and retry for ever);
 * its key's change (readable again, or deleted) queues this work again.
 */
function unreadable(h: HsWorkHost, kind: Kind, name: string): boolean {
  return h.ctx.model.cache.isRefused(h.ctx.model.keys.object(kind, name));
}

export async function reconcileNode(h: HsWorkHost, name: string): Promise<void> {
  const node = h.ctx.model.node(name);
  if (!node && unreadable(h, 'Node', name)) return;
  if (!node && (await joinNode(h, name))) return;
  if (!node) {
    h.lastSeen.forget(name);
    const work: Promise<HsOutcome>[] = [];
    for (const hs of h.ctx.model.objects<HostSubnet>('HostSubnet')) {
      if (hs.obj.spec.node === name && isControllerMade(hs.obj)) {
        work.push(deleteHostSubnet(h, hs.obj, { type: 'delete', name: hs.obj.metadata.name }));
      }
    }
    await Promise.all(work);
    return;
  }
  // Node statuses are batched like claims: a thousand nodes joining at once share transactions.
  const statusWritten = h.nodeStatusExecutor().submit(name);
  const work: Promise<HsOutcome>[] = [];
  for (const cn of h.ctx.model.objects<ClusterNetwork>('ClusterNetwork')) {
    const cnName = cn.obj.metadata.name;
    const existing = h.ctx.model.hostSubnetsOf(cnName, name);
    if (labelsMatch(cn.obj.spec.nodeSelector, node.obj.metadata.labels)) {
      if (!existing.length) work.push(h.hsExecutor(cnName).submit({ type: 'create', clusterNetwork: cnName, node: name }));
      else {
        // Heartbeats land here every few seconds; only a changed node address needs the HostSubnets touched.
        const addr = nodeAddress(h.ctx, name);
        for (const hs of existing) {
          const st = h.ctx.model.controllerStatus('HostSubnet', hs.obj.metadata.name)?.status;
          if (!st || st.nodeAddress !== addr) work.push(h.hsExecutor(cnName).submit({ type: 'ensure', name: hs.obj.metadata.name }));
        }
      }
    } else {
      for (const hs of existing) {
        // the verdict reads the selector as much as the labels: both pinned
        if (isControllerMade(hs.obj)) work.push(deleteHostSubnet(h, hs.obj, { type: 'delete', name: hs.obj.metadata.name, nodeKv: node.kv, cnKv: cn.kv }));
      }
    }
  }
  const [outs] = await Promise.all([Promise.all(work), statusWritten]);
  if (outs.some((o) => o.result !== 'unchanged' && o.result !== 'skipped')) countsLater(h);
  // a HostSubnet made for a new node is allocated in the same transaction: latency from the node's appearance
  for (const o of outs) recordAllocation(h.events, 'HostSubnet', node.obj.metadata.creationTimestamp, o);
  for (const o of outs) check(o);
}

/** A node that reported itself and has no Node object: make it; true when made. */
async function joinNode(h: HsWorkHost, name: string): Promise<boolean> {
  const plan = new TxnPlan(h.ctx.guard, h.ctx.leaderKey, h.ctx.maxTxnOps);
  const uid = planJoinedNode(h.ctx, name, plan);
  if (!uid) return false;
  await commit(h, plan, `Node ${name}`);
  h.events.record({ kind: 'Node', name, uid }, 'Normal', 'Joined', `node ${name} reported itself; Node made`).catch(() => undefined);
  // our own commit wakes no reconcile: the new Node's subnets and status come next
  h.enqueue('Node', name);
  return true;
}

/**
 * Deletes a HostSubnet the controller made. Its slot is free for the next node, so the
 * addresses its NICs hold in it must not stay: they are looked at again (a commit of our own
 * wakes no reconcile), and, with no HostSubnet left on their node, wait without them.
 */
async function deleteHostSubnet(h: HsWorkHost, hs: HostSubnet, item: Extract<HsItem, { type: 'delete' }>): Promise<HsOutcome> {
  const o = await h.hsExecutor(hs.spec.clusterNetwork).submit(item);
  if (o.result !== 'deleted') return o;
  for (const n of h.ctx.model.objects<ContainerNic>('ContainerNic')) {
    if (n.obj.spec.node === hs.spec.node && n.obj.spec.network.clusterNetwork === hs.spec.clusterNetwork) h.enqueue('ContainerNic', n.obj.metadata.name);
  }
  return o;
}

export function countsLater(h: HsWorkHost): void {
  for (const cn of h.ctx.model.objects('ClusterNetwork')) h.enqueue('ClusterNetwork', cn.obj.metadata.name, 1000);
}

export async function reconcileClusterNetwork(h: HsWorkHost, name: string): Promise<void> {
  const cn = h.ctx.model.clusterNetwork(name);
  if (!cn && unreadable(h, 'ClusterNetwork', name)) return;
  if (!cn) {
    const work: Promise<HsOutcome>[] = [];
    for (const hs of h.ctx.model.objects<HostSubnet>('HostSubnet')) {
      if (hs.obj.spec.clusterNetwork !== name) continue;
      if (isControllerMade(hs.obj)) {
        work.push(deleteHostSubnet(h, hs.obj, { type: 'delete', name: hs.obj.metadata.name, nodeKv: h.ctx.model.node(hs.obj.spec.node)?.kv }));
      } else h.enqueue('HostSubnet', hs.obj.metadata.name);
    }
    await Promise.all(work);
    return;
  }
  for (const n of h.ctx.model.objects('Node')) h.enqueue('Node', n.obj.metadata.name);
  const plan = new TxnPlan(h.ctx.guard, h.ctx.leaderKey, h.ctx.maxTxnOps);
  planClusterNetworkStatus(h.ctx, cn, plan);
  await commit(h, plan, `ClusterNetwork "${name}"`);
}

export async function reconcileHostSubnet(h: HsWorkHost, name: string): Promise<void> {
  const hs = h.ctx.model.hostSubnet(name);
  if (!hs) return;
  const cnName = hs.obj.spec.clusterNetwork;
  const cn = h.ctx.model.clusterNetwork(cnName);
  const node = h.ctx.model.node(hs.obj.spec.node);
  if ((!node && unreadable(h, 'Node', hs.obj.spec.node)) || (!cn && unreadable(h, 'ClusterNetwork', cnName))) return;
  // a user's delete (marked: hostsubnet-finalizer.ts) goes by the path of the controller's own
  const deleting = isDeletingHostSubnet(hs.obj);
  if (deleting || (isControllerMade(hs.obj) && (!node || !cn || !labelsMatch(cn.obj.spec.nodeSelector, node.obj.metadata.labels)))) {
    const o = await deleteHostSubnet(h, hs.obj, { type: 'delete', name, nodeKv: node?.kv, cnKv: cn?.kv });
    // its node, still selected, gets one again, taking back the block kept (our commit wakes nothing)
    if (deleting && o.result === 'deleted') h.enqueue('Node', hs.obj.spec.node);
    countsLater(h);
    return;
  }
  const o = await h.hsExecutor(cnName).submit({ type: 'ensure', name });
  // its ClusterNetwork in a later apply: Normal while young, as a NIC's (late-warnings.ts)
  const refusal = h.late.refusal(hs.obj, o.result === 'failed' && !!o.missingNetwork);
  recordAllocation(h.events, 'HostSubnet', hs.obj.metadata.creationTimestamp, { ...o, name }, refusal.type);
  if (refusal.againMs) h.enqueue('HostSubnet', name, refusal.againMs);
  if (o.result !== 'unchanged') countsLater(h);
  check(o);
}
