// HostSubnet allocation: one executor per ClusterNetwork serialises block claims. A claim is
// one key per hostPrefix slot (<prefix>/ipam/clusternetworks/<cn>/blocks/<slot base>), put
// with create-if-absent in the same transaction as the HostSubnet's controller status (and,
// for controller-made HostSubnets, the object itself), so no slot ever has two owners and no
// status announces a subnet nobody holds.
import { randomUUID, createHash } from 'node:crypto';
import { API_VERSION, type ClusterNetwork, type HostSubnet } from '../api/index.js';
import { hostSubnetFit } from '../api/rules.js';
import { formatCidr, parseCidr, type Cidr } from '../ip/ipv4.js';
import {
  AllocationError, hostSubnetLayout, nextFreeSlots, slotCidr, slotHandedOut, slotsOf, type HostSubnetLayout,
} from '../ipam/plan.js';
import type { Claim } from '../ipam/keys.js';
import type { RawKv } from '../runtime/kv.js';
import type { TxnPlan } from './txn-plan.js';
import type { RoundState } from './pool-executor.js';
import type { Entry, ClaimEntry } from './model.js';
import { nodeAddress } from './node-address.js';
import { settleBridge } from './bridge-names.js';
import { conditions, pinStatus, putStatusIfChanged, MANAGED_BY_LABEL, MANAGED_BY_VALUE, type Ctx, type Status } from './context.js';
import { missingNetwork, missingNodeNote } from './node-missing.js';
import { adoptable, deleteKeepsFor, editKeeps, keepClaims, keepEditedClaim } from './hostsubnet-leaving.js';
import { HS_FINALIZER, deletionWaits, ensureHsFinalizer, isDeletingHostSubnet, markForOthers } from './hostsubnet-finalizer.js';
import { routedSlots, slotClaims, slotIndex, slotsId, takenSlots, unreadableSlots } from './hostsubnet-slots.js';

export type HsItem =
  | { type: 'ensure'; name: string }
  | { type: 'create'; clusterNetwork: string; node: string }
  | { type: 'delete'; name: string; /** the node object as decided on (undefined: it is gone) */ nodeKv?: RawKv; cnKv?: RawKv };

export interface HsOutcome {
  result: 'allocated' | 'unchanged' | 'created' | 'deleted' | 'failed' | 'skipped';
  name?: string;
  /** the incarnation planned for (its events are that incarnation's) */
  uid?: string;
  reason?: string;
  message?: string;
  /** refused because its ClusterNetwork is not there (late-warnings.ts: Normal while young) */
  missingNetwork?: boolean;
}

export function hostSubnetName(clusterNetwork: string, node: string): string {
  return `${clusterNetwork}-${node}`;
}

/**
 * `<cn>-<node>` unless that is longer than a name may be or already names the HostSubnet of
 * another pair ("a-b" + "c" and "a" + "b-c"): then a stable hash of the pair is appended. A
 * key there that does not decode is not absent (KvCache.isRefused): the name is taken, by
 * whom cannot be read, so the hashed one is used rather than a create that fails for ever.
 */
export function hostSubnetNameFor(ctx: Ctx, clusterNetwork: string, node: string): string {
  const plain = hostSubnetName(clusterNetwork, node);
  const other = ctx.model.hostSubnet(plain);
  const clash = other ? other.obj.spec.node !== node || other.obj.spec.clusterNetwork !== clusterNetwork
    : ctx.model.cache.isRefused(ctx.model.keys.object('HostSubnet', plain));
  if (plain.length <= 63 && !clash) return plain;
  const hash = createHash('sha256').update(`${clusterNetwork}/${node}`).digest('hex').slice(0, 8);
  return `${plain.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

export { nodeAddress };

export { isControllerMade } from '../api/managed-by.js';

export function planHostSubnet(ctx: Ctx, item: HsItem, plan: TxnPlan, state: RoundState): HsOutcome {
  if (item.type === 'delete') return planDelete(ctx, item, plan);
  if (item.type === 'create') return planCreate(ctx, item, plan, state);
  const hs = ctx.model.hostSubnet(item.name);
  if (!hs) return { result: 'skipped', name: item.name };
  return { ...planEnsure(ctx, hs, plan, state), uid: hs.obj.metadata.uid };
}

/** `adopt`: claims kept for the node by a HostSubnet of it that went (hostsubnet-leaving.ts), taken over */
interface SlotChoice { slots: number[]; subnet: string; adopt?: ClaimEntry[] }

function chooseSlots(ctx: Ctx, hs: HostSubnet, cn: Entry<ClusterNetwork>, state: RoundState): SlotChoice {
  const uid = hs.metadata.uid!;
  const claims = slotClaims(ctx, cn, state);
  const taken = takenSlots(state, cn);
  const adopt = adoptable(ctx, hs.spec.node, ctx.model.ipam.space('clusternetworks', cn.obj.metadata.name, 'blocks'));
  const unreadable = unreadableSlots(ctx, cn);
  ownSlotUnreadable(ctx, hs, cn, unreadable);
  const ownerOf = (slot: number) => { const c = claims.get(slot); return c && !adopt.some((a) => a.key === c.key) ? c.claim.owner : undefined; };
  if (hs.spec.subnet) {
    // the rule xctl and every agent apply to it (pkg/api/rules.ts)
    const unfit = hostSubnetFit(hs.spec.subnet, { name: cn.obj.metadata.name, cidr: cn.obj.spec.cidr, hostPrefix: cn.obj.spec.hostPrefix }, true);
    if (unfit) throw new AllocationError(unfit.reason, unfit.message);
    const slots = slotsOf(cn.obj.spec, parseCidr(hs.spec.subnet));
    for (const s of slots) {
      const o = ownerOf(s);
      if (unreadable.has(s)) throw new AllocationError('SubnetConflict', `subnet ${hs.spec.subnet} overlaps ${formatCidr(slotCidr(cn.obj.spec, s))}, whose block claim does not decode (xctl ipam check names it): it stays taken until the claim is readable or deleted`);
      if ((o && o.uid !== uid) || (!o && taken.has(s) && taken.get(s) !== uid)) {
        throw new AllocationError('SubnetConflict', `subnet ${hs.spec.subnet} overlaps ${o ? `HostSubnet "${o.name}"` : 'a subnet allocated at the same time'} (${formatCidr(slotCidr(cn.obj.spec, s))})${keptNote(claims.get(s))}`);
      }
    }
    return { slots, subnet: hs.spec.subnet, adopt };
  }
  const blocks = ctx.model.ipam.space('clusternetworks', cn.obj.metadata.name, 'blocks');
  // not a block kept for its node's network after an edit (one naming a node: planClaims)
  const mine = ctx.model.claimsOf(uid).filter((c) => c.key.startsWith(blocks) && !c.claim.node);
  if (mine.length === 1) {
    // Kept while the ClusterNetwork still hands that slot out: after an edit of its cidr or
    // reserved, a new slot is chosen below and planClaims deletes this claim in the same txn.
    const slot = slotIndex(cn, mine[0].ip);
    if (slotHandedOut(cn.obj.spec, slot) && mine[0].claim.cidr === formatCidr(slotCidr(cn.obj.spec, slot))) {
      return { slots: [slot], subnet: mine[0].claim.cidr! };
    }
  }
  const back = adopt.find((c) => c.claim.cidr === formatCidr(slotCidr(cn.obj.spec, slotIndex(cn, c.ip))) && slotHandedOut(cn.obj.spec, slotIndex(cn, c.ip)));
  if (back && !mine.length && !taken.has(slotIndex(cn, back.ip))) return { slots: [slotIndex(cn, back.ip)], subnet: back.claim.cidr!, adopt: [back] };
  // Within one round every slot below the cursor is claimed or reserved: resume there.
  const cursorKey = `slotCursor/${slotsId(cn)}`;
  const routed = routedSlots(ctx, cn, state);
  const isTaken = { has: (i: number) => claims.has(i) || taken.has(i) || routed.has(i) || unreadable.has(i) } as ReadonlySet<number>;
  const [slot] = nextFreeSlots(cn.obj.spec, isTaken, 1, (state.get(cursorKey) as number | undefined) ?? 0);
  if (slot !== undefined) state.set(cursorKey, slot + 1);
  if (slot === undefined) {
    throw new AllocationError('PoolExhausted', `ClusterNetwork "${cn.obj.metadata.name}" (${cn.obj.spec.cidr}) has no free /${cn.obj.spec.hostPrefix} block left`);
  }
  return { slots: [slot], subnet: formatCidr(slotCidr(cn.obj.spec, slot)) };
}

/** Why a block claim names a node (hostsubnet-leaving.ts: kept while its network is there), for a SubnetConflict. */
function keptNote(c: ClaimEntry | undefined): string {
  return c?.claim.node ? `, kept while the Docker network on node "${c.claim.node}" is still on it` : '';
}

/**
 * The HostSubnet's own subnet (its status.subnet) on a slot whose block claim does not decode:
 * not absent (the claim may be this HostSubnet's, garbled), so it keeps the subnet and waits,
 * untouched (planEnsure), rather than moving to another block and renumbering its host.
 */
function ownSlotUnreadable(ctx: Ctx, hs: HostSubnet, cn: Entry<ClusterNetwork>, unreadable: ReadonlySet<number>): void {
  const cur = ctx.model.controllerStatus('HostSubnet', hs.metadata.name)?.status.subnet;
  const at = typeof cur === 'string' ? parseCidrOrNone(cur) : undefined;
  if (!at || !unreadable.has(slotIndex(cn, at.base))) return;
  throw new AllocationError('Unreadable', `the claim of its block ${cur} does not decode (xctl ipam check names it); HostSubnet "${hs.metadata.name}" keeps the subnet until the claim is readable or deleted`);
}

function parseCidrOrNone(text: string): Cidr | undefined {
  try { return parseCidr(text); } catch { return undefined; }
}

function hsStatus(ctx: Ctx, hs: HostSubnet, layout: HostSubnetLayout | undefined, failure?: AllocationError): Status {
  const name = hs.metadata.name;
  const prev = ctx.model.controllerStatus('HostSubnet', name)?.status;
  const keep = failure ? prev : undefined;
  const fields = layout ?? {
    subnet: keep?.subnet, gateway: keep?.gateway, bridge: keep?.bridge, dockerRange: keep?.dockerRange,
  };
  const conds = failure
    ? [
        { type: 'Allocated', status: 'False' as const, reason: failure.reason, message: failure.message },
        { type: 'Ready', status: 'False' as const, reason: failure.reason, message: failure.message },
      ]
    : [
        { type: 'Allocated', status: 'True' as const, reason: 'Allocated', message: `subnet ${fields.subnet} allocated` },
        { type: 'Ready', status: 'False' as const, reason: 'WaitingForAgent', message: `waiting for the agent of node "${hs.spec.node}" to set up bridge ${fields.bridge}${missingNodeNote(ctx.model, hs.spec.node)}` },
      ];
  return {
    observedGeneration: hs.metadata.generation,
    ...fields,
    nodeAddress: nodeAddress(ctx, hs.spec.node),
    conditions: conditions(prev, conds),
  };
}

function claimFor(hs: HostSubnet, subnet: string): Claim {
  return { owner: { kind: 'HostSubnet', name: hs.metadata.name, uid: hs.metadata.uid! }, role: 'hostsubnet', cidr: subnet };
}

/**
 * Plans the claims of a HostSubnet's chosen slots: claims it holds elsewhere (another
 * ClusterNetwork after an edit, slots it no longer covers) are deleted; a slot it keeps but
 * with another cidr (10.0.0.0/24 grown to /23) is rewritten in place by one put guarded by
 * the old claim, as etcd refuses a delete and a put of one key in one transaction. Returns
 * whether anything is written.
 */
function planClaims(ctx: Ctx, hs: HostSubnet, cn: Entry<ClusterNetwork>, choice: SlotChoice, plan: TxnPlan, state: RoundState): boolean {
  const uid = hs.metadata.uid!;
  const want = new Set(choice.slots);
  const blocks = ctx.model.ipam.space('clusternetworks', cn.obj.metadata.name, 'blocks');
  let changed = false;
  for (const c of ctx.model.claimsOf(uid)) {
    if (c.key.startsWith(blocks) && want.has(slotIndex(cn, c.ip))) continue;
    // a block its node's network is still on stays (hostsubnet-leaving.ts editKeeps)
    if (c.key.startsWith(blocks) && editKeeps(ctx, hs, c)) { changed = keepEditedClaim(ctx, plan, hs.spec.node, hs.metadata.name, c) || changed; continue; }
    plan.unchanged(c.key, c.kv).del(c.key);
    changed = true;
  }
  const claims = slotClaims(ctx, cn, state);
  for (const slot of choice.slots) {
    const cur = claims.get(slot);
    const mine = cur?.claim.owner.uid === uid ? cur : undefined;
    if (mine && mine.claim.cidr === choice.subnet && !mine.claim.node) { plan.unchanged(mine.key, mine.kv); continue; }
    const key = ctx.model.ipam.claim('clusternetworks', cn.obj.metadata.name, 'blocks', slotCidr(cn.obj.spec, slot).base);
    plan.unchanged(key, mine?.kv ?? choice.adopt?.find((c) => c.key === key)?.kv);
    plan.put(key, claimFor(hs, choice.subnet));
    changed = true;
  }
  return changed;
}

/**
 * A change of subnet whose release and claims cannot commit in one transaction (a /18 moved
 * to another /18: 64 deletes and 64 puts, over stock etcd's 128) is refused: the old subnet
 * and its claims stay as they are, and the status says why and how to get there in steps.
 * Splitting it would leave, after a crash between the steps, either claims no status announces
 * (the third state gc.ts relies on never existing; `xctl ipam check` reports them as leaks) or,
 * released first, a HostSubnet that holds nothing if the claims then fail.
 */
function tooLarge(ctx: Ctx, hs: HostSubnet, cn: Entry<ClusterNetwork>, subnet: string): AllocationError {
  const was = ctx.model.controllerStatus('HostSubnet', hs.metadata.name)?.status?.subnet;
  return new AllocationError('SubnetChangeTooLarge', `moving ${was ? `subnet ${was}` : 'the subnet'} to ${subnet} takes more `
    + `than one etcd transaction allows (--max-txn-ops ${ctx.maxTxnOps}); the old subnet is kept. Change it in steps `
    + `(shrink it to one /${cn.obj.spec.hostPrefix}, move that, then grow it), or delete the HostSubnet and create it again`);
}

/**
 * A Node's reconcile and the HostSubnet's own can ask for the same HostSubnet in one round
 * (seed 000's apply writes Nodes and their pinned HostSubnets in one transaction). When the
 * first request's writes are already in this transaction, they serve the second too: planned
 * again, it would put the status twice (DuplicateKeyError) or find its own slots taken.
 */
function plannedInThisTxn(ctx: Ctx, name: string, plan: TxnPlan, state: RoundState): boolean {
  const mark = `ensured/${name}`;
  if (state.get(mark) === plan && plan.writes(ctx.model.keys.status('HostSubnet', name, { controller: true }))) return true;
  state.set(mark, plan);
  return false;
}

function planEnsure(ctx: Ctx, hs: Entry<HostSubnet>, plan: TxnPlan, state: RoundState): HsOutcome {
  const name = hs.obj.metadata.name;
  if (plannedInThisTxn(ctx, name, plan, state)) return { result: 'unchanged', name };
  // a deleting one is the delete's (hostsubnet-work.ts): nothing is allocated or added to it meanwhile
  if (isDeletingHostSubnet(hs.obj)) return { result: 'unchanged', name };
  const cn = ctx.model.clusterNetwork(hs.obj.spec.clusterNetwork);
  const start = plan.mark();
  plan.sameIncarnation(ctx.model.keys.object('HostSubnet', name), hs.kv);
  ensureHsFinalizer(ctx, plan, hs);
  if (!cn) {
    const f = new AllocationError('InvalidSpec', missingNetwork(ctx.model, 'ClusterNetwork', hs.obj.spec.clusterNetwork));
    putStatusIfChanged(ctx, plan, 'HostSubnet', name, hsStatus(ctx, hs.obj, undefined, f));
    return { result: 'failed', name, reason: f.reason, message: f.message, missingNetwork: true };
  }
  plan.unchanged(ctx.model.keys.object('ClusterNetwork', cn.obj.metadata.name), cn.kv);
  const pinned = plan.mark();
  const refuse = (err: AllocationError): HsOutcome => {
    putStatusIfChanged(ctx, plan, 'HostSubnet', name, hsStatus(ctx, hs.obj, undefined, err));
    return { result: 'failed', name, reason: err.reason, message: err.message };
  };
  let choice: SlotChoice;
  let layout: HostSubnetLayout;
  try {
    choice = chooseSlots(ctx, hs.obj, cn, state);
    layout = hostSubnetLayout(cn.obj.spec, hs.obj.spec, choice.subnet);
    settleBridge(ctx, hs.obj, cn, layout);
  } catch (err) {
    if (!(err instanceof AllocationError)) throw err;
    // waits with what it has: nothing written (ownSlotUnreadable)
    if (err.reason === 'Unreadable') { plan.rollback(start); return { result: 'failed', name, reason: err.reason, message: err.message }; }
    return refuse(err);
  }
  // an allocation is a block claimed; a status rewritten for an edit that claims nothing (a
  // bridge, gateway or dockerRange) is none: no Allocated event, no xnet_allocations_total
  const claimed = planClaims(ctx, hs.obj, cn, choice, plan, state);
  putStatusIfChanged(ctx, plan, 'HostSubnet', name, hsStatus(ctx, hs.obj, layout));
  if (!plan.fitsAloneSince(start)) {
    plan.rollback(pinned);
    return refuse(tooLarge(ctx, hs.obj, cn, choice.subnet));
  }
  const taken = takenSlots(state, cn);
  for (const slot of choice.slots) taken.set(slot, hs.obj.metadata.uid!);
  return { result: claimed ? 'allocated' : 'unchanged', name };
}

function planCreate(ctx: Ctx, item: { clusterNetwork: string; node: string }, plan: TxnPlan, state: RoundState): HsOutcome {
  const name = hostSubnetNameFor(ctx, item.clusterNetwork, item.node);
  const existing = ctx.model.hostSubnet(name);
  if (existing) return { ...planEnsure(ctx, existing, plan, state), uid: existing.obj.metadata.uid };
  if (ctx.model.hostSubnetsOf(item.clusterNetwork, item.node).length) return { result: 'skipped', name };
  // Another request for the pair in the rounds in flight made it: skipped, unless that create was
  // rolled back (plan.writes no longer holds it) or its commit failed: then this is the create.
  const made = state.get('made') as Map<string, TxnPlan> | undefined ?? new Map<string, TxnPlan>();
  state.set('made', made);
  const objKey = ctx.model.keys.object('HostSubnet', name);
  const maker = made.get(`${item.clusterNetwork}/${item.node}`);
  if (maker?.writes(objKey) && !maker.failed) return { result: 'skipped', name };
  const node = ctx.model.node(item.node);
  const cn = ctx.model.clusterNetwork(item.clusterNetwork);
  if (!node || !cn) return { result: 'skipped', name };
  const hs: HostSubnet = {
    apiVersion: API_VERSION,
    kind: 'HostSubnet',
    metadata: {
      name,
      uid: randomUUID(),
      generation: 1,
      creationTimestamp: new Date().toISOString(),
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }, finalizers: [HS_FINALIZER],
    },
    spec: { node: item.node, clusterNetwork: item.clusterNetwork, icc: true },
  };
  plan.absent(objKey).put(objKey, hs);
  plan.sameIncarnation(ctx.model.keys.object('Node', item.node), node.kv);
  plan.unchanged(ctx.model.keys.object('ClusterNetwork', item.clusterNetwork), cn.kv);
  made.set(`${item.clusterNetwork}/${item.node}`, plan);
  const statusKey = ctx.model.keys.status('HostSubnet', name, { controller: true });
  // A status left by an earlier incarnation would otherwise block the create (absent compare).
  const stale = ctx.model.cache.get(statusKey);
  try {
    const choice = chooseSlots(ctx, hs, cn, state);
    const layout = hostSubnetLayout(cn.obj.spec, hs.spec, choice.subnet);
    settleBridge(ctx, hs, cn, layout);
    const slot = choice.slots[0];
    takenSlots(state, cn).set(slot, hs.metadata.uid!);
    const key = ctx.model.ipam.claim('clusternetworks', item.clusterNetwork, 'blocks', slotCidr(cn.obj.spec, slot).base);
    plan.unchanged(key, choice.adopt?.find((c) => c.key === key)?.kv).put(key, claimFor(hs, choice.subnet));
    pinStatus(ctx, plan, statusKey, stale).put(statusKey, hsStatus(ctx, hs, layout));
    return { result: 'created', name, uid: hs.metadata.uid };
  } catch (err) {
    if (!(err instanceof AllocationError)) throw err;
    pinStatus(ctx, plan, statusKey, stale).put(statusKey, hsStatus(ctx, hs, undefined, err));
    return { result: 'failed', name, uid: hs.metadata.uid, reason: err.reason, message: err.message };
  }
}

function planDelete(ctx: Ctx, item: { name: string; nodeKv?: RawKv; cnKv?: RawKv }, plan: TxnPlan): HsOutcome {
  const hs = ctx.model.hostSubnet(item.name);
  if (!hs) return { result: 'skipped', name: item.name };
  const waits = deletionWaits(ctx, plan, hs) ?? markForOthers(ctx, plan, hs);
  if (waits) return { result: 'unchanged', name: item.name, message: waits };
  const k = ctx.model.keys;
  plan.unchanged(k.object('Node', hs.obj.spec.node), item.nodeKv);
  if (item.cnKv !== undefined || !ctx.model.clusterNetwork(hs.obj.spec.clusterNetwork)) {
    plan.unchanged(k.object('ClusterNetwork', hs.obj.spec.clusterNetwork), item.cnKv);
  }
  plan.unchanged(k.object('HostSubnet', item.name), hs.kv).del(k.object('HostSubnet', item.name));
  plan.del(k.status('HostSubnet', item.name, { controller: true }));
  const node = hs.obj.spec.node;
  const report = k.status('HostSubnet', item.name, { node });
  const keptFor = deleteKeepsFor(ctx, node, item.name, hs.obj.metadata.uid!);
  if (keptFor !== undefined) {
    // its network may still be on the host: the block stays until the agent's report goes
    // (hostsubnet-leaving.ts), which is pinned so that a report gone meanwhile frees it now
    if (!ctx.model.cache.isRefused(report)) plan.unchanged(report, ctx.model.cache.get(report));
    keepClaims(ctx, plan, hs.obj.metadata.uid!, node, keptFor);
    return { result: 'deleted', name: item.name, message: `block kept until node "${node}" reports its network gone` };
  }
  // none cached, or an agent's before the mark (hostsubnet-leaving.ts): one written meanwhile
  // (the agent's first, on the network it just made; its agent upgraded) would keep the block,
  // so the transaction fails and this is planned again
  if (!ctx.model.cache.isRefused(report)) plan.unchanged(report, ctx.model.cache.get(report));
  plan.del(report);
  for (const c of ctx.model.claimsOf(hs.obj.metadata.uid!)) plan.unchanged(c.key, c.kv).del(c.key);
  return { result: 'deleted', name: item.name };
}

