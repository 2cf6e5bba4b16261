// Frees claims whose owner is gone (or is a new object with the same name: compare uid), or
// no longer points at the claim's pool. This is how a new leader finishes what a killed one
// left: claims and statuses were written together, so a claim is either announced by a live
// owner or garbage — there is no third state to repair. (One exception, announced by the node
// instead: a gone HostSubnet's block kept while its network is still on the host.) Node statuses of deleted objects are
// swept here too: a delete removes them after the object (store/status-cleanup.ts), and one
// that stopped midway leaves them.
import { KINDS, type ContainerNic, type HostSubnet } from '../api/index.js';
import { TxnPlan } from './txn-plan.js';
import type { ClaimEntry } from './model.js';
import type { Ctx } from './context.js';
import { INDEXED_KINDS, indexNode, type Keys } from '../store/keys.js';
import { orphaned } from '../store/status-cleanup.js';
import { keptBy, reportKeepsClaims, reportOnOwnHostSubnet } from './hostsubnet-leaving.js';
import { staleMacvlanParts } from './gc-macvlan-parts.js';
import { oldAddressHeldWhy } from './nic-old-address.js';
import type { KvCache } from '../runtime/kv-cache.js';

/** Whether the claim is garbage: its owner is gone (another uid), or no longer points at its pool. */
export function isGarbage(ctx: Ctx, c: ClaimEntry): boolean {
  const o = c.claim.owner;
  const owner = ctx.model.object(o.kind, o.name);
  // an owner whose key does not decode is not gone: what it holds stays (and a delete pinned
  // to its absence could never commit, failing the whole batch with it every pass)
  if (!owner && ctx.model.cache.isRefused(ctx.model.keys.object(o.kind, o.name))) return false;
  // a HostSubnet's block stays while its node's network still holds it (hostsubnet-leaving.ts)
  if (!owner || owner.obj.metadata.uid !== o.uid) return keptBy(ctx, c) === undefined;
  const parsed = ctx.model.ipam.parse(c.key)!;
  if (o.kind === 'ContainerNic') {
    const net = (owner.obj as ContainerNic).spec.network;
    const moved = parsed.type === 'clusternetworks' ? net.clusterNetwork !== parsed.pool : net.macvlanNet !== parsed.pool;
    // an old network's address its node still reports the NIC with stays (nic-old-address.ts)
    return moved && oldAddressHeldWhy(ctx, owner.obj as ContainerNic, c) === undefined;
  }
  if (o.kind === 'HostSubnet') return parsed.type !== 'clusternetworks' || (owner.obj as HostSubnet).spec.clusterNetwork !== parsed.pool;
  return parsed.type !== 'macvlannets' || parsed.pool !== o.name;
}

/**
 * Deletes garbage claims (all, or only those of one owner uid); returns how many went. A sweep
 * of all also deletes the controller statuses of indexed kinds left under status/controller/,
 * where they were kept before they moved into the nodes' indexes (keys.controllerStatus), and
 * node statuses whose object is gone (orphanedNodeStatuses), node-index keys of no object
 * bound to that node (orphanedIndexKeys), and MacvlanNet parts of nodes their MacvlanNet's
 * status does not list or that do not decode (gc-macvlan-parts.ts), built in one go (a key
 * written before another is seen with it).
 */
export async function collectGarbage(ctx: Ctx, onlyUid?: string): Promise<number> {
  const garbage = (onlyUid ? ctx.model.claimsOf(onlyUid) : [...ctx.model.allClaims()]).filter((c) => isGarbage(ctx, c));
  const freed = await commitInBatches(ctx, garbage.map((c) => {
    // the owner as isGarbage judged it, read now: a step called again after a refused batch's
    // read-back would otherwise pin the owner's new value (a NIC moved back to this pool) and
    // delete the claim it now holds
    const ownerKey = ctx.model.keys.object(c.claim.owner.kind, c.claim.owner.name);
    const owner = ctx.model.cache.get(ownerKey);
    return (plan: TxnPlan) => { plan.unchanged(c.key, c.kv).unchanged(ownerKey, owner).del(c.key); };
  }));
  if (freed) ctx.log.info('freed claims whose owner is gone', { freed });
  if (onlyUid) return freed;
  const old = INDEXED_KINDS.flatMap((kind) => [...ctx.model.cache.entries(ctx.model.keys.controllerStatuses(kind))]);
  const moved = await commitInBatches(ctx, old.map((kv) => (plan: TxnPlan) => { plan.unchanged(kv.key, kv).del(kv.key); }));
  if (moved) ctx.log.info('deleted statuses left where xnet kept them before they moved into the node indexes', { deleted: moved });
  const left = await commitInBatches(ctx, orphanedControllerStatuses(ctx));
  if (left) ctx.log.info('deleted controller statuses of objects that are gone', { deleted: left });
  const orphans = await commitInBatches(ctx, orphanedNodeStatuses(ctx));
  if (orphans) ctx.log.info('deleted node statuses of objects that are gone', { deleted: orphans });
  const unindexed = await commitInBatches(ctx, [...staleMacvlanParts(ctx), ...orphanedIndexKeys(ctx)]);
  if (unindexed) ctx.log.info('deleted node-index keys of objects that are gone or bound to another node, or MacvlanNet parts no status lists', { deleted: unindexed });
  return freed;
}

/**
 * Keys in a node's index (an object's copy, the controller's status) of no object stored now
 * bound to that node: what a delete or move written around xctl (a raw etcd delete of the
 * object key) left. The node's agent reads its NICs from its index, so a copy left there keeps
 * the NIC in its container, with the address this pass frees as the owner's claim. Each delete
 * is pinned to the key as cached and to the object as cached (absent, or this revision).
 */
function orphanedIndexKeys(ctx: Ctx): Array<(plan: TxnPlan) => void> {
  const { keys, cache } = ctx.model;
  const steps: Array<(plan: TxnPlan) => void> = [];
  for (const kv of cache.entries(keys.nodeIndexRoot())) {
    const part = keys.parseMacvlanPart(kv.key);
    const p = keys.parseIndexedObject(kv.key) ?? keys.parseIndexedStatus(kv.key) ?? (part && { ...part, kind: 'MacvlanNet' as const });
    if (!p) continue;
    // nearly every key: its object is there and bound to this node (a refused object is not
    // cached); a MacvlanNet's part while the MacvlanNet is (its rounds delete those of nodes it
    // left, and staleMacvlanParts those of nodes it does not list)
    const obj = ctx.model.object(p.kind, p.name);
    if (obj && (part || indexNode(obj.obj) === p.node)) continue;
    const objectKey = keys.object(p.kind, p.name);
    // an object that does not decode is there, not gone: where it is bound cannot be read
    if (cache.isRefused(objectKey)) continue;
    steps.push((plan) => {
      plan.unchanged(kv.key, kv);
      if (obj) plan.unchanged(objectKey, obj.kv); else plan.absent(objectKey);
      plan.del(kv.key);
    });
  }
  return steps;
}

/**
 * The controller's statuses (of the kinds kept under status/controller/) of no stored object:
 * what a delete written around xctl (a raw etcd delete of the object key) left. An object
 * applied again under that name would show them, and the agents act on a HostSubnet's and a
 * MacvlanNet's (subnet, bridge, Docker blocks) before the controller writes the new one.
 * Each delete is pinned to the status as cached (one that does not decode: to the revision the
 * cache refused) and to the object's absence.
 */
function orphanedControllerStatuses(ctx: Ctx): Array<(plan: TxnPlan) => void> {
  const { keys, cache } = ctx.model;
  const steps: Array<(plan: TxnPlan) => void> = [];
  for (const { kind } of KINDS) {
    if (INDEXED_KINDS.includes(kind)) continue;
    // a MacvlanNet's pool counts (store/macvlan-parts.ts) go with its status
    const found = [...keysUnder(cache, keys.controllerStatuses(kind)), ...kind === 'MacvlanNet' ? keysUnder(cache, keys.macvlanPools()) : []];
    for (const { key, revision } of found) {
      const p = keys.parseStatusKey(key) ?? poolOf(keys, key);
      if (!p) continue;
      const objectKey = keys.object(p.kind, p.name);
      // an object that does not decode is there, not gone
      if (cache.get(objectKey) || cache.isRefused(objectKey)) continue;
      steps.push((plan) => { plan.modifiedAt(key, revision).absent(objectKey).del(key); });
    }
  }
  return steps;
}

/** Every key under `prefix` with the revision it was read at: those cached, and those the cache refused (they do not decode). */
function keysUnder(cache: KvCache, prefix: string): Array<{ key: string; revision: string }> {
  return [...[...cache.entries(prefix)].map((kv) => ({ key: kv.key, revision: kv.modRevision })),
    ...cache.refusedUnder(prefix).map(([key, revision]) => ({ key, revision: String(revision) }))];
}

const poolOf = (keys: Keys, key: string) => {
  const name = keys.parseMacvlanPool(key);
  return name === undefined ? undefined : { kind: 'MacvlanNet' as const, name };
};

/**
 * Node statuses of no stored object (status-cleanup.ts, orphaned): what a delete left when
 * its cleanup stopped midway while the agents, which remove their own, were down. Each delete
 * is pinned to the status as cached and to the object's incarnation (absent, or created at
 * the cached revision): a status of an object made again meanwhile is never taken.
 */
function orphanedNodeStatuses(ctx: Ctx): Array<(plan: TxnPlan) => void> {
  const { keys, cache } = ctx.model;
  const steps: Array<(plan: TxnPlan) => void> = [];
  for (const kv of cache.entries(keys.nodeStatuses())) {
    const p = keys.parseStatusKey(kv.key);
    // a Node's own report is written with or without a Node object (it is how Nodes are made)
    if (!p || !('node' in p.writer) || p.kind === 'Node') continue;
    // a HostSubnet's report that keeps its block: its agent removes it once the network is gone
    // (or is on the node's own HostSubnet, made again while its agent was away: deleteKeepsFor)
    if (p.kind === 'HostSubnet' && (reportOnOwnHostSubnet(ctx, p.writer.node, p.name)
      || reportKeepsClaims(ctx, p.writer.node, ctx.model.nodeStatus(p.writer.node, p.kind, p.name) ?? {}))) continue;
    const objectKey = keys.object(p.kind, p.name);
    // an object that does not decode is there, not gone
    if (cache.isRefused(objectKey)) continue;
    const obj = cache.get(objectKey);
    if (!orphaned(p.kind, Number(kv.modRevision), obj ? Number(obj.createRevision) : 0)) continue;
    steps.push((plan) => {
      plan.unchanged(kv.key, kv);
      if (obj) plan.sameIncarnation(objectKey, obj); else plan.absent(objectKey);
      plan.del(kv.key);
    });
  }
  return steps;
}

/**
 * Commits `steps` (each adds compares and deletes) in as few transactions as they fit; returns
 * how many landed. A batch refused (one step's key changed since the pass read it) is tried
 * again step by step: the others land now, not a whole pass (30 s) later.
 */
async function commitInBatches(ctx: Ctx, steps: Array<(plan: TxnPlan) => void>): Promise<number> {
  let landed = 0;
  for (let i = 0; i < steps.length;) {
    const plan = new TxnPlan(ctx.guard, ctx.leaderKey, ctx.maxTxnOps);
    const start = i;
    for (; i < steps.length; i++) {
      const m = plan.mark();
      steps[i](plan);
      if (!plan.fits()) { plan.rollback(m); break; }
    }
    // a step that does not fit a transaction alone never lands: skipped, not counted
    if (i === start) { i++; continue; }
    if (await plan.commit(ctx.client, ctx.model.cache)) landed += i - start;
    else if (i - start > 1) for (const step of steps.slice(start, i)) landed += await commitAlone(ctx, step);
  }
  return landed;
}

/** One step in a transaction of its own: 1 if it landed. */
async function commitAlone(ctx: Ctx, step: (plan: TxnPlan) => void): Promise<number> {
  const plan = new TxnPlan(ctx.guard, ctx.leaderKey, ctx.maxTxnOps);
  step(plan);
  return (await plan.commit(ctx.client, ctx.model.cache)) ? 1 : 0;
}
