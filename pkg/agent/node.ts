// The agent's report about its own node: underlay detection, capability probes, and the
// report itself, which the agent writes under its own status subtree attached to its etcd
// lease. The agent never writes the Node object (labels and spec are the admin's; the
// controller creates the Node of a node that reported). Liveness is the lease: the report
// exists while the agent keeps its lease alive and goes when it expires.
import { randomBytes } from 'node:crypto';
import { setCondition, type Condition, type Node } from '../api/index.js';
import { IpBatchError, IpRunner } from '../netlink/ip.js';
import type { NodeLease, Store } from '../store/types.js';
import { parseLinks, parseRoutes } from '../netlink/parse.js';
import { fromEtcdError } from '../etcd/errors.js';
import { EtcdPermissionError } from '../errors.js';
import type { Problem } from './planner/ops.js';
import type { Logger } from '../log.js';

export interface Underlay {
  address?: string;
  interface?: string;
  /** every IPv4 address of the host (lo's aside): a pinned spec.address is checked against them */
  local?: string[];
  /**
   * The Node's pinned spec.interface as the host has it (interfaceOnHost): its ifindex, none when
   * the host has no link of that name; unset when nothing is pinned.
   */
  pinned?: { name: string; ifindex?: number; ifname?: string };
}

/** Pure: the interface of the default route, else the first non-lo interface with IPv4. */
export function pickUnderlay(defaultDev: string | undefined, addrs: Array<{ dev: string; cidr: string }>): Underlay {
  const v4 = addrs.filter((a) => a.dev !== 'lo' && !a.cidr.startsWith('127.'));
  const dev = defaultDev && v4.some((a) => a.dev === defaultDev) ? defaultDev : v4[0]?.dev;
  const a = v4.find((x) => x.dev === dev);
  return { ...(dev ? { interface: dev } : {}), ...(a ? { address: a.cidr.split('/')[0] } : {}), local: v4.map((x) => x.cidr.split('/')[0]) };
}

/** `pinned`: the Node's spec.interface, looked up by name (one `ip` run more, only while one is pinned). */
export async function detectUnderlay(ip: IpRunner, pinned?: string): Promise<Underlay> {
  const def = parseRoutes(await ip.json(['-4', 'route', 'show', 'default'])).find((r) => r.dst === 'default');
  const u = pickUnderlay(def?.dev, await ip.addrs());
  return pinned ? { ...u, pinned: await linkByName(ip, pinned) } : u;
}

/**
 * The host's link `name`: its ifindex and its own name (another when `name` is one of its
 * altnames: `ip link show dev` finds a link by those too), or none when ip says there is no
 * such device.
 */
async function linkByName(ip: IpRunner, name: string): Promise<{ name: string; ifindex?: number; ifname?: string }> {
  try {
    const [l] = parseLinks(await ip.json(['link', 'show', 'dev', name]));
    return l ? { name, ifindex: l.ifindex, ...(l.name && l.name !== name ? { ifname: l.name } : {}) } : { name };
  } catch (e) {
    // `Device "x" does not exist.`: any other failure is no answer (the last read is kept)
    if (/does not exist/.test((e as Error).message)) return { name };
    throw e;
  }
}

type PinnedState = 'missing' | 'altname' | 'link';

/** Whether the host has the pinned interface as a link's name, only as an altname, or not at all. */
function pinnedState(p: Underlay['pinned']): PinnedState | undefined {
  if (!p) return undefined;
  if (p.ifindex === undefined) return 'missing';
  return p.ifname ? 'altname' : 'link';
}

/** What the agent logs when the pinned interface's state changes (interfaceOnHost says the same on the Node). */
const PINNED_CHANGE: Record<PinnedState, string> = {
  missing: 'the Node\'s spec.interface is no longer a link of this host',
  altname: 'the Node\'s spec.interface names a link of this host only by an altname',
  link: 'the Node\'s spec.interface is a link of this host now',
};

/**
 * The underlay read again, at start and at every heartbeat: a host's address may change under
 * a running agent (DHCP, an admin's `ip addr`), and peers route via what it reports. The last
 * one known when the read fails.
 */
export async function readUnderlay(dp: { underlay(pinned?: string): Promise<Underlay> }, last: Underlay, log: Logger, pinned?: string): Promise<Underlay> {
  try {
    const now = await dp.underlay(pinned);
    if (last.address && (now.address !== last.address || now.interface !== last.interface)) log.info('the underlay changed', { from: last, to: now });
    const [was, is] = [pinnedState(last.pinned), pinnedState(now.pinned)];
    if (pinned && is && last.pinned?.name === pinned && was !== is) log.info(PINNED_CHANGE[is], { interface: pinned, ...(now.pinned?.ifname ? { link: now.pinned.ifname } : {}) });
    return now;
  } catch (e) {
    log.warn('underlay detection failed', { error: (e as Error).message });
    return last;
  }
}

/**
 * Tries to make (and at once deletes) a link of each kind in the managed namespace. Never run
 * against the root namespace of a machine the agent does not manage.
 */
export async function probeCapabilities(ip: IpRunner, iface: string | undefined): Promise<Record<string, boolean>> {
  if (!iface) return { macvlan: false, vlan: false };
  const tag = randomBytes(3).toString('hex');
  const names = [`xcm${tag}`, `xcv${tag}`];
  // Both probes in one forced batch (each line runs whatever the other does), then one
  // clean-up batch: two `ip` processes instead of four.
  let failed: number[] = [];
  let error: unknown;
  try {
    await ip.batch([
      ['link', 'add', names[0], 'link', iface, 'type', 'macvlan', 'mode', 'bridge'],
      ['link', 'add', names[1], 'link', iface, 'type', 'vlan', 'id', '4094'],
    ], { force: true });
  } catch (e) {
    // the kernel refusing a line is the answer; a timeout or a spawn failure is no answer at all
    if (e instanceof IpBatchError && e.failedLines.length) failed = e.failedLines;
    else error = e;
  }
  await ip.batch(names.map((n) => ['link', 'del', n]), { force: true }).catch(() => undefined);
  if (error) throw error;
  return { macvlan: !failed.includes(0), vlan: !failed.includes(1) };
}

export interface ReportInput {
  underlay: Underlay;
  capabilities: Record<string, boolean>;
  agentVersion: string;
  routeProblems: Problem[];
  /** set while a worker is stuck past its budget (stuck.ts): the Node is not Ready */
  stuck?: string;
  previous?: Condition[];
  now?: Date;
}

/**
 * What the agent reports about its node (no timestamp: the same state gives the same report,
 * so an unchanged report is never written again).
 */
export function nodeReport(node: Node | undefined, h: ReportInput): Record<string, unknown> {
  const now = h.now ?? new Date();
  let conditions = setCondition(h.previous, h.stuck
    ? { type: 'Ready', status: 'False', reason: 'AgentStuck', message: h.stuck }
    : { type: 'Ready', status: 'True', reason: 'AgentReady', message: 'the agent is running and holds its etcd lease' }, now);
  conditions = setCondition(conditions, routesReady(h.routeProblems), now);
  const onHost = addressOnHost(node?.spec?.address, h.underlay);
  conditions = onHost ? setCondition(conditions, onHost, now) : conditions.filter((c) => c.type !== 'AddressOnHost');
  const ifOnHost = interfaceOnHost(node?.spec?.interface, h.underlay);
  conditions = ifOnHost ? setCondition(conditions, ifOnHost, now) : conditions.filter((c) => c.type !== 'InterfaceOnHost');
  return {
    address: node?.spec?.address ?? h.underlay.address,
    interface: node?.spec?.interface ?? h.underlay.interface,
    agentVersion: h.agentVersion,
    capabilities: h.capabilities,
    observedGeneration: node?.metadata.generation,
    conditions,
  };
}

/**
 * AddressOnHost, only while spec.address pins the address peers route this node's subnets to:
 * whether the host has it. A typo there sends every peer's traffic for this node to nobody,
 * with every route "in place"; the agent is the one that can tell.
 */
export function addressOnHost(pinned: string | undefined, u: Underlay): Condition | undefined {
  if (!pinned || !u.local) return undefined;
  if (u.local.includes(pinned)) return { type: 'AddressOnHost', status: 'True', reason: 'OnHost', message: `${pinned}, which peers route this node's subnets to, is an address of this host` };
  const has = u.local.length ? `it has ${u.local.join(', ')}` : 'it has no IPv4 address';
  const fix = u.address ? `; fix spec.address, or remove it to use the detected ${u.address}` : '';
  return { type: 'AddressOnHost', status: 'False', reason: 'NotOnHost', message: `spec.address ${pinned} is not an address of this host (${has}): peers route this node's subnets to it${fix}` };
}

/**
 * InterfaceOnHost, only while spec.interface pins the underlay interface: whether the host has a
 * link of that name. A typo there (enp0s5 for enp0s6) is the default macvlan parent of every
 * MacvlanNet that names none for this node, and otherwise showed only as their ParentMissing.
 * Not Ready=False: the agent runs, routes and bridges work; Ready is the agent's liveness.
 */
export function interfaceOnHost(pinned: string | undefined, u: Underlay): Condition | undefined {
  if (!pinned || u.pinned?.name !== pinned) return undefined;
  // found by an altname (`ip link show dev` takes those): the planner finds a parent by its name
  // only (planner/macvlan.ts), so every MacvlanNet on the default parent says ParentMissing
  if (u.pinned.ifindex !== undefined && u.pinned.ifname) {
    return {
      type: 'InterfaceOnHost', status: 'False', reason: 'NotOnHost',
      message: `spec.interface ${pinned} is an altname of ${u.pinned.ifname}, not a link's name: a MacvlanNet with no parent of its own for this node has no parent here (ParentMissing); set spec.interface to ${u.pinned.ifname}`,
    };
  }
  if (u.pinned.ifindex !== undefined) return { type: 'InterfaceOnHost', status: 'True', reason: 'OnHost', message: `${pinned}, the Node's spec.interface, is a link of this host` };
  const fix = u.interface && u.interface !== pinned ? `; fix spec.interface, or remove it to use the detected ${u.interface}` : '';
  return {
    type: 'InterfaceOnHost', status: 'False', reason: 'NotOnHost',
    message: `spec.interface ${pinned} is not a link of this host: a MacvlanNet with no parent of its own for this node has no parent here (ParentMissing)${fix}`,
  };
}

/**
 * RoutesReady from the routes pass's problems. The reason is the first problem's: a refused
 * peer route (UnsafeRoute) comes before a foreign route in the way (RouteConflict) and both
 * before a change the kernel refused (RoutesFailed), so an admin filtering on the reason sees
 * a refusal even when other peers failed too; the message names every problem.
 */
function routesReady(problems: Problem[]): Condition {
  if (!problems.length) return { type: 'RoutesReady', status: 'True', reason: 'Converged', message: 'routes to every peer subnet are in place' };
  return { type: 'RoutesReady', status: 'False', reason: problems[0].reason, message: problems.map((p) => p.message).join('; ') };
}

/**
 * The report under the agent's lease. Written when it changed, when the lease is new (first
 * report, or etcd let the old one expire) and after the report was deleted with the Node; never
 * on a timer. The keep-alive of the lease is a stream message: it writes no key and wakes no
 * watcher, so a steady-state agent costs the other agents nothing.
 */
export class SelfReport {
  private lease?: NodeLease;
  /** the report last written under the current lease (without its time) */
  private written?: string;
  private losses = 0;
  /**
   * The report went since the last write (its lease lost or dropped): meanwhile everyone saw
   * the Node without it (NodeLost), so what the next one says is new, its transition times too.
   */
  lostSinceWrite = false;

  /** `onWritten`: the report is in etcd under a live lease (self-report-gate.ts opens on it). */
  constructor(private readonly store: Store, private readonly node: string, private readonly ttlSeconds: number,
    private readonly onLost: (err: Error) => void, private readonly onWritten?: () => void) {}

  /** The report is gone (the Node was deleted, which deletes it): write it at the next sync. */
  invalidate(): void {
    this.written = undefined;
    this.lostSinceWrite = true;
  }

  /**
   * Writes the report unless it is what the current lease holds; true when written. The
   * report's presence is read first (a read wakes no watcher): someone may have deleted it, and
   * a node whose access was revoked learns it here (the read is refused).
   */
  async sync(report: Record<string, unknown>, now = new Date()): Promise<boolean> {
    try {
      return await this.write(report, now);
    } catch (e) {
      // A node whose access was revoked (xctl auth remove-node) is refused every request but
      // the lease keep-alive, which etcd does not check: kept alive, the report would show the
      // Node Ready for as long as this agent runs. Let the lease expire and the report go with
      // it (NodeLost); the next sync that is let through takes a new lease.
      if (fromEtcdError(e) instanceof EtcdPermissionError) this.dropLease();
      throw e;
    }
  }

  private dropLease(): void {
    this.lease?.release();
    this.lease = undefined;
    this.written = undefined;
    this.lostSinceWrite = true;
  }

  private async write(report: Record<string, unknown>, now: Date): Promise<boolean> {
    const text = JSON.stringify(report);
    if (this.written && !(await this.store.nodeReported(this.node))) this.written = undefined;
    if (text === this.written) { this.onWritten?.(); return false; }
    this.lease ??= this.store.nodeLease(this.node, {
      ttlSeconds: this.ttlSeconds,
      onLost: (err) => { this.losses++; this.written = undefined; this.lostSinceWrite = true; this.onLost(err); },
    });
    const losses = this.losses;
    // lastHeartbeatTime: when the agent last wrote its report, not a periodic stamp
    await this.store.reportNode(this.node, { ...report, lastHeartbeatTime: now.toISOString() }, this.lease);
    await this.lease.heartbeat({ time: now.toISOString() });
    // a lease lost while we wrote took the report with it
    if (losses === this.losses) { this.written = text; this.lostSinceWrite = false; this.onWritten?.(); }
    return true;
  }

  /** Stops the keep-alive without revoking: a restart within the TTL shows no change. */
  release(): void {
    this.lease?.release();
  }
}
