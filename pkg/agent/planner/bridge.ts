// A HostSubnet's bridge as Docker left it when it made the network: up, with the gateway
// address. The kernel keeps no owner for either, and Docker does not look again, so a bridge
// set down or stripped of its gateway by hand (or a tool) stays broken until xnet puts it
// back. Only what is missing is added: an address some other tool put on the bridge stays.
import type { Addr, Link } from '../../netlink/types.js';
import type { IpOp } from './ops.js';

/** "10.76.1.1/24": the gateway with its subnet's prefix length, as Docker puts it on the bridge. */
export function gatewayCidr(gateway: string, subnet: string): string {
  return `${gateway}/${subnet.split('/')[1]}`;
}

/**
 * `link` is the bridge as read (undefined when gone: the network is made again, which makes it);
 * `gateway` its address with the prefix length (gatewayCidr).
 */
export function planBridgeState(link: Link | undefined, addrs: Addr[], gateway: string | undefined): IpOp[] {
  if (!link) return [];
  const ops: IpOp[] = [];
  if (gateway && !addrs.some((a) => a.dev === link.name && a.cidr === gateway)) ops.push({ op: 'addr.add', dev: link.name, cidr: gateway });
  if (!link.up) ops.push({ op: 'link.set.up', name: link.name });
  return ops;
}
