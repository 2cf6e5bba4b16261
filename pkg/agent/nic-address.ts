// A NIC's allocation (its controller status: ip, prefixLength, gateway) checked against the
// network it goes on before the agent configures anything with it. The field checks
// (nicStatusView) prove only that they are addresses; a controller bug, or a write to the node
// index by whoever holds etcd's root, could still name the LAN router or a peer host, and a
// macvlan NIC announces its address on the LAN (arp_notify). The address must be one that the
// NIC's pool hands out, by the same rules the controller allocates by (pkg/api/rules.ts).
import type { HostSubnet, MacvlanNet } from '../api/index.js';
import { STALE_ALLOCATION } from '../api/conditions.js';
import { hostSubnetXnetRange, macvlanRange } from '../api/rules.js';
import { cidrContains, hostRange, parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { contains, type Interval } from '../ipam/ranges.js';
import type { HostSubnetView, NicStatusView } from './desired.js';
import type { Problem } from './planner/ops.js';

/** The addresses a NIC may have: what its pool hands out, and the subnet they are in. */
export interface NicPool { describe: string; subnet: string; ranges: Interval[] }

/** A HostSubnet's xnet part: its subnet less Docker's range, the gateway, network and broadcast. */
export function hostSubnetPool(hs: HostSubnet, v: HostSubnetView & { subnet: string }): NicPool {
  const gateway = v.gateway ?? '';
  const ranges = v.dockerRange && gateway
    ? hostSubnetXnetRange({ subnet: v.subnet, gateway, dockerRange: v.dockerRange })
    // no Docker range known: every host address but the gateway (still never outside the subnet)
    : [hostRange(parseCidr(v.subnet))].flatMap((r) => splitOut(r, gateway ? parseIPv4(gateway) : undefined));
  return { describe: `HostSubnet ${hs.metadata.name} (${v.subnet})`, subnet: v.subnet, ranges };
}

/** What a MacvlanNet hands out: its ipRange in the subnet, less exclude, gateway, network and broadcast. */
export function macvlanNetPool(m: MacvlanNet): NicPool {
  return { describe: `MacvlanNet ${m.metadata.name} (${m.spec.ipRange ?? m.spec.subnet})`, subnet: m.spec.subnet, ranges: macvlanRange(m.spec) };
}

function splitOut(r: Interval, ip: number | undefined): Interval[] {
  if (ip === undefined || ip < r.first || ip > r.last) return [r];
  return [{ first: r.first, last: ip - 1 }, { first: ip + 1, last: r.last }].filter((x) => x.first <= x.last);
}

/**
 * Why the NIC's allocated ip, prefixLength or gateway does not fit its pool; undefined when they
 * do. Each has decoded (nicStatusView: one that does not is InvalidStatus); one that does not
 * fit is the controller's allocation for the network as it was before an edit (a MacvlanNet's
 * ipRange shrunk under the NIC's address: the agent sees the edit before the controller has
 * moved the NIC), so the agent waits for the controller (StaleAllocation, a Normal event) and
 * puts nothing of it in the container: the interface already there is left as it is until then.
 */
export function nicAddressProblem(name: string, st: NicStatusView & { ip: string }, pool: NicPool): Problem | undefined {
  const subnet = parseCidr(pool.subnet);
  const why = !contains(pool.ranges, parseIPv4(st.ip)) ? `status.ip ${st.ip} is not an address ${pool.describe} hands out`
    : st.prefixLength !== undefined && st.prefixLength !== subnet.prefix ? `status.prefixLength ${st.prefixLength} is not that of ${pool.subnet}`
      : st.gateway !== undefined && !cidrContains(subnet, parseIPv4(st.gateway)) ? `status.gateway ${st.gateway} is outside ${pool.subnet}`
        : undefined;
  if (why === undefined) return undefined;
  return { reason: STALE_ALLOCATION, message: `ContainerNic ${name}: ${why}: waiting for the controller to allocate it anew (its network was edited?); the NIC is not configured with it` };
}
