// ContainerNic address allocation. One executor per pool (a ClusterNetwork's address space,
// or a MacvlanNet) batches pending NICs: each NIC adds "claim key absent" + "owner is the same
// incarnation" compares and two puts (claim, status), so one transaction allocates dozens
// of addresses and a crash between any two instants leaves either both or neither.
import type { ContainerNic, HostSubnet } from '../api/index.js';
import { formatIPv4, parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { AllocationError, type AllocationFailure, blockOfAddress, hostSubnetXnetRange, macvlanAddressRange } from '../ipam/plan.js';
import { contains, cidrInterval, type Interval } from '../ipam/ranges.js';
import { padIp, type Claim, type PoolType } from '../ipam/keys.js';
import type { TxnPlan } from './txn-plan.js';
import type { RoundState } from './pool-executor.js';
import type { Entry, ClaimEntry } from './model.js';
import { conditions, putStatusIfChanged, type Ctx, type Status } from './context.js';

export interface NicOutcome {
  result: 'allocated' | 'unchanged' | 'failed' | 'waiting' | 'gone';
  ip?: string;
  reason?: string;
  message?: string;
}

export function nicPool(nic: ContainerNic): { type: PoolType; name: string } | undefined {
  if (nic.spec.network.clusterNetwork) return { type: 'clusternetworks', name: nic.spec.network.clusterNetwork };
  if (nic.spec.network.macvlanNet) return { type: 'macvlannets', name: nic.spec.network.macvlanNet };
  return undefined;
}

interface Target {
  ranges: Interval[];
  prefixLength: number;
  gateway?: string;
  /** what the NIC's address range is called in messages */
  describe: string;
}

interface RoundPool { taken: Set<number>; cursor: Map<string, number> }

export function roundPool(state: RoundState, id: string): RoundPool {
  let p = state.get(`pool/${id}`) as RoundPool | undefined;
  if (!p) state.set(`pool/${id}`, (p = { taken: new Set(), cursor: new Map() }));
  return p;
}

/** Not a failure: the NIC waits for something another reconcile provides (its HostSubnet). */
export class WaitingError extends AllocationError {
  constructor(reason: AllocationFailure, message: string) { super(reason, message, { retryable: true }); }
}

/** The HostSubnet and xnet part of it that this NIC's node offers; guards the plan on it. */
function clusterTarget(ctx: Ctx, nic: ContainerNic, plan: TxnPlan): Target {
  const cnName = nic.spec.network.clusterNetwork!;
  if (!ctx.model.clusterNetwork(cnName)) throw new AllocationError('InvalidSpec', `ClusterNetwork "${cnName}" does not exist`);
  const candidates: Array<{ hs: Entry<HostSubnet>; st: Status }> = [];
  for (const hs of ctx.model.hostSubnetsOf(cnName, nic.spec.node).sort((a, b) => a.obj.metadata.name.localeCompare(b.obj.metadata.name))) {
    const st = ctx.model.controllerStatus<Status>('HostSubnet', hs.obj.metadata.name);
    if (st?.status.subnet && st.status.gateway && st.status.dockerRange) candidates.push({ hs, st: st.status });
  }
  if (!candidates.length) {
    throw new WaitingError('WaitingForHostSubnet', `node "${nic.spec.node}" has no allocated HostSubnet on ClusterNetwork "${cnName}" yet`);
  }
  const want = nic.spec.ip ? parseIPv4(nic.spec.ip) : undefined;
  const pick = (want !== undefined && candidates.find((c) => contains([cidrInterval(parseCidr(c.st.subnet as string))], want))) || candidates[0];
  const layout = { subnet: pick.st.subnet as string, gateway: pick.st.gateway as string, bridge: '', dockerRange: pick.st.dockerRange as string };
  const statusKey = ctx.model.keys.status('HostSubnet', pick.hs.obj.metadata.name, { controller: true });
  plan.unchanged(statusKey, ctx.model.cache.get(statusKey));
  return {
    ranges: hostSubnetXnetRange(layout),
    prefixLength: parseCidr(layout.subnet).prefix,
    gateway: layout.gateway,
    describe: `the xnet part of HostSubnet "${pick.hs.obj.metadata.name}" (${layout.subnet} minus Docker's ${layout.dockerRange} and the gateway)`,
  };
}

function blockIntervals(ctx: Ctx, mvn: string): Interval[] {
  return [...ctx.model.claimsIn('macvlannets', mvn, 'blocks').values()].map((c) => cidrInterval(parseCidr(c.claim.cidr!)));
}

function macvlanTarget(ctx: Ctx, nic: ContainerNic, plan: TxnPlan, state: RoundState): Target {
  const name = nic.spec.network.macvlanNet!;
  const m = ctx.model.macvlanNet(name);
  if (!m) throw new AllocationError('InvalidSpec', `MacvlanNet "${name}" does not exist`);
  plan.unchanged(ctx.model.keys.object('MacvlanNet', name), m.kv);
  return {
    // Blocks claimed earlier in this same round are not in the cache yet.
    ranges: macvlanAddressRange(m.obj.spec, [...blockIntervals(ctx, name), ...((state.get(`mvn/${name}`) as { blocks: Interval[] } | undefined)?.blocks ?? [])]),
    prefixLength: parseCidr(m.obj.spec.subnet).prefix,
    gateway: m.obj.spec.gateway,
    describe: `MacvlanNet "${name}"'s range (${m.obj.spec.ipRange ?? m.obj.spec.subnet} minus exclude, gateway and the nodes' Docker blocks)`,
  };
}

/** Compares that keep an address claim apart from MacvlanNet Docker blocks. */
function guardAddress(ctx: Ctx, plan: TxnPlan, pool: { type: PoolType; name: string }, ip: number): void {
  if (pool.type !== 'macvlannets') return;
  const m = ctx.model.macvlanNet(pool.name);
  if (!m) return;
  const block = blockOfAddress(m.obj.spec, ip);
  plan.absent(ctx.model.ipam.claim('macvlannets', pool.name, 'blocks', block.base));
}

function pickFree(target: Target, claims: Map<number, ClaimEntry>, rp: RoundPool): number | undefined {
  for (const r of target.ranges) {
    // Within one round everything below the cursor is taken, so the scan resumes there.
    const id = `${r.first}-${r.last}`;
    for (let ip = Math.max(r.first, rp.cursor.get(id) ?? r.first); ip <= r.last; ip++) {
      if (!claims.has(ip) && !rp.taken.has(ip)) { rp.cursor.set(id, ip + 1); return ip; }
    }
    rp.cursor.set(id, r.last + 1);
  }
  return undefined;
}

export function planNic(ctx: Ctx, name: string, plan: TxnPlan, state: RoundState): NicOutcome {
  const e = ctx.model.nic(name);
  if (!e) return { result: 'gone' };
  const nic = e.obj;
  const uid = nic.metadata.uid!;
  const pool = nicPool(nic);
  const prev = ctx.model.controllerStatus<Status>('ContainerNic', name)?.status;
  plan.sameIncarnation(ctx.model.keys.object('ContainerNic', name), e.kv);
  const mine = ctx.model.claimsOf(uid);
  const fail = (err: AllocationError): NicOutcome => {
    for (const c of mine) plan.unchanged(c.key, c.kv).del(c.key);
    putStatusIfChanged(ctx, plan, 'ContainerNic', name, {
      observedGeneration: nic.metadata.generation,
      ...(nic.spec.mac ? { mac: nic.spec.mac } : {}),
      conditions: conditions(prev, [
        { type: 'Allocated', status: 'False', reason: err.reason, message: err.message },
        { type: 'Ready', status: 'False', reason: err.reason, message: err.message },
      ]),
    });
    return { result: err instanceof WaitingError ? 'waiting' : 'failed', reason: err.reason, message: err.message };
  };
  if (!pool) return fail(new AllocationError('InvalidSpec', 'spec.network must name a clusterNetwork or a macvlanNet'));
  let target: Target;
  try {
    target = pool.type === 'clusternetworks' ? clusterTarget(ctx, nic, plan) : macvlanTarget(ctx, nic, plan, state);
  } catch (err) {
    if (err instanceof AllocationError) return fail(err);
    throw err;
  }
  const spacePrefix = ctx.model.ipam.space(pool.type, pool.name, 'addresses');
  const claims = ctx.model.claimsIn(pool.type, pool.name, 'addresses');
  const rp = roundPool(state, `${pool.type}/${pool.name}`);
  const want = nic.spec.ip ? parseIPv4(nic.spec.ip) : undefined;
  const keep = mine.find((c) => c.key.startsWith(spacePrefix) && contains(target.ranges, c.ip) && (want === undefined || c.ip === want));
  let ip: number;
  let claimed = false;
  if (keep) {
    ip = keep.ip;
    plan.unchanged(keep.key, keep.kv);
  } else {
    if (want !== undefined) {
      if (!contains(target.ranges, want)) {
        // Inside a node's Docker block is a conflict with Docker's IPAM, not a typo in the range.
        const block = pool.type === 'macvlannets'
          ? [...ctx.model.claimsIn('macvlannets', pool.name, 'blocks').values()].find((c) => contains([cidrInterval(parseCidr(c.claim.cidr!))], want))
          : undefined;
        if (block) return fail(new WaitingError('IPConflict', `ip ${nic.spec.ip} is inside ${block.claim.cidr}, the Docker block of node "${block.claim.node}" on MacvlanNet "${pool.name}"`));
        return fail(new AllocationError('OutOfRange', `ip ${nic.spec.ip} is outside ${target.describe}`));
      }
      const holder = claims.get(want);
      if ((holder && holder.claim.owner.uid !== uid) || rp.taken.has(want)) {
        const who = holder ? `${holder.claim.owner.kind} "${holder.claim.owner.name}"${holder.claim.node ? ` on node "${holder.claim.node}"` : ''}` : 'another ContainerNic allocated at the same time';
        return fail(new WaitingError('IPConflict', `ip ${nic.spec.ip} is already used by ${who}`));
      }
      ip = want;
    } else {
      const free = pickFree(target, claims, rp);
      if (free === undefined) return fail(new WaitingError('PoolExhausted', `no free address left in ${target.describe}`));
      ip = free;
    }
    claimed = true;
  }
  rp.taken.add(ip);
  for (const c of mine) if (c !== keep) plan.unchanged(c.key, c.kv).del(c.key);
  if (claimed) {
    const key = spacePrefix + padIp(ip);
    const claim: Claim = { owner: { kind: 'ContainerNic', name, uid }, role: 'nic', ip: formatIPv4(ip), node: nic.spec.node };
    plan.absent(key).put(key, claim);
    guardAddress(ctx, plan, pool, ip);
  }
  const ipText = formatIPv4(ip);
  const wrote = putStatusIfChanged(ctx, plan, 'ContainerNic', name, {
    observedGeneration: nic.metadata.generation,
    ip: ipText,
    prefixLength: target.prefixLength,
    ...(target.gateway ? { gateway: target.gateway } : {}),
    ...(nic.spec.mac ? { mac: nic.spec.mac } : {}),
    conditions: conditions(prev, [
      { type: 'Allocated', status: 'True', reason: 'Allocated', message: `${ipText}/${target.prefixLength} allocated` },
      { type: 'Ready', status: 'False', reason: 'WaitingForAgent', message: `waiting for the agent of node "${nic.spec.node}" to put ${nic.spec.ifName} into container "${nic.spec.container}"` },
    ]),
  });
  return { result: claimed || wrote ? 'allocated' : 'unchanged', ip: ipText };
}

