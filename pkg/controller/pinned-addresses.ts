// The addresses that no claim holds and that pools hand to no one else all the same, indexed as
// the controller's cache changes (model.ts files each change here): the address a Node is routed
// by (its spec.address, an admin's pin, or the address its controller status accepted) and the
// address a ContainerNic's spec.ip pins in its pool.
import { isIPv4, parseIPv4, type Cidr } from '../ip/ipv4.js';
import { cidrInterval, contains } from '../ipam/ranges.js';

/** Where a ContainerNic's spec.ip pins an address: its pool ("<type>/<pool>") and the address. */
export interface NicPin { poolId: string; ip: number }

export class PinnedAddresses {
  /** spec.address -> the Nodes an admin set it on (node-address.ts: such a pin wins) */
  private readonly pinned = new Map<string, Set<string>>();
  /** address in a Node's controller status (the one peers route to) -> the Nodes holding it */
  private readonly accepted = new Map<string, Set<string>>();
  /** "<type>/<pool>" -> address -> the ContainerNics whose spec.ip pins it there (nicPinning) */
  private readonly nicPins = new Map<string, Map<number, Set<string>>>();

  /** A Node's spec.address went from `before` to `after` (none: undefined or empty). */
  fileNodePin(node: string, before: string | undefined, after: string | undefined): void {
    moveIn(this.pinned, node, before || undefined, after || undefined);
  }

  /** A Node's controller status address went from `before` to `after` (as stored: not checked). */
  fileAccepted(node: string, before: unknown, after: unknown): void {
    moveIn(this.accepted, node, typeof before === 'string' ? before : undefined, typeof after === 'string' ? after : undefined);
  }

  /** A ContainerNic's pin went from `before` to `after`. */
  fileNicPin(nic: string, before: NicPin | undefined, after: NicPin | undefined): void {
    if (before) {
      const byIp = this.nicPins.get(before.poolId);
      const s = byIp?.get(before.ip);
      s?.delete(nic);
      if (s?.size === 0) byIp!.delete(before.ip);
      if (byIp?.size === 0) this.nicPins.delete(before.poolId);
    }
    if (after) {
      let byIp = this.nicPins.get(after.poolId);
      if (!byIp) this.nicPins.set(after.poolId, (byIp = new Map()));
      let s = byIp.get(after.ip);
      if (!s) byIp.set(after.ip, (s = new Set()));
      s.add(nic);
    }
  }

  /** A Node other than `self` whose spec.address is `address`. */
  pinnedBy(address: string, self: string): string | undefined {
    for (const n of this.pinned.get(address) ?? []) if (n !== self) return n;
    return undefined;
  }

  /**
   * A Node routed by `address`: its spec.address (an admin's pin) or the report the controller
   * accepted. Pools of xnet hand out no such address (a pool made over it around xctl, or before
   * xctl checked, would otherwise give a container the host's own address on the LAN).
   */
  nodeRoutedBy(address: string): string | undefined {
    for (const n of this.pinned.get(address) ?? []) return n;
    for (const n of this.accepted.get(address) ?? []) return n;
    return undefined;
  }

  /** Every address inside `subnet` that some Node is routed by (see nodeRoutedBy). */
  routedAddressesIn(subnet: Cidr): number[] {
    const inside = [cidrInterval(subnet)];
    const out = new Set<number>();
    for (const a of [...this.pinned.keys(), ...this.accepted.keys()]) if (isIPv4(a) && contains(inside, parseIPv4(a))) out.add(parseIPv4(a));
    return [...out];
  }

  /** The Nodes the controller routes `address` to, per their statuses (more than one only in a race). */
  nodesAccepting(address: string): string[] { return [...this.accepted.get(address) ?? []]; }

  /**
   * A ContainerNic whose spec.ip pins `ip` in the pool. The controller picks such an address for
   * no one else: no other NIC, no MacvlanNet node's shim, Docker block or pre-claimed address.
   * A static address stored first wins, also over a pick planned before its NIC (a starting
   * controller plans the MacvlanNets' node parts before the NICs); one claimed before the pin
   * was stored stays with its holder (the NIC waits, IPConflict).
   */
  nicPinning(poolId: string, ip: number): string | undefined {
    for (const n of this.nicPins.get(poolId)?.get(ip) ?? []) return n;
    return undefined;
  }

  /** Every address of the pool that a ContainerNic's spec.ip pins (see nicPinning). */
  nicPinnedAddresses(poolId: string): number[] {
    return [...this.nicPins.get(poolId)?.keys() ?? []];
  }
}

/** `name` moves from `before`'s set to `after`'s in `m` (an empty set leaves the map). */
function moveIn(m: Map<string, Set<string>>, name: string, before: string | undefined, after: string | undefined): void {
  if (before !== undefined) { const s = m.get(before); s?.delete(name); if (s?.size === 0) m.delete(before); }
  if (after !== undefined) { let s = m.get(after); if (!s) m.set(after, (s = new Set())); s.add(name); }
}
