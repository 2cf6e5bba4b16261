// The agent's own Node: registration, underlay detection, capability probes, heartbeat.
import { randomBytes } from 'node:crypto';
import { API_VERSION, setCondition, type Condition, type Node } from '../api/index.js';
import { IpBatchError, IpRunner } from '../netlink/ip.js';
import { AlreadyExistsError, type Store } from '../store/types.js';
import { parseRoutes } from '../netlink/parse.js';

export interface Underlay {
  address?: string;
  interface?: string;
}

/** Pure: the interface of the default route, else the first non-lo interface with IPv4. */
export function pickUnderlay(defaultDev: string | undefined, addrs: Array<{ dev: string; cidr: string }>): Underlay {
  const v4 = addrs.filter((a) => a.dev !== 'lo' && !a.cidr.startsWith('127.'));
  const dev = defaultDev && v4.some((a) => a.dev === defaultDev) ? defaultDev : v4[0]?.dev;
  const a = v4.find((x) => x.dev === dev);
  return { ...(dev ? { interface: dev } : {}), ...(a ? { address: a.cidr.split('/')[0] } : {}) };
}

export async function detectUnderlay(ip: IpRunner): Promise<Underlay> {
  const def = parseRoutes(await ip.json(['-4', 'route', 'show', 'default'])).find((r) => r.dst === 'default');
  return pickUnderlay(def?.dev, await ip.addrs());
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
  let failed = [0, 1];
  try {
    await ip.batch([
      ['link', 'add', names[0], 'link', iface, 'type', 'macvlan', 'mode', 'bridge'],
      ['link', 'add', names[1], 'link', iface, 'type', 'vlan', 'id', '4094'],
    ], { force: true });
    failed = [];
  } catch (e) {
    if (e instanceof IpBatchError && e.failedLines.length) failed = e.failedLines;
  }
  await ip.batch(names.map((n) => ['link', 'del', n]), { force: true }).catch(() => undefined);
  return { macvlan: !failed.includes(0), vlan: !failed.includes(1) };
}

/** Creates the Node when nobody has; an admin's Node (pinned address, labels) is kept. */
export async function registerNode(store: Store, name: string): Promise<void> {
  if (await store.get('Node', name)) return;
  try {
    await store.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name }, spec: {} } as Node);
  } catch (e) {
    if (!(e instanceof AlreadyExistsError)) throw e;
  }
}

export interface HeartbeatInput {
  underlay: Underlay;
  capabilities: Record<string, boolean>;
  agentVersion: string;
  routeProblems: string[];
  /** set while a worker is stuck past its budget (stuck.ts): the Node is not Ready */
  stuck?: string;
  previous?: Condition[];
  now?: Date;
}

/** The Node status the agent writes on every heartbeat. */
export function heartbeatStatus(node: Node | undefined, h: HeartbeatInput): Record<string, unknown> {
  const now = h.now ?? new Date();
  let conditions = setCondition(h.previous, h.stuck
    ? { type: 'Ready', status: 'False', reason: 'AgentStuck', message: h.stuck }
    : { type: 'Ready', status: 'True', reason: 'AgentReady', message: 'the agent is running and heartbeating' }, now);
  conditions = setCondition(conditions, h.routeProblems.length
    ? { type: 'RoutesReady', status: 'False', reason: 'RoutesFailed', message: h.routeProblems.join('; ') }
    : { type: 'RoutesReady', status: 'True', reason: 'Converged', message: 'routes to every peer subnet are in place' }, now);
  return {
    address: node?.spec?.address ?? h.underlay.address,
    interface: node?.spec?.interface ?? h.underlay.interface,
    agentVersion: h.agentVersion,
    lastHeartbeatTime: now.toISOString(),
    capabilities: h.capabilities,
    observedGeneration: node?.metadata.generation,
    conditions,
  };
}
