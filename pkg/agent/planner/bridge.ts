// A HostSubnet's bridge as Docker left it when it made the network: up, with the gateway
// address and the network's MTU. The kernel keeps no owner for any of them, and Docker does not
// look again, so a bridge set down, stripped of its gateway or given another MTU by hand (or a
// tool) stays broken until xnet puts it back. Only what is missing is added: an address some
// other tool put on the bridge stays.
import type { Addr, Link } from '../../netlink/types.js';
import { confKey } from './nic.js';
import type { IpOp, Op } from './ops.js';

/** "10.76.1.1/24": the gateway with its subnet's prefix length, as Docker puts it on the bridge. */
export function gatewayCidr(gateway: string, subnet: string): string {
  return `${gateway}/${subnet.split('/')[1]}`;
}

/**
 * `link` is the bridge as read (undefined when gone: planBridgeRemake makes it again);
 * `gateway` its address with the prefix length (gatewayCidr); `mtu` its Docker network's
 * (networkMtu). A bridge MTU lowered by hand caps every packet its containers send across
 * hosts; raised, it lets them send what the underlay drops.
 */
export function planBridgeState(link: Link | undefined, addrs: Addr[], gateway: string | undefined, mtu?: number): IpOp[] {
  if (!link) return [];
  const ops: IpOp[] = [];
  if (gateway && !addrs.some((a) => a.dev === link.name && a.cidr === gateway)) ops.push({ op: 'addr.add', dev: link.name, cidr: gateway });
  if (mtu !== undefined && link.mtu !== mtu) ops.push({ op: 'link.set.mtu', name: link.name, mtu });
  if (!link.up) ops.push({ op: 'link.set.up', name: link.name });
  return ops;
}

/**
 * The MAC of a bridge xnet makes again: Docker's scheme for an address (02:42 + the IPv4
 * bytes) applied to the gateway, which no container on the bridge holds. Set explicitly, as
 * Docker sets a random one: a bridge left to the kernel takes its lowest port's MAC and changes
 * it whenever ports come and go, under every container's neighbour entry for the gateway.
 */
export function bridgeMac(gateway: string): string {
  return `02:42:${gateway.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':')}`;
}

/** The bridge of a Docker network in place whose bridge was deleted from the kernel. */
export interface BridgeRemake {
  bridge: string;
  /** the HostSubnet's mark (bridgeAlias) */
  mark: string;
  /** the network's MTU (com.docker.network.driver.mtu, Docker's 1500 without it) */
  mtu: number;
  /** `<gateway>/<prefix>` (gatewayCidr) */
  gateway: string;
  /** host links to put back onto it: Docker's endpoints' host veths, proven theirs (host-subnet-ports.ts) */
  ports: string[];
}

/**
 * The bridge as Docker made it, made again under the network Docker still has (Docker never
 * looks at the kernel again, and its next `docker start` on the network fails without it):
 * type bridge, the network's MTU, marked in the batch that makes it, the gateway, the orphaned
 * ports back on it, then up. `arp_notify` before up: the kernel sends a gratuitous ARP for the
 * gateway as the bridge comes up, with its ports already on it, so containers that cached the
 * deleted bridge's MAC switch at once instead of after their neighbour entry times out (up to
 * a minute, while traffic to the gateway goes nowhere). xnet's NICs go back on by their own
 * reconcile once the bridge is marked.
 */
export function planBridgeRemake(r: BridgeRemake): Op[] {
  const gateway = r.gateway.split('/')[0];
  return [
    { op: 'link.add.bridge', name: r.bridge, mtu: r.mtu, mac: bridgeMac(gateway) },
    { op: 'link.set.alias', name: r.bridge, alias: r.mark },
    { op: 'addr.add', dev: r.bridge, cidr: r.gateway },
    ...r.ports.map((p): IpOp => ({ op: 'link.set.master', name: p, master: r.bridge })),
    { op: 'sysctl.set', values: { [confKey(r.bridge, 'arp_notify')]: '1' } },
    { op: 'link.set.up', name: r.bridge },
  ];
}

/**
 * The rest of a remake whose batch stopped after the bridge was made and marked (a port that
 * went meanwhile failed its line, or the agent stopped): the ports still off it, arp_notify,
 * the gateway when missing, then up. Without it the next pass found a marked bridge that only
 * needed `up`: the ports after the failed line stayed off it, and no gratuitous ARP went out.
 */
export function planBridgeResume(r: BridgeRemake, link: Link, addrs: Addr[]): Op[] {
  return [
    ...r.ports.map((p): IpOp => ({ op: 'link.set.master', name: p, master: r.bridge })),
    { op: 'sysctl.set', values: { [confKey(r.bridge, 'arp_notify')]: '1' } },
    ...planBridgeState(link, addrs, r.gateway),
  ];
}

/**
 * A HostSubnet's bridge renamed by hand, given its name back (the kernel renames only a link that
 * is down; its subnet's connected route comes back with it up). Its ports, gateway and mark stay
 * on it, and Docker finds its bridge by that name again.
 */
export function planBridgeRename(from: string, to: string): IpOp[] {
  return [{ op: 'link.set.down', name: from }, { op: 'link.rename', name: from, to }, { op: 'link.set.up', name: to }];
}
