// ContainerNic address allocation. One executor per pool (a ClusterNetwork's address space,
// or a MacvlanNet) batches pending NICs: each NIC adds "claim key absent" + "owner is the same
// incarnation" compares and two puts (claim, status), so one transaction allocates dozens
// of addresses and a crash between any two instants leaves either both or neither.
import { getCondition, type ContainerNic } from '../api/index.js';
import { formatCidr, formatIPv4, isIPv4, parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { AllocationError, blockOfAddress } from '../ipam/plan.js';
import { contains, cidrInterval } from '../ipam/ranges.js';
import { padIp, type Claim, type PoolType } from '../ipam/keys.js';
import type { TxnPlan } from './txn-plan.js';
import { monotonicMs } from '../runtime/clock.js';
import type { RoundState } from './pool-executor.js';
import { nicPool, type Entry, type ClaimEntry } from './model.js';
import { conditions, putStatusIfChanged, type Ctx, type Status, type StatusAt } from './context.js';
import { ensureNicFinalizer, finishNicDeletion } from './nic-finalizer.js';
import { readyAsShown } from './nic-shown-ready.js';
import { missingNodeNote } from './node-missing.js';
import { pickFree } from './pick-free.js';
import { coolingUntil, releasedLately } from './address-cooldown.js';
import { waitsForNode } from './nic-node-gate.js';
import { macvlanHoldersInPass } from './macvlan-exhausted.js';
import { reservedForRequests } from './macvlan-reserved.js';
import { dockerHeldOn, keepsAddress } from './hostsubnet-docker-held.js';
import { MissingNetworkError, WaitingError } from './nic-errors.js';
import { clusterTarget, macvlanTarget, type Target } from './nic-target.js';
import { heldOldAddresses } from './nic-old-address.js';

export { pickFree };

export interface NicOutcome {
  result: 'allocated' | 'unchanged' | 'failed' | 'waiting' | 'gone';
  /** the incarnation planned for (its events are that incarnation's) */
  uid?: string;
  ip?: string;
  reason?: string;
  message?: string;
  /** waiting only for released addresses to cool down: ms until the first is reused (WaitingError.coolingMs) */
  coolingMs?: number;
  /** refused because its network does not exist (yet), as the round saw it */
  missingNetwork?: boolean;
  /** only its status rewritten around the address it had (its HostSubnet's new gateway): no allocation to count or tell */
  statusOnly?: boolean;
}

/**
 * What one round of a pool has handed out so far, and where its next-fit scan resumes.
 * `nicOf`: the uid of the ContainerNic each of its NIC addresses went to, so that a NIC planned
 * again in a later round sharing the state (rolled back, or its commit failed) is not refused
 * the address it took itself.
 */
interface RoundPool { taken: Set<number>; next?: number; nicOf?: Map<number, string> }

export function roundPool(state: RoundState, id: string): RoundPool {
  let p = state.get(`pool/${id}`) as RoundPool | undefined;
  if (!p) state.set(`pool/${id}`, (p = { taken: new Set() }));
  return p;
}

/** A target with its round pool, once looked up (a target lives no longer than its round state). */
type PlannedTarget = Target & { rp?: RoundPool };

const targetPool = (state: RoundState, t: PlannedTarget): RoundPool => (t.rp ??= roundPool(state, t.roundId));

/** Compares that keep an address claim apart from MacvlanNet Docker blocks. */
function guardAddress(ctx: Ctx, plan: TxnPlan, pool: { type: PoolType; name: string }, ip: number): void {
  if (pool.type !== 'macvlannets') return;
  const m = ctx.model.macvlanNet(pool.name);
  if (!m) return;
  const block = blockOfAddress(m.obj.spec, ip);
  plan.absent(ctx.model.ipam.claim('macvlannets', pool.name, 'blocks', block.base));
}

/**
 * Which unclaimed addresses of the pool are kept from a NIC that picks one: the address a
 * Node is routed by (Model.nodeRoutedBy), or one a ContainerNic's spec.ip pins
 * (Model.nicPinning: that NIC's, even when it is planned later), or one whose claim key does
 * not decode (Model.unreadableClaimsIn: there, though nobody can say whose), or one a node asks
 * for by name while its request lasts (macvlan-reserved.ts: e.g. an idle pre-claim another
 * node just gave back for it). A pinned NIC asks for its address by name (checkWanted) and
 * never picks.
 */
function heldBackFromPicks(ctx: Ctx, pool: { type: PoolType; name: string }, state: RoundState): (ip: number) => boolean {
  const reserved = reservedForRequests(ctx, pool, state);
  return (ip) => reserved.has(ip) || ctx.model.nicPinning(pool.type, pool.name, ip) !== undefined
    || ctx.model.nodeRoutedBy(formatIPv4(ip)) !== undefined || unreadableClaimOf(ctx, pool, ip) !== undefined;
}

/**
 * Which claim key that does not decode holds `ip`: its own, or on a MacvlanNet the Docker block
 * its address lies in (a claim puts that block's key as absent: guardAddress). Undefined: none.
 */
function unreadableClaimOf(ctx: Ctx, pool: { type: PoolType; name: string }, ip: number): string | undefined {
  if (ctx.model.unreadableClaimsIn(pool.type, pool.name, 'addresses').has(ip)) return `the claim of ${formatIPv4(ip)}`;
  const m = pool.type === 'macvlannets' ? ctx.model.macvlanNet(pool.name) : undefined;
  const block = m && blockOfAddress(m.obj.spec, ip);
  if (block && ctx.model.unreadableClaimsIn('macvlannets', pool.name, 'blocks').has(block.base)) return `the claim of block ${formatCidr(block)}`;
  return undefined;
}

/** The NIC being planned and what it holds now. */
interface NicJob {
  ctx: Ctx;
  plan: TxnPlan;
  state: RoundState;
  name: string;
  nic: ContainerNic;
  /** the NIC as cached (its key and revision) */
  entry: Entry<ContainerNic>;
  uid: string;
  /** the controller's status of the NIC as it is now: where it is kept and what is there */
  statusAt: StatusAt;
  prev?: Status;
  mine: ClaimEntry[];
  /** of `mine`, those a node still reports the NIC with (nic-old-address.ts): kept unless used, and why */
  held: Map<ClaimEntry, string>;
}

/** The address chosen: kept from an earlier round (keep) or newly claimed. */
interface Choice { ip: number; keep?: ClaimEntry }

export function allocateNic(ctx: Ctx, name: string, plan: TxnPlan, state: RoundState): NicOutcome {
  const e = ctx.model.nic(name);
  if (!e) return { result: 'gone' };
  if (e.obj.metadata.deletionTimestamp) return finishNicDeletion(ctx, plan, e);
  const uid = e.obj.metadata.uid!;
  ensureNicFinalizer(ctx, plan, e);
  const statusAt = ctx.model.controllerStatusAt('ContainerNic', name, e.obj);
  const mine = ctx.model.claimsOf(uid);
  const job: NicJob = { ctx, plan, state, name, nic: e.obj, entry: e, uid, statusAt, prev: statusAt.cur?.status, mine, held: heldOldAddresses(ctx, e.obj, mine) };
  const out = planNic(job);
  // Last: the status (kept in the node's index) usually pins the NIC's mod_revision already, which implies this.
  plan.sameIncarnation(ctx.model.keys.object('ContainerNic', name), e.kv);
  return { ...out, uid };
}

function planNic(job: NicJob): NicOutcome {
  const { ctx, plan, state } = job;
  try {
    const pool = nicPool(job.nic);
    if (!pool) throw new AllocationError('InvalidSpec', 'spec.network must name a clusterNetwork or a macvlanNet');
    const target = pool.type === 'clusternetworks' ? clusterTarget(ctx, job.nic, plan, state, job.mine) : macvlanTarget(ctx, job.nic, plan, state);
    // after the target: a missing network, or a ClusterNetwork NIC's missing HostSubnet, is said first
    const nodeWait = waitsForNode(ctx.model, job.nic, () => job.mine.some((c) => c.key.startsWith(ctx.model.ipam.space(pool.type, pool.name, 'addresses'))));
    if (nodeWait) throw new WaitingError('NodeNotFound', nodeWait);
    const choice = chooseAddress(job, pool, target);
    // moving it would drop what it holds: not while what it depends on cannot be read
    if (!choice.keep && job.mine.length && pathUnreadable(ctx, job.nic)) throw new WaitingError('Unreadable', 'unreadable');
    const claimed = claimAddress(job, pool, target, choice);
    return writeAllocated(job, target, choice.ip, claimed);
  } catch (err) {
    if (err instanceof AllocationError) return failNic(job, err);
    throw err;
  }
}

/**
 * Whether a key the NIC's address depends on is in etcd but does not decode (KvCache.isRefused):
 * its network, or any HostSubnet (a refused one's node cannot be read, so any). Unreadable is
 * not absent: the NIC keeps what it holds until the key is readable or deleted.
 */
function pathUnreadable(ctx: Ctx, nic: ContainerNic): boolean {
  const { clusterNetwork, macvlanNet } = nic.spec.network;
  const { keys, cache } = ctx.model;
  if (macvlanNet) return cache.isRefused(keys.object('MacvlanNet', macvlanNet));
  if (!clusterNetwork) return false;
  return cache.isRefused(keys.object('ClusterNetwork', clusterNetwork)) || cache.anyRefusedUnder(keys.objects('HostSubnet'))
    || cache.anyRefusedUnder(keys.controllerStatuses('HostSubnet'));
}

/**
 * The status a refusal is set over: at the first one (Allocated not yet False), with Ready as
 * users saw it (nic-shown-ready.ts), as the refusal's Ready is shown from then on; after, its own.
 */
function refusalBase(job: NicJob): Status | undefined {
  const own = job.prev?.conditions;
  if (getCondition(own, 'Allocated')?.status === 'False') return job.prev;
  return { ...job.prev, conditions: readyAsShown(job.ctx, job.entry, job.prev) };
}

/** Drops every claim of the NIC and says why it has no address (unless what it depends on is unreadable: then nothing). */
function failNic(job: NicJob, err: AllocationError): NicOutcome {
  const { ctx, plan, nic } = job;
  if (err.reason === 'Unreadable') return { result: 'waiting', reason: err.reason, message: err.message };
  if (job.mine.length && pathUnreadable(ctx, nic)) {
    return { result: 'waiting', reason: 'Unreadable', message: `a key NIC "${job.name}" depends on does not decode; it keeps its address until the key is readable or deleted` };
  }
  dropClaims(job);
  putStatusIfChanged(ctx, plan, 'ContainerNic', job.name, {
    observedGeneration: nic.metadata.generation,
    ...(nic.spec.mac ? { mac: nic.spec.mac } : {}),
    conditions: conditions(refusalBase(job), [
      { type: 'Allocated', status: 'False', reason: err.reason, message: err.message },
      { type: 'Ready', status: 'False', reason: err.reason, message: err.message },
    ]),
  }, job.entry, job.statusAt);
  const mark = err instanceof WaitingError && err.coolingMs !== undefined ? { coolingMs: err.coolingMs } : err instanceof MissingNetworkError ? { missingNetwork: true } : {};
  return { result: err instanceof WaitingError ? 'waiting' : 'failed', reason: err.reason, message: err.message, ...mark };
}

function chooseAddress(job: NicJob, pool: { type: PoolType; name: string }, target: Target): Choice {
  const { ctx, nic } = job;
  const spacePrefix = ctx.model.ipam.space(pool.type, pool.name, 'addresses');
  const want = nic.spec.ip ? parseIPv4(nic.spec.ip) : undefined;
  const fits = (c: ClaimEntry) => c.key.startsWith(spacePrefix) && contains(target.ranges, c.ip) && (want === undefined || c.ip === want);
  // one on its node first; one another node still reports the NIC with does not move here (nic-old-address.ts)
  const keep = job.mine.find((c) => fits(c) && c.claim.node === nic.spec.node) ?? job.mine.find((c) => fits(c) && !job.held.has(c));
  const held = target.hostSubnet ? dockerHeldOn(ctx, target.hostSubnet, target.node!, target.ranges) : undefined;
  if (keep && (!held?.size || keepsAddress(ctx, nic, keep.ip, held))) return { ip: keep.ip, keep };
  ownAddressUnreadable(job, pool);
  if (want !== undefined) return { ip: checkWanted(job, pool, target, want) };
  const claims = ctx.model.claimsIn(pool.type, pool.name, 'addresses');
  const rp = targetPool(job.state, target);
  const back = heldBackFromPicks(ctx, pool, job.state);
  const picked = pickFree(target.ranges, claims, rp, (ip) => coolingUntil(ctx, pool, ip, 'nic'), held?.size ? (ip) => held.has(ip) || back(ip) : back);
  if ('ip' in picked) return { ip: picked.ip };
  if (picked.coolingUntil !== undefined) {
    const wait = Math.max(0, picked.coolingUntil - monotonicMs());
    throw new WaitingError('PoolExhausted', `every free address in ${target.describe} was ${releasedLately(ctx.addressCooldownMs, picked.coolingUntil)}`, wait);
  }
  const holders = pool.type === 'macvlannets' ? macvlanHoldersInPass(ctx, pool.name, target.ranges, job.state) : '';
  throw new WaitingError('PoolExhausted', `no free address left in ${target.describe}${holders}`);
}

/**
 * The NIC's own address (its status.ip) whose claim key does not decode: not absent (its claim
 * may be this NIC's, garbled), so the NIC keeps the address and waits, untouched (failNic),
 * rather than being renumbered, or losing it to an IPConflict, until the key is readable or gone.
 */
function ownAddressUnreadable(job: NicJob, pool: { type: PoolType; name: string }): void {
  const cur = typeof job.prev?.ip === 'string' && isIPv4(job.prev.ip) ? parseIPv4(job.prev.ip) : undefined;
  const held = cur === undefined ? undefined : unreadableClaimOf(job.ctx, pool, cur);
  if (held) throw new WaitingError('Unreadable', `${held}, NIC "${job.name}"'s address, does not decode (xctl ipam check names it); it keeps the address until the claim is readable or deleted`);
}

/** A pinned spec.ip: inside the target range and held by nobody else. */
function checkWanted(job: NicJob, pool: { type: PoolType; name: string }, target: Target, want: number): number {
  const { ctx, nic } = job;
  if (!contains(target.ranges, want)) {
    // Inside a node's Docker block is a conflict with Docker's IPAM, not a typo in the range.
    const block = pool.type === 'macvlannets'
      ? [...ctx.model.claimsIn('macvlannets', pool.name, 'blocks').values()].find((c) => contains([cidrInterval(parseCidr(c.claim.cidr!))], want))
      : undefined;
    if (block) throw new WaitingError('IPConflict', `ip ${nic.spec.ip} is inside ${block.claim.cidr}, the Docker block of node "${block.claim.node}" on MacvlanNet "${pool.name}"`);
    throw new AllocationError('OutOfRange', `ip ${nic.spec.ip} is outside ${target.describe}`);
  }
  const node = ctx.model.nodeRoutedBy(formatIPv4(want));
  if (node) throw new WaitingError('IPConflict', `ip ${nic.spec.ip} is the address Node "${node}" is routed by`);
  const unreadable = unreadableClaimOf(ctx, pool, want);
  if (unreadable) {
    throw new WaitingError('IPConflict', `ip ${nic.spec.ip} is held by a claim whose value does not decode (${unreadable}; xctl ipam check names it): whose it is cannot be told; it is used by nobody else until it is readable or deleted`);
  }
  const holder = ctx.model.claimsIn(pool.type, pool.name, 'addresses').get(want);
  const heldWhy = holder && job.mine.find((c) => c.key === holder.key && job.held.has(c));
  if (heldWhy) throw new WaitingError('IPConflict', `ip ${nic.spec.ip} is not moved to node "${nic.spec.node}" yet: ${job.held.get(heldWhy)}`);
  const rp = targetPool(job.state, target);
  if ((holder && holder.claim.owner.uid !== job.uid) || (rp.taken.has(want) && rp.nicOf?.get(want) !== job.uid)) {
    const who = holder ? `${holder.claim.owner.kind} "${holder.claim.owner.name}"${holder.claim.node ? ` on node "${holder.claim.node}"` : ''}` : 'another ContainerNic allocated at the same time';
    throw new WaitingError('IPConflict', `ip ${nic.spec.ip} is already used by ${who}`);
  }
  return want;
}

/** Deletes the NIC's claims but `used` and those a node still reports it with (job.held). */
function dropClaims(job: NicJob, used?: ClaimEntry): void {
  for (const c of job.mine) if (c !== used && !job.held.has(c)) job.plan.unchanged(c.key, c.kv).del(c.key);
}

/** Puts the claim (create-if-absent) unless kept; drops the NIC's other claims (dropClaims). Returns whether it claimed. */
function claimAddress(job: NicJob, pool: { type: PoolType; name: string }, target: Target, choice: Choice): boolean {
  const { ctx, plan, nic } = job;
  const rp = targetPool(job.state, target);
  rp.taken.add(choice.ip);
  (rp.nicOf ??= new Map()).set(choice.ip, job.uid);
  dropClaims(job, choice.keep);
  if (choice.keep) {
    plan.unchanged(choice.keep.key, choice.keep.kv);
    // moved to another node (a MacvlanNet's address goes with it): the claim names where it is
    // now, as what holds the address is told to a NIC pinning it and printed by `ipam check`
    if (choice.keep.claim.node !== nic.spec.node) plan.put(choice.keep.key, { ...choice.keep.claim, node: nic.spec.node });
    return false;
  }
  const key = ctx.model.ipam.space(pool.type, pool.name, 'addresses') + padIp(choice.ip);
  const claim: Claim = { owner: { kind: 'ContainerNic', name: job.name, uid: job.uid }, role: 'nic', ip: formatIPv4(choice.ip), node: nic.spec.node };
  plan.absent(key).put(key, claim);
  guardAddress(ctx, plan, pool, choice.ip);
  return true;
}

function writeAllocated(job: NicJob, target: Target, ip: number, claimed: boolean): NicOutcome {
  const { ctx, plan, nic } = job;
  const ipText = formatIPv4(ip);
  const kept = [...job.held].filter(([c]) => c.claim.ip !== ipText).map(([, why]) => `; ${why}`).join('');
  const wrote = putStatusIfChanged(ctx, plan, 'ContainerNic', job.name, {
    observedGeneration: nic.metadata.generation,
    ip: ipText,
    prefixLength: target.prefixLength,
    ...(target.gateway ? { gateway: target.gateway } : {}),
    ...(target.hostSubnet ? { hostSubnet: target.hostSubnet } : {}),
    ...(nic.spec.mac ? { mac: nic.spec.mac } : {}),
    conditions: conditions(job.prev, [
      { type: 'Allocated', status: 'True', reason: 'Allocated', message: `${ipText}/${target.prefixLength} allocated${kept}` },
      { type: 'Ready', status: 'False', reason: 'WaitingForAgent', message: `waiting for the agent of node "${nic.spec.node}" to put ${nic.spec.ifName} into container "${nic.spec.container}"${missingNodeNote(job.ctx.model, nic.spec.node)}` },
    ]),
  }, job.entry, job.statusAt);
  const given = claimed || job.prev?.ip !== ipText; // an address claimed, or one its status did not have
  return { result: claimed || wrote ? 'allocated' : 'unchanged', ip: ipText, ...(wrote && !given ? { statusOnly: true } : {}) };
}
