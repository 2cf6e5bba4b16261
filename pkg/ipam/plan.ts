// Pure allocation planning: which block or address to take, given what is already claimed.
// No I/O here; the controller proves each choice in etcd with a guarded transaction
// (../controller/txn-plan.ts), so a plan made from a stale view fails instead of colliding.
import {
  parseCidr, parseIPv4, formatCidr, nthBlock, blockCount, blockIndex,
  blockOf, cidrContains, cidrCovers, type Cidr,
} from '../ip/ipv4.js';
import type { ClusterNetwork, HostSubnet, MacvlanNet } from '../api/index.js';
import { cidrInterval, subtract, overlaps, type Interval } from './ranges.js';
import { IpamError, type XnetErrorOptions } from '../errors.js';
import { hostSubnetDefaults, hostSubnetXnetRange, macvlanRange } from '../api/rules.js';

// The range rules live in the one rules module; the allocator re-exports what its callers use.
export { hostSubnetXnetRange, macvlanRange };

/** A reason a user can act on, used as the Ready condition's reason. */
export type AllocationFailure = 'OutOfRange' | 'IPConflict' | 'PoolExhausted' | 'SubnetConflict' | 'InvalidSpec' | 'WaitingForHostSubnet' | 'BridgeConflict'
  | 'SubnetChangeTooLarge' | 'Unreadable' | 'NodeNotFound';

export class AllocationError extends IpamError {
  declare readonly reason: AllocationFailure;
  constructor(reason: AllocationFailure, message: string, opts?: XnetErrorOptions) { super(reason, message, opts); }
}

// ---------- ClusterNetwork blocks (HostSubnets) ----------

/**
 * Indexes of the hostPrefix-sized slots of the ClusterNetwork that `subnet` touches. A subnet
 * larger than hostPrefix holds several slots; a smaller one still holds its whole slot, so one
 * claim key per slot is enough to keep every two HostSubnets apart.
 */
export function slotsOf(cn: ClusterNetwork['spec'], subnet: Cidr): number[] {
  const pool = parseCidr(cn.cidr);
  if (!cidrCovers(pool, subnet)) {
    throw new AllocationError('OutOfRange', `subnet ${formatCidr(subnet)} is outside ClusterNetwork cidr ${cn.cidr}`);
  }
  const p = cn.hostPrefix;
  const first = Math.floor(blockIndex(pool, blockOf(subnet.base, p)));
  const n = subnet.prefix >= p ? 1 : 2 ** (p - subnet.prefix);
  return Array.from({ length: n }, (_, i) => first + i);
}

function reservedIntervals(cn: ClusterNetwork['spec']): Interval[] {
  return (cn.reserved ?? []).map((r) => cidrInterval(parseCidr(r)));
}

/**
 * Whether slot `i` is one the ClusterNetwork hands out: a whole hostPrefix block inside its
 * cidr that overlaps no reserved range. A claim on any other slot (one an edited cidr left
 * outside, one a new reserved range covers) is not kept: its HostSubnet moves.
 */
function isHandedOut(pool: Cidr, hostPrefix: number, reserved: Interval[], i: number): boolean {
  return Number.isInteger(i) && i >= 0 && i < blockCount(pool, hostPrefix)
    && !overlaps(reserved, cidrInterval(nthBlock(pool, hostPrefix, i)));
}

/** isHandedOut for one slot of a ClusterNetwork spec. */
export function slotHandedOut(cn: ClusterNetwork['spec'], slot: number): boolean {
  return isHandedOut(parseCidr(cn.cidr), cn.hostPrefix, reservedIntervals(cn), slot);
}

/** The next `n` free hostPrefix blocks, lowest first, skipping reserved and claimed slots. */
export function nextFreeSlots(cn: ClusterNetwork['spec'], claimed: ReadonlySet<number>, n: number, from = 0): number[] {
  const pool = parseCidr(cn.cidr);
  const reserved = reservedIntervals(cn);
  const total = blockCount(pool, cn.hostPrefix);
  const out: number[] = [];
  for (let i = from; i < total && out.length < n; i++) {
    if (!claimed.has(i) && isHandedOut(pool, cn.hostPrefix, reserved, i)) out.push(i);
  }
  return out;
}

export function slotCount(cn: ClusterNetwork['spec']): number {
  const pool = parseCidr(cn.cidr);
  const reserved = reservedIntervals(cn);
  let n = 0;
  const total = blockCount(pool, cn.hostPrefix);
  for (let i = 0; i < total; i++) if (isHandedOut(pool, cn.hostPrefix, reserved, i)) n++;
  return n;
}

export function slotCidr(cn: ClusterNetwork['spec'], slot: number): Cidr {
  return nthBlock(parseCidr(cn.cidr), cn.hostPrefix, slot);
}

export function bridgeName(prefix: string, index: number): string {
  return prefix + String(index).padStart(2, '0');
}

/** Index of the hostPrefix slot of the ClusterNetwork that holds the subnet's first address. */
export function subnetSlot(cn: ClusterNetwork['spec'], subnetText: string): number {
  return Math.floor(blockIndex(parseCidr(cn.cidr), blockOf(parseCidr(subnetText).base, cn.hostPrefix)));
}

export interface HostSubnetLayout {
  subnet: string;
  gateway: string;
  bridge: string;
  dockerRange: string;
}

/**
 * Fills the HostSubnet fields the user left out: gateway = first address, dockerRange = the
 * upper half, bridge = bridgePrefix + the block's 2-digit index (10.76.1.0/24 in 10.76.0.0/16
 * is br01, as in the manual procedure this automates).
 */
export function hostSubnetLayout(cn: ClusterNetwork['spec'], spec: HostSubnet['spec'], subnetText: string): HostSubnetLayout {
  const subnet = parseCidr(subnetText);
  const defaults = hostSubnetDefaults(subnetText);
  const gateway = spec.gateway ?? defaults.gateway;
  if (!cidrContains(subnet, parseIPv4(gateway))) {
    throw new AllocationError('InvalidSpec', `gateway ${gateway} is outside subnet ${subnetText}`);
  }
  const dockerRange = spec.dockerRange ?? defaults.dockerRange;
  if (!cidrCovers(subnet, parseCidr(dockerRange))) {
    throw new AllocationError('InvalidSpec', `dockerRange ${dockerRange} is outside subnet ${subnetText}`);
  }
  const bridge = spec.bridge ?? bridgeName(cn.bridgePrefix ?? 'br', subnetSlot(cn, subnetText));
  return { subnet: subnetText, gateway, bridge, dockerRange };
}

// ---------- MacvlanNet: per-node Docker blocks, shim and NIC addresses ----------

/**
 * The next free blockPrefix-aligned blocks lying wholly inside the MacvlanNet's range and
 * holding no claimed address, highest first, so that Docker blocks gather at the top and
 * single addresses at the bottom.
 */
export function nextFreeMacvlanBlocks(
  spec: MacvlanNet['spec'], takenBlocks: Interval[], takenAddresses: { has(ip: number): boolean }, n: number,
): Cidr[] {
  const range = macvlanRange(spec);
  const p = spec.blockPrefix ?? 28;
  const step = 2 ** (32 - p);
  const out: Cidr[] = [];
  for (let r = range.length - 1; r >= 0 && out.length < n; r--) {
    const iv = range[r];
    const top = Math.floor((iv.last + 1) / step) * step - step;
    for (let base = top; base >= iv.first && out.length < n; base -= step) {
      const block = { first: base, last: base + step - 1 };
      if (overlaps(takenBlocks, block) || overlaps(out.map((c) => cidrInterval(c)), block)) continue;
      let used = false;
      for (let ip = block.first; ip <= block.last && !used; ip++) used = takenAddresses.has(ip);
      if (!used) out.push({ base: base >>> 0, prefix: p });
    }
  }
  return out;
}

/**
 * Whether a node's Docker block may stay where it is: a blockPrefix-aligned block of that size
 * lying wholly inside macvlanRange (so clear of every exclude, the gateway, network and
 * broadcast), as nextFreeMacvlanBlocks would choose it. An edited subnet, ipRange, exclude or
 * blockPrefix can leave a block it chose earlier outside: that one is given up for another.
 */
export function macvlanBlockFits(spec: MacvlanNet['spec'], block: Cidr): boolean {
  const p = spec.blockPrefix ?? 28;
  return block.prefix === p && blockOf(block.base, p).base === block.base
    && subtract([cidrInterval(block)], macvlanRange(spec)).length === 0;
}

/** Address ranges for NICs and shims: the MacvlanNet range minus every node's Docker block. */
export function macvlanAddressRange(spec: MacvlanNet['spec'], takenBlocks: Interval[]): Interval[] {
  return subtract(macvlanRange(spec), takenBlocks);
}

export function blockOfAddress(spec: MacvlanNet['spec'], ip: number): Cidr {
  return blockOf(ip, spec.blockPrefix ?? 28);
}

