// The operations the planner emits. Each one is a single kernel, Docker or iptables change;
// the executor groups consecutive `ip` operations of one namespace into one `ip -batch`.
import type { DockerNetworkSpec } from '../../docker/types.js';
import { XNET_RT_PROTO } from '../../netlink/types.js';
import type { IpLine } from '../../netlink/ip.js';

/**
 * A container's network namespace as ops name it: `path`, the file it is entered through (the
 * agent's pinned handle, `/proc/<agent pid>/fd/<fd>`: never the PID, which may be another
 * process's by then), and the container's PID for messages only.
 */
export interface ContainerNs { path: string; pid: number }

/** `netns`: the container namespace the op runs in; absent = the host. */
interface InNs { netns?: ContainerNs }

export type IpOp =
  /** `metric`: only the container's fallback default route has one (planner/default-route.ts) */
  | ({ op: 'route.replace'; dst: string; via?: string; dev?: string; metric?: number } & InNs)
  | ({ op: 'route.del'; dst: string; via?: string; dev?: string; proto: string } & InNs)
  | ({ op: 'link.add.veth'; name: string; peer: string; mtu?: number } & InNs)
  | ({ op: 'link.add.macvlan'; name: string; parent: string; mode: string } & InNs)
  | ({ op: 'link.add.vlan'; name: string; parent: string; vlan: number } & InNs)
  /** a HostSubnet's bridge made again under its Docker network (planner/bridge.ts planBridgeRemake) */
  | ({ op: 'link.add.bridge'; name: string; mtu: number; mac: string } & InNs)
  | ({ op: 'link.del'; name: string } & InNs)
  | ({ op: 'link.set.master'; name: string; master: string } & InNs)
  | ({ op: 'link.set.netns'; name: string; into: ContainerNs } & InNs)
  | ({ op: 'link.rename'; name: string; to: string } & InNs)
  | ({ op: 'link.set.mac'; name: string; mac: string } & InNs)
  | ({ op: 'link.set.mtu'; name: string; mtu: number } & InNs)
  | ({ op: 'link.set.up'; name: string } & InNs)
  | ({ op: 'link.set.down'; name: string } & InNs)
  | ({ op: 'link.set.promisc'; name: string; on: boolean } & InNs)
  | ({ op: 'link.set.alias'; name: string; alias: string } & InNs)
  | ({ op: 'addr.add'; dev: string; cidr: string } & InNs)
  | ({ op: 'addr.del'; dev: string; cidr: string } & InNs)
  | ({ op: 'route.default'; via: string; dev: string } & InNs);

export type Op =
  | IpOp
  | { op: 'docker.network.create'; spec: DockerNetworkSpec }
  /**
   * `id`: the network judged (by id: the record's evidence is ids); Docker is asked to remove
   * that id, so a network made under the name since (a user's, or xnet's for a new object) is
   * never the one removed. `name` is for messages and for the passes that free the name.
   */
  | { op: 'docker.network.remove'; name: string; id: string }
  | { op: 'iptables.restore'; table: 'nat' | 'filter'; lines: string[] }
  /** one `sysctl -w k=v ...` in the host, or in a container's namespace */
  | { op: 'sysctl.set'; values: Record<string, string>; netns?: ContainerNs };

export function isIpOp(o: Op): o is IpOp {
  return o.op.startsWith('route.') || o.op.startsWith('link.') || o.op.startsWith('addr.');
}

const PROTO = ['proto', String(XNET_RT_PROTO)];

/** The `ip -batch` line of one operation. */
export function ipLine(o: IpOp): IpLine {
  switch (o.op) {
    case 'route.replace':
      return ['route', 'replace', o.dst, ...(o.via ? ['via', o.via] : []), ...(o.dev ? ['dev', o.dev] : []), ...(o.metric ? ['metric', String(o.metric)] : []), ...PROTO];
    case 'route.del':
      return ['route', 'del', o.dst, ...(o.via ? ['via', o.via] : []), ...(o.dev ? ['dev', o.dev] : []), 'proto', o.proto];
    case 'link.add.veth': {
      const mtu = o.mtu ? ['mtu', String(o.mtu)] : [];
      return ['link', 'add', o.name, ...mtu, 'type', 'veth', 'peer', 'name', o.peer, ...mtu];
    }
    case 'link.add.macvlan':
      return ['link', 'add', o.name, 'link', o.parent, 'type', 'macvlan', 'mode', o.mode];
    case 'link.add.vlan':
      return ['link', 'add', o.name, 'link', o.parent, 'type', 'vlan', 'id', String(o.vlan)];
    case 'link.add.bridge':
      return ['link', 'add', o.name, 'address', o.mac, 'mtu', String(o.mtu), 'type', 'bridge'];
    case 'link.del': return ['link', 'del', o.name];
    case 'link.set.master': return ['link', 'set', o.name, 'master', o.master];
    // ip opens a value with a "/" as a namespace file (a PID would be looked up when it runs)
    case 'link.set.netns': return ['link', 'set', o.name, 'netns', o.into.path];
    case 'link.rename': return ['link', 'set', o.name, 'name', o.to];
    case 'link.set.mac': return ['link', 'set', o.name, 'address', o.mac];
    case 'link.set.mtu': return ['link', 'set', o.name, 'mtu', String(o.mtu)];
    case 'link.set.up': return ['link', 'set', o.name, 'up'];
    case 'link.set.down': return ['link', 'set', o.name, 'down'];
    case 'link.set.promisc': return ['link', 'set', o.name, 'promisc', o.on ? 'on' : 'off'];
    case 'link.set.alias': return ['link', 'set', o.name, 'alias', o.alias];
    case 'addr.add': return ['addr', 'add', o.cidr, 'dev', o.dev];
    case 'addr.del': return ['addr', 'del', o.cidr, 'dev', o.dev];
    case 'route.default': return ['route', 'replace', 'default', 'via', o.via, 'dev', o.dev, ...PROTO];
  }
}

/** A reason the planner could not (fully) plan: shown to the user as the Ready reason. */
export interface Problem {
  reason: string;
  message: string;
  /** a NIC's: the container's interfaces decide when it can go on (its watcher must wake it) */
  watchContainer?: boolean;
}

export interface Plan {
  ops: Op[];
  problems: Problem[];
}

/** A run of operations executed together: one `ip -batch` per namespace, or one other op. */
export type Step = { kind: 'ip'; netns?: ContainerNs; ops: IpOp[] } | { kind: 'other'; op: Exclude<Op, IpOp> };

/** Groups consecutive `ip` ops of one namespace, keeping the plan's order. */
export function steps(ops: Op[]): Step[] {
  const out: Step[] = [];
  for (const o of ops) {
    const last = out[out.length - 1];
    if (!isIpOp(o)) out.push({ kind: 'other', op: o as Exclude<Op, IpOp> });
    else if (last?.kind === 'ip' && last.netns?.path === o.netns?.path) last.ops.push(o);
    else out.push({ kind: 'ip', ...(o.netns !== undefined ? { netns: o.netns } : {}), ops: [o] });
  }
  return out;
}
