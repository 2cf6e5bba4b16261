// MacvlanNet per-node parts, claimed in the MacvlanNet's pool by the same executor that hands
// out ContainerNic addresses there, so no two of them ever meet: a shim address per node and
// either (dockerIPAM: blocks) one blockPrefix block for the node's own Docker IPAM, or
// (dockerIPAM: xnet) a small set of pre-claimed addresses the node's IPAM plugin hands to
// containers, refilled and returned as the node's agent reports (../dockeripam/node-pool.ts).
// The MacvlanNet's controller status (nodes[], allocated/free, Ready; macvlan-status.ts) is
// written in the same transaction as the claims it reports.
import type { MacvlanNet, MacvlanNodeStatus, Node } from '../api/index.js';
import { blockOf, formatCidr, formatIPv4, parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { macvlanAddressRange } from '../ipam/plan.js';
import { cidrInterval, type Interval } from '../ipam/ranges.js';
import { padIp, type Claim } from '../ipam/keys.js';
import { idleCount, planNodePool } from '../dockeripam/node-pool.js';
import { beingRebalanced, fairRound, maxFreeOf, starvedWhy, type FairRound } from './macvlan-fair.js';
import type { TxnPlan } from './txn-plan.js';
import type { RoundState } from './pool-executor.js';
import { labelsMatch, type Entry } from './model.js';
import { roundPool } from './nics.js';
import type { Ctx } from './context.js';
import { deletingParts, leavingStatus } from './macvlan-leaving.js';
import { writeMacvlanStatus } from './macvlan-status.js';
import { reclaimInUse } from './macvlan-reclaim.js';
import { nicsWaiting } from './macvlan-nic-need.js';
import { markExternal, marksStatusBytes, markTime } from './macvlan-mark-time.js';
import { claimAddress, freeAddresses, freeClaim, reportOf, statusReserve, tryAdd, type MvnRound } from './macvlan-round.js';
import { sortOwnClaims } from './macvlan-sort.js';
import { nodeReports } from './ipam-report.js';
import { markUsedUp, type PlannedPart } from './macvlan-used-up.js';
import { AGENT_LOST, agentLost, agentReport, agentStarted, nodeParent } from './macvlan-agent.js';
import { maxPreClaims, preClaimRoom, refusedRequests, type AddressLookup } from './macvlan-requests.js';
import { giveBackField, giveBacksOf, preClaimRefusal } from './macvlan-give-back.js';

type RefusedRequest = { ip: string; reason: string };
import { ensureMacvlanFinalizer, finishMacvlanDeletion, isDeletingMacvlan } from './macvlan-deleting.js';
import { findConflicts, newConflicts } from './macvlan-conflicts.js';
import { coolingUntil } from './address-cooldown.js';
import { coolingOutcome, coolingWhy, freeBlock, waitsCooling } from './macvlan-cooling.js';
import type { AddressConflict } from '../ipam/address-conflicts.js';

/**
 * `more`: some nodes' parts did not fit this transaction (their claims, or only their status
 * part: macvlan-status-keys.ts); reconcile again for the rest (at once when this one made
 * `progress` or left a status part waiting, else after a pause: the round may have been full
 * of NICs).
 */
export interface MacvlanOutcome {
  result: 'synced' | 'gone'; ready?: boolean; missing?: number; more?: boolean; progress?: boolean; starved?: string;
  /** the starved node's lack is being served by a rebalance (macvlan-fair.ts beingRebalanced) */
  starvedServed?: boolean;
  /** the incarnation planned for (its PoolExhausted event is that incarnation's) */
  uid?: string;
  /** pre-claims marked external in this round: someone outside xnet answered for them (term.ts tells it) */
  marked?: Array<{ ip: string; node: string }>;
  /** external marks freed in this round: the node that made them found them free again (term.ts tells it) */
  unmarked?: Array<{ ip: string; node: string }>;
  /** dockerIPAM blocks: addresses held twice that the status did not list before (term.ts tells them) */
  conflicts?: AddressConflict[];
  /** a node's shim, block or refill waits only for released addresses to cool down: ms until the first has (macvlan-cooling.ts) */
  coolingMs?: number;
}

export function selectedNodes(ctx: Ctx, m: MacvlanNet): Entry<Node>[] {
  const out: Entry<Node>[] = [];
  for (const n of ctx.model.objects<Node>('Node')) if (labelsMatch(m.spec.nodeSelector, n.obj.metadata.labels)) out.push(n);
  return out.sort((a, b) => a.obj.metadata.name.localeCompare(b.obj.metadata.name));
}

export function planMacvlanNodes(ctx: Ctx, name: string, plan: TxnPlan, state: RoundState): MacvlanOutcome {
  const m = ctx.model.macvlanNet(name);
  if (!m) return { result: 'gone' };
  plan.unchanged(ctx.model.keys.object('MacvlanNet', name), m.kv);
  // A deleting one selects no node: each keeps what it holds until its network is off its host.
  const deleting = isDeletingMacvlan(m.obj);
  if (!deleting) ensureMacvlanFinalizer(ctx, plan, m);
  const nodes = deleting ? [] : selectedNodes(ctx, m.obj);
  const opsBefore = plan.size.ops;
  const delsBefore = plan.mark().d;
  // Only what this transaction writes is compared: new claims (absent), freed claims and
  // claims marked external (as cached), the status. A kept claim or a selected Node that
  // changes meanwhile wakes this reconcile again, and on a stock etcd (128 compares) a compare
  // per node would cap a MacvlanNet at ~40 nodes.
  const r = startRound(ctx, m.obj, new Set(nodes.map((n) => n.obj.metadata.name)), plan, state, statusReserve(nodes.length + 2, marksStatusBytes(ctx, name)));
  if (deleting && !r.leaving.size && !r.more) {
    if (!finishMacvlanDeletion(ctx, plan, m, r.unfreed)) return { result: 'synced', more: true, progress: true, uid: m.obj.metadata.uid };
    return { result: 'gone' };
  }
  if (deleting) deletingParts(r.leaving);
  if (r.xnetIpam) beforeParts(ctx, r, nodes.map((n) => n.obj.metadata.name), plan, state);
  const statusNodes: MacvlanNodeStatus[] = [];
  let missing = 0;
  let starved: string | undefined;
  let served = false;
  const parts = nodes.map((n) => planNodePart(ctx, r, n, plan));
  // a node asking with nothing to come is refused at once by its plugin (./macvlan-used-up.ts)
  const usedUp = r.xnetIpam ? markUsedUp(ctx, r, parts, plan.mark().d > delsBefore) : undefined;
  for (const [i, n] of nodes.entries()) {
    const part = parts[i];
    if (part.lacking) missing++;
    if (part.starved && !starved) {
      starved = `${n.obj.metadata.name}: ${part.starved}`;
      served = beingRebalanced(r.fair, n.obj.metadata.name) || !!coolingWhy(ctx, r, n.obj.metadata.name, 'refill'); // given back, or cooled down
    }
    statusNodes.push(part.status);
  }
  const allReady = nodes.length > 0 && statusNodes.every((s) => s.ready);
  statusNodes.push(...leavingStatus(r.leaving));
  // dockerIPAM blocks: an address Docker gave twice on the segment, said (macvlan-conflicts.ts)
  r.conflicts = findConflicts(ctx, r.m, statusNodes);
  const told = newConflicts(ctx.model.controllerStatus('MacvlanNet', name)?.status, r.conflicts);
  const progress = plan.size.ops > opsBefore;
  const deferred = writeMacvlanStatus(ctx, plan, r.m, r.xnetIpam, statusNodes, { count: missing, cooling: parts.filter((p) => p.cooling).length }, usedUp, r);
  return {
    result: 'synced', ready: allReady, missing, more: r.more || r.again || deferred, progress: progress || deferred, uid: m.obj.metadata.uid,
    ...(starved ? { starved, starvedServed: served } : {}), ...(r.marked ? { marked: r.marked } : {}), ...(r.unmarked ? { unmarked: r.unmarked } : {}),
    ...(told.length ? { conflicts: told } : {}), ...coolingOutcome(r),
  };
}

/** dockerIPAM xnet: what the round settles for the whole pool before any node's part. */
function beforeParts(ctx: Ctx, r: MvnRound, nodes: string[], plan: TxnPlan, state: RoundState): void {
  // What the nodes' containers use comes first (it lost its claim with a deleted Node): a shim
  // or a refill takes the lowest free addresses and would hand it to another node.
  reclaimInUse(ctx, r, nodes, plan);
  // The addresses asked for by name next: each is reserved for its asker (macvlan-reserved.ts),
  // so no shim or refill takes it (freeAddresses), and the asker may come before the holder in
  // name order.
  r.giveBacks = giveBacksOf(ctx, r, nodes);
  // Every node's shim before any node's addresses at hand: on a small segment the first node's
  // refill would otherwise take the addresses the others need to be Ready at all.
  if (r.m.spec.hostShim) for (const n of nodes) ensureShim(r, n, plan);
  r.fair = fairOf(ctx, r, nodes, state);
}

/** The round's fair shares, once every node's shim is claimed (they come first). */
function fairOf(ctx: Ctx, r: MvnRound, nodes: string[], state: RoundState): FairRound | undefined {
  return fairRound({
    range: macvlanAddressRange(r.m.spec, r.takenBlocks), taken: r.takenAddrs, nodes,
    held: (node) => new Set((r.pools.get(node) ?? []).map((c) => c.ip)),
    report: (node) => reportOf(ctx, r, node),
    reporting: (node) => nodeReports(ctx, node, r.name),
    lacksShim: (node) => !!r.m.spec.hostShim && !r.shims.has(node) && !r.newShims.has(node),
    nicsWaiting: () => nicsWaiting(ctx, r, state),
  });
}

/**
 * A Docker block claim that does not decode: its size is in the value, so the block of the
 * current blockPrefix at its base is taken whole, for blocks and for addresses alike (an address
 * claim puts the key of its block as absent, which this key fails).
 */
function takeUnreadableBlock(r: MvnRound, base: number): void {
  const block = cidrInterval(blockOf(base, r.m.spec.blockPrefix ?? 28));
  r.takenBlocks.push(block);
  for (let ip = block.first; ip <= block.last; ip++) r.takenAddrs.add(ip);
}

/** Sorts this MacvlanNet's claims into those that stay (one per node and role) and those deleted. */
function startRound(ctx: Ctx, m: MacvlanNet, selected: Set<string>, plan: TxnPlan, state: RoundState, reserve: MvnRound['reserve']): MvnRound {
  const name = m.metadata.name;
  const uid = m.metadata.uid!;
  const xnetIpam = (m.spec.dockerIPAM ?? 'xnet') === 'xnet';
  const blocks = ctx.model.claimsIn('macvlannets', name, 'blocks');
  const r: MvnRound = {
    name, m, owner: { kind: 'MacvlanNet', name, uid }, xnetIpam,
    addrSpace: ctx.model.ipam.space('macvlannets', name, 'addresses'),
    blockSpace: ctx.model.ipam.space('macvlannets', name, 'blocks'),
    blocks: new Map(), previous: new Map(), shims: new Map(), newShims: new Map(), pools: new Map(),
    addrRange: macvlanAddressRange(m.spec, [...blocks.values()].map((c) => cidrInterval(parseCidr(c.claim.cidr!)))),
    takenAddrs: new Set(), takenBlocks: [],
    rp: (state.get(`mvn/${name}`) as MvnRound['rp'] | undefined) ?? { blocks: [], addrs: new Set<number>() },
    // NICs in this round share the pool's RoundPool: mark what they took too.
    nicTaken: roundPool(state, `macvlannets/${name}`).taken,
    reserve, touched: new Set(), more: false, skipping: false, freeing: false, again: false, leaving: new Map(), unfreed: [], reclaimed: new Map(), outside: new Map(), reports: new Map(),
    cooling: (ip, taker, node) => coolingUntil(ctx, { type: 'macvlannets', name }, ip, taker, node), coolingWaits: new Map(),
  };
  state.set(`mvn/${name}`, r.rp);
  sortOwnClaims(ctx, r, selected, plan);
  const addrs = ctx.model.claimsIn('macvlannets', name, 'addresses');
  for (const ip of [...addrs.keys(), ...r.rp.addrs, ...r.nicTaken]) r.takenAddrs.add(ip);
  // no block, shim or node-pool address over a Node's own address (Model.nodeRoutedBy), nor
  // over one a ContainerNic pins (Model.nicPinning), also a NIC this round has not planned yet.
  // Not marked in nicTaken: the pinning NIC itself checks that pool when it claims its address.
  for (const ip of ctx.model.routedAddressesIn(parseCidr(m.spec.subnet))) r.takenAddrs.add(ip);
  for (const ip of ctx.model.nicPinnedAddresses('macvlannets', name)) r.takenAddrs.add(ip);
  // a claim key that does not decode is there all the same: its address, or its block's base
  // (the block's size is in the value that does not decode), is taken
  for (const ip of ctx.model.unreadableClaimsIn('macvlannets', name, 'addresses')) r.takenAddrs.add(ip);
  for (const base of ctx.model.unreadableClaimsIn('macvlannets', name, 'blocks')) takeUnreadableBlock(r, base);
  // Every block stays taken in this round, own ones deleted in it too (free in the next): a new
  // block at the same base would put the key this transaction deletes, which etcd refuses.
  for (const c of blocks.values()) r.takenBlocks.push(cidrInterval(parseCidr(c.claim.cidr!)));
  r.takenBlocks.push(...r.rp.blocks);
  return r;
}

/** starved: why the node has no address at hand while its agent asks for one; cooling: it lacks its block or shim only until released addresses cool down */
interface NodePart extends PlannedPart { lacking?: string; cooling?: boolean }

function planNodePart(ctx: Ctx, r: MvnRound, n: Entry<Node>, plan: TxnPlan): NodePart {
  const node = n.obj.metadata.name;
  // Each item goes in only if it fits (tryAdd): once one does not, the round is `more` and
  // this node and those after it report what they hold now; the next round goes on from there.
  r.skipping = false;
  const block = r.xnetIpam ? undefined : ensureBlock(r, node, plan);
  const previous = r.previous.get(node)?.claim.cidr;
  const shim = ensureShim(r, node, plan);
  const pool = r.xnetIpam ? ensureNodePool(ctx, r, node, plan) : undefined;
  const addresses = pool?.addresses;
  const report = agentReport(ctx, node, r.name);
  const skipped = r.skipping ? 'its part needs more than one etcd transaction holds; skipped' : undefined;
  const noBlock = !r.xnetIpam && !block;
  const noShim = r.m.spec.hostShim && !shim;
  // a block this transaction deletes may be the room this node needs: plan again after it
  if (noBlock && r.freeing) r.again = true;
  const waiting = !skipped && (r.more || r.again) && (noBlock || noShim) ? 'waiting for the next transaction of this pool' : undefined;
  const cooling = skipped || waiting ? undefined : noBlock ? coolingWhy(ctx, r, node, 'block') : noShim ? coolingWhy(ctx, r, node, 'shim') : undefined;
  const lacking = skipped || waiting ? undefined : noBlock ? cooling ?? `no free /${r.m.spec.blockPrefix} block left for Docker`
    : noShim ? cooling ?? 'no free address left for the host shim' : undefined;
  const starved = lacking || waiting || skipped || r.more ? undefined : pool?.starved;
  const maxFree = maxFreeOf(r.fair, node);
  // Docker there still hands out the old block: the node's part is not in place yet
  const lost = agentLost(ctx, node) ? AGENT_LOST : undefined;
  const ready = !lacking && !waiting && !skipped && !starved && !previous && !lost && report?.ready === true;
  const parent = nodeParent(ctx, r.m, n);
  return {
    lacking, cooling: !!cooling, starved, idle: pool?.idle,
    status: {
      name: node,
      ...(parent ? { parent } : {}),
      ...(block ? { dockerRange: block } : {}),
      ...(previous ? { previousDockerRange: previous } : {}),
      ...(shim ? { shimAddress: shim } : {}),
      ...(addresses ? { addresses } : {}),
      ...(r.outside.get(node)?.length ? { outsideRange: [...r.outside.get(node)!].sort((a, b) => a - b).map(formatIPv4) } : {}),
      ...(maxFree !== undefined ? { maxFree } : {}),
      ...giveBackField(r.giveBacks, node),
      ...(pool?.refused.length ? { refusedRequests: pool.refused } : {}),
      ready,
      message: lacking ?? skipped ?? waiting ?? starved ?? lost ?? (previous && report?.ready !== false ? `its Docker network still has ${previous}` : undefined) ?? report?.message ?? (report ? (ready ? 'ready' : 'not ready') : 'waiting for the node\'s agent'),
    },
  };
}

/** dockerIPAM blocks: the node's Docker block, claimed when it has none. */
function ensureBlock(r: MvnRound, node: string, plan: TxnPlan): string | undefined {
  const have = r.blocks.get(node)?.claim.cidr;
  if (have) return have;
  if (r.more || r.skipping) return undefined;
  const b = freeBlock(r, node);
  if (!b) return undefined;
  const iv = cidrInterval(b);
  const key = r.blockSpace + padIp(b.base);
  const claim: Claim = { owner: r.owner, role: 'docker-block', cidr: formatCidr(b), node };
  if (!tryAdd(r, plan, () => plan.absent(key).rangeAbsent(r.addrSpace + padIp(iv.first), r.addrSpace + padIp(iv.last) + '\u0000').put(key, claim), node)) return undefined;
  r.takenBlocks.push(iv);
  r.rp.blocks.push(iv);
  return formatCidr(b);
}

function ensureShim(r: MvnRound, node: string, plan: TxnPlan): string | undefined {
  const have = r.shims.get(node);
  if (!r.m.spec.hostShim) {
    if (have) tryAdd(r, plan, () => freeClaim(plan, have), node);
    return undefined;
  }
  if (have) return have.claim.ip;
  const fresh = r.newShims.get(node);
  if (fresh) return fresh;
  if (r.more || r.skipping) return undefined;
  const found = freeAddresses(r, 1, 'shim');
  waitsCooling(r, node, 'shim', found.coolingUntil);
  const [ip] = found.ips;
  if (ip === undefined || !claimAddress(r, ip, { owner: r.owner, role: 'shim', ip: formatIPv4(ip), node }, plan)) return undefined;
  r.newShims.set(node, formatIPv4(ip));
  return formatIPv4(ip);
}

/**
 * dockerIPAM xnet: applies the node's report to its pre-claimed addresses (release what it
 * returned, mark external what answered a probe, claim what `--ip` asked for, refill below the
 * low-water mark, up to its fair share of a small pool) and returns the addresses the node
 * holds after this transaction, and why it has none at hand when its agent asks for one.
 */
function ensureNodePool(ctx: Ctx, r: MvnRound, node: string, plan: TxnPlan): { addresses: string[]; refused: RefusedRequest[]; starved?: string; idle?: number } {
  const entries = new Map((r.pools.get(node) ?? []).map((c) => [c.ip, c]));
  const held = new Set([...entries.keys(), ...r.reclaimed.get(node) ?? []]);
  // No compare on the report: whatever the agent writes next, an address it listed as
  // returned or external stays out of its hands, so acting on an older report is safe.
  const report = reportOf(ctx, r, node);
  const p = planNodePool(held, report, r.fair?.share);
  // Item by item, so a node that returned hundreds of addresses gives them back over several
  // transactions; `held` is what the node holds once this one commits.
  for (const ip of p.release) if (tryAdd(r, plan, () => freeClaim(plan, entries.get(ip)!), node)) held.delete(ip);
  // what it gave back may be what a starving node waits for: planned again once committed
  // (a waiting NIC is woken by the release itself)
  if (p.release.length && r.fair && [...r.fair.needs.values()].some((n) => n.starving)) r.again = true;
  // or what another node's --ip asked back: granted in the next round (one key is not deleted and put in one transaction)
  if (p.release.some((ip) => r.giveBacks?.wanted.has(ip))) r.again = true;
  const markedAt = markTime();
  for (const ip of p.external) if (markExternal(r, plan, entries.get(ip)!, node, markedAt)) held.delete(ip);
  const claim = (ip: number) => {
    if (!claimAddress(r, ip, { owner: r.owner, role: 'node-pool', ip: formatIPv4(ip), node }, plan)) return;
    held.add(ip);
    if (r.fair) r.fair.spare = Math.max(0, r.fair.spare - 1);
  };
  const range = macvlanAddressRange(r.m.spec, r.takenBlocks);
  // none past MAX_NODE_PRECLAIMS: refused, naming the bound (macvlan-requests.ts)
  const max = maxPreClaims(ctx);
  for (const ip of p.requested) if (preClaimRoom(held.size, max) && !r.takenAddrs.has(ip) && range.some((x) => ip >= x.first && ip <= x.last)) claim(ip);
  const refused = refusedRequests(p.requested.filter((ip) => !held.has(ip)), node, { ...addressLookup(ctx, r, range), full: preClaimRoom(held.size, max) ? undefined : max }, formatIPv4);
  const addresses = () => [...held].sort((a, b) => a - b).map(formatIPv4);
  if (r.more || r.skipping) return { addresses: addresses(), refused };
  // Never hand a node back an address it is returning: it could not tell the two apart.
  const returned = new Set((report?.returned ?? []).map(parseIPv4));
  // a small pool's refills leave what ContainerNics waiting need (macvlan-fair.ts `spare`); no
  // refill for a node whose agent never reported (what it holds stays: macvlan-agent.ts agentStarted)
  const more = !agentStarted(ctx, node) ? 0 : Math.min(r.fair ? Math.min(p.more, r.fair.spare) : p.more, preClaimRoom(held.size, max));
  // (nor one a node asks for by name, nor one cooling down after its release: freeAddresses skips them)
  const refill = freeAddresses(r, more ? more + returned.size : 0, 'node-pool', node);
  waitsCooling(r, node, 'refill', refill.coolingUntil);
  for (const ip of refill.ips.filter((a) => !returned.has(a)).slice(0, more)) claim(ip);
  // counted only on a small pool whose node asks: a large pool never runs out under its nodes
  const idle = idleCount(held, report);
  const starved = r.fair && report?.want ? (idle === 0 ? coolingWhy(ctx, r, node, 'refill') : undefined) ?? starvedWhy(r.fair, node, idle, report) : undefined;
  return { addresses: addresses(), refused, idle, ...(starved ? { starved } : {}) };
}

/** What the round knows of the pool's addresses, for the reasons of refused --ip requests. */
function addressLookup(ctx: Ctx, r: MvnRound, range: Interval[]): AddressLookup {
  const claims = ctx.model.claimsIn('macvlannets', r.name, 'addresses');
  return {
    range,
    claim: (ip) => claims.get(ip)?.claim,
    pinnedBy: (ip) => ctx.model.nicPinning('macvlannets', r.name, ip),
    nodeOf: (ip) => ctx.model.nodeRoutedBy(formatIPv4(ip)),
    nicNode: (name) => ctx.model.nic(name)?.obj.spec.node,
    otherPreClaim: (ip, holder) => preClaimRefusal(r.giveBacks, ip, holder, nodeReports(ctx, holder, r.name)),
  };
}
