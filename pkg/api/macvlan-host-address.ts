// Which addresses of a MacvlanNet a host's shim or a container may hold, as the agent checks
// what the controller's status names before the kernel or Docker sees it. The controller hands
// out only addresses of the range (rules.ts macvlanRange); a status written otherwise (a hand
// edit, the admin's credentials, a controller bug) is refused here, once for the shim and the
// addresses the IPAM plugin gives containers alike.
import { cidrContains, parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { reservedAddressWhy } from './rules.js';
import type { MacvlanNet } from './types.js';

/**
 * Why no host or container on the MacvlanNet may hold `ip` (an IPv4 address), or undefined. A
 * shim's /32 is a local address of the host and answers ARP for it on the LAN, and so does a
 * container's: one outside the subnet (the etcd endpoint, a DNS server) took traffic meant for
 * it, the network or broadcast address is no host's, and the gateway's answered for the LAN's router.
 */
export function macvlanHostAddressWhy(spec: Pick<MacvlanNet['spec'], 'subnet' | 'gateway'>, ip: string): string | undefined {
  const subnet = parseCidr(spec.subnet);
  const n = parseIPv4(ip);
  if (!cidrContains(subnet, n)) return `is outside spec.subnet ${spec.subnet}`;
  const reserved = reservedAddressWhy(subnet, n);
  if (reserved) return `is the ${reserved} address of ${spec.subnet}`;
  return n === (spec.gateway ? parseIPv4(spec.gateway) : subnet.base + 1) ? `is the gateway of ${spec.subnet}` : undefined;
}
