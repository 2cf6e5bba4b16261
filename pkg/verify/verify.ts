// `xctl verify`: does a host hold what etcd declares? The agent's own reconcilers answer it,
// run once against a dataplane that records the ops it would execute instead of running them
// and a status writer that writes nothing. Every op the planner would emit is a difference,
// and so is every object the agent could not make Ready there. One owner for "what should be
// on this host": the agent's planner; verify never re-implements it.
import type { ClusterNetwork, ContainerNic, HostSubnet, MacvlanNet, Node } from '../api/index.js';
import type { Kind } from '../api/kinds.js';
import { NodeStatusReporter, type AgentContext, type Caches, type Ready } from '../agent/context.js';
import { Dataplane, type Executed } from '../agent/dataplane.js';
import { ipLine, isIpOp, type ContainerNs, type Op } from '../agent/planner/ops.js';
import { reconcileHostSubnets } from '../agent/reconcilers/host-subnets.js';
import { reconcileMacvlan } from '../agent/reconcilers/macvlan.js';
import { reconcileNat } from '../agent/reconcilers/nat.js';
import { collectNicGarbage, localNics, reconcileNic } from '../agent/reconcilers/nics.js';
import { reconcileRoutes } from '../agent/reconcilers/routes.js';
import { createLogger } from '../log.js';
import { netnsTarget } from '../netlink/target.js';
import { Informer } from '../store/informer.js';
import type { Store } from '../store/types.js';
import { MacWaits } from '../agent/mac-wait.js';
import { agentRecord, type NetworkEvidence } from '../agent/network-record.js';
import { addressOnHost, interfaceOnHost } from '../agent/node.js';
import { getCondition, WAITING_FOR_CONTROLLER } from '../api/conditions.js';
import { printable } from '../printable.js';
import { conflictDifferences } from './conflicts.js';
import { dockerMacvlanName } from '../agent/desired.js';

export interface Difference {
  host: string;
  what: string;
  expected: string;
  found: string;
}

/** Executes nothing: collects what the planner asked for. */
export class RecordingDataplane extends Dataplane {
  readonly dryRun = true;
  private recorded: Op[] = [];
  /** as if each op did what it says: a network to remove is there (it was listed) */
  override async execute(ops: Op[]): Promise<Executed> {
    this.recorded.push(...ops);
    return { goneAlready: [] };
  }
  /** the ops recorded since the last take */
  take(): Op[] {
    return this.recorded.splice(0);
  }
}

/** Writes nothing: collects objects that are not Ready on this host, and why. */
class RecordingStatus extends NodeStatusReporter {
  readonly notReady: { kind: Kind; name: string; ready: Ready }[] = [];
  override async write(kind: Kind, obj: { metadata: { name: string } }, _fields: Record<string, unknown>, ready: Ready): Promise<void> {
    if (ready.status !== 'True') this.notReady.push({ kind, name: obj.metadata.name, ready });
  }
  override async remove(): Promise<void> {}
  /** nothing is made while verifying: no Attaching report to write first */
  override async reported(): Promise<boolean> { return true; }
  /** nor a HostSubnet's first report before its network is made */
  override hasReport(): boolean { return true; }
  /** nor a Ready to take back before a NIC is made again */
  override readyStatus(): undefined { return undefined; }
}

export interface VerifyHostOptions {
  node: string;
  store: Store;
  /** the host's network namespace (lab hosts); absent: this process's own */
  netns?: string;
  dockerHost?: string;
  /** the name the host's agent serves Docker's IPAM plugin under (MacvlanNets with dockerIPAM xnet) */
  ipamPlugin?: string;
  /** the host's agent's --state-dir, where its network record is read (default /var/lib/xnet/<node>) */
  stateDir?: string;
}

/** The differences between what etcd declares for `node` and what its kernel and Docker hold. */
export async function verifyHost(o: VerifyHostOptions): Promise<Difference[]> {
  const caches: Caches = {
    nodes: new Informer<Node>(o.store, 'Node'),
    clusterNetworks: new Informer<ClusterNetwork>(o.store, 'ClusterNetwork'),
    hostSubnets: new Informer<HostSubnet>(o.store, 'HostSubnet'),
    nics: new Informer<ContainerNic>(o.store, 'ContainerNic', (n) => n.spec.node === o.node),
    macvlanNets: new Informer<MacvlanNet>(o.store, 'MacvlanNet'),
  };
  const all = Object.values(caches) as Informer[];
  try {
    await Promise.all(all.map((i) => i.start()));
    // the agent's record of the networks it made, read only (one not readable: none is known)
    const networks = agentRecord(o.node, o.stateDir);
    return await differences({ node: o.node, store: o.store, caches, dp: new RecordingDataplane(netnsTarget(o.netns), o.dockerHost), ipamPlugin: o.ipamPlugin, networks });
  } finally {
    await Promise.all(all.map((i) => i.stop().catch(() => undefined)));
  }
}

export interface DifferencesInput {
  node: string;
  store: Store;
  /** what etcd declares, as the caller's informers hold it */
  caches: Caches;
  dp: RecordingDataplane;
  ipamPlugin?: string;
  /**
   * the agent's record of the networks it made (network-record.ts readOnly): without it a gone
   * HostSubnet's network is taken for none of xnet's (its bridge: BridgeNameTaken)
   */
  networks?: NetworkEvidence;
}

/** One pass of the agent's reconcilers against a recording dataplane: what they would change. */
export async function differences(i: DifferencesInput): Promise<Difference[]> {
  const log = createLogger('verify', { node: i.node });
  log.level = 'error';
  const status = new RecordingStatus(i.store, i.node);
  const ctx: AgentContext = {
    node: i.node, store: i.store, caches: i.caches, dp: i.dp, log, status, capabilities: reportedCapabilities(i), routeProblems: [], removedNics: new Map(), macWaits: new MacWaits(),
    watchContainer: async () => undefined, unwatchNic: async () => undefined,
    ...(i.ipamPlugin ? { ipam: { plugin: i.ipamPlugin } } : {}), ...(i.networks ? { networks: i.networks } : {}),
  };
  const out: Difference[] = [];
  const opLines: Difference[] = [];
  i.dp.take();
  for (const p of passes(i, ctx, out)) {
    try { await p.run(); } catch (e) { out.push({ host: i.node, what: p.what, expected: 'readable state', found: `error: ${(e as Error).message}` }); }
    const ops = i.dp.take();
    const names = await containerNames(i, p.nic, ops);
    opLines.push(...ops.map((op) => ({ host: i.node, ...describeOp(op, names) })));
  }
  for (const r of ctx.routeProblems) out.push({ host: i.node, what: 'route', expected: 'a route xnet can set', found: r.message });
  for (const n of status.notReady) {
    const r = controllerWhy(i.caches, n.kind, n.name, n.ready);
    out.push({ host: i.node, what: `${n.kind.toLowerCase()}/${n.name}`, expected: 'Ready', found: `${r.reason}: ${r.message}` });
  }
  out.push(...opLines);
  return out;
}

/** One pass of the reconcilers; `nic`: a ContainerNic's, whose ops in a container are in its container. */
interface Pass { what: string; run: () => Promise<void>; nic?: string }

function passes(i: DifferencesInput, ctx: AgentContext, out: Difference[]): Pass[] {
  return [
    { what: `node/${i.node}`, run: async () => { out.push(...(await nodeDifferences(i))); } },
    { what: 'routes', run: () => reconcileRoutes(ctx) },
    { what: 'bridges and Docker networks', run: () => reconcileHostSubnets(ctx) },
    { what: 'NAT', run: () => reconcileNat(ctx) },
    ...localNics(ctx).map((n): Pass => ({ what: `containernic/${n.metadata.name}`, run: async () => { await reconcileNic(ctx, n.metadata.name); }, nic: n.metadata.name })),
    ...i.caches.macvlanNets.list().map((m): Pass => ({ what: `macvlannet/${m.metadata.name}`, run: () => reconcileMacvlan(ctx, m.metadata.name) })),
    { what: 'leftover NICs', run: () => collectNicGarbage(ctx) },
    { what: 'address conflicts', run: async () => { out.push(...await conflictDifferences(i.node, i.caches.macvlanNets.list(), (m) => containerNamesOn(i.dp, m))); } },
  ];
}

/** The names of the containers on the MacvlanNet's Docker network on this host, by address (verify/conflicts.ts). */
async function containerNamesOn(dp: RecordingDataplane, m: MacvlanNet): Promise<Map<string, string>> {
  const network = dockerMacvlanName(m);
  const [endpoints, statics] = await Promise.all([dp.docker.networkEndpoints(network).catch(() => undefined), dp.docker.staticHoldersOn(network).catch(() => [])]);
  return new Map([...statics, ...(endpoints ?? [])].map((e) => [e.ip, e.name]));
}

/** The container namespaces ops run in or move a link into (by the container's PID). */
function containerPids(op: Op): number[] {
  return [...('netns' in op && op.netns ? [op.netns.pid] : []), ...(op.op === 'link.set.netns' ? [op.into.pid] : [])];
}

/**
 * The container a NIC's ops name, by the PID they name it by: the NIC's own container, asked
 * of Docker, when its PID is that one (a PID alone, as before, when Docker does not say so).
 * Asked only when the pass has ops in a container: a clean host costs no Docker call.
 */
async function containerNames(i: DifferencesInput, nic: string | undefined, ops: Op[]): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  const pids = new Set(ops.flatMap(containerPids));
  const container = nic ? i.caches.nics.get(nic)?.spec.container : undefined;
  if (!pids.size || !container) return names;
  const c = await i.dp.docker.inspectContainer(container).catch(() => undefined);
  if (c && pids.has(c.pid)) names.set(c.pid, c.name);
  return names;
}

const MISSING = 'missing or different';

/**
 * What the host's kernel can do, as its agent probed and reported it (the Node's
 * status.capabilities; read, never probed here: a probe makes links). The reconcilers stop at
 * what the kernel cannot do (a VLAN without 802.1Q: VlanUnsupported), so such an object is one
 * line with its reason, as the agent reports it, not every op of a plan it would never run.
 * Not reported yet: none known, as in a starting agent.
 */
function reportedCapabilities(i: DifferencesInput): Record<string, boolean> {
  return { ...(i.caches.nodes.get(i.node)?.status?.capabilities ?? {}) };
}

/**
 * Why an object the agent finds only waiting for the controller (NoAddress, NotAllocated) is not
 * Ready: the controller's reason when its Allocated is False (InvalidSpec: a ClusterNetwork
 * that does not exist; PoolExhausted...), as the merged view shows it (store/merge.ts). Read
 * from Allocated, which only the controller writes: the merged Ready may be a node's report.
 */
export function controllerWhy(caches: Pick<Caches, 'nics' | 'hostSubnets'>, kind: Kind, name: string, ready: Ready): Ready {
  if (!WAITING_FOR_CONTROLLER.has(ready.reason)) return ready;
  const obj = kind === 'ContainerNic' ? caches.nics.get(name) : kind === 'HostSubnet' ? caches.hostSubnets.get(name) : undefined;
  const a = getCondition(obj?.status?.conditions, 'Allocated');
  if (a?.status !== 'False' || !a.reason || WAITING_FOR_CONTROLLER.has(a.reason)) return ready;
  return { status: 'False', reason: a.reason, message: a.message ?? ready.message };
}

/**
 * What the Node pins that the host does not have, as the agent's conditions say it. A pinned
 * spec.address (AddressOnHost False, NotOnHost): every peer routes this node's subnets to it,
 * so its containers are reached from nowhere while every route is "in place" and the Node
 * Ready. A pinned spec.interface (InterfaceOnHost False): the default parent of every
 * MacvlanNet with none of its own for this node.
 */
async function nodeDifferences(i: DifferencesInput): Promise<Difference[]> {
  const spec = i.caches.nodes.get(i.node)?.spec;
  if (!spec?.address && !spec?.interface) return [];
  const u = await i.dp.underlay(spec.interface);
  const found = [
    { field: 'spec.address', value: spec.address, c: addressOnHost(spec.address, u) },
    { field: 'spec.interface', value: spec.interface, c: interfaceOnHost(spec.interface, u) },
  ];
  return found.filter((f) => f.c?.status === 'False')
    .map((f) => ({ host: i.node, what: `node/${i.node}`, expected: `${f.field} ${f.value} on this host`, found: `${f.c!.reason}: ${f.c!.message ?? ''}` }));
}

/**
 * One op the planner wanted, as a difference a user reads: what, expected, found. A container's
 * namespace is named by the container (`names`, by PID) or its PID, never by the path the op
 * enters it through: that is the reading process's own handle (/proc/<its pid>/fd/<fd>).
 */
export function describeOp(op: Op, names: ReadonlyMap<number, string> = new Map()): Omit<Difference, 'host'> {
  const container = (ns: ContainerNs) => `container ${names.get(ns.pid) ?? `pid ${ns.pid}`}`;
  const inContainer = 'netns' in op && op.netns !== undefined ? ` (${container(op.netns)})` : '';
  switch (op.op) {
    case 'link.set.netns': return { what: `link${inContainer}`, expected: `${op.name} in the namespace of ${container(op.into)}`, found: 'missing' };
    case 'route.replace': return { what: `route${inContainer}`, expected: `${op.dst}${op.via ? ` via ${op.via}` : ''}${op.dev ? ` dev ${op.dev}` : ''}${op.metric ? ` metric ${op.metric}` : ''} proto 76`, found: MISSING };
    case 'route.del': return { what: `route${inContainer}`, expected: 'absent', found: `${op.dst}${op.via ? ` via ${op.via}` : ''}${op.dev ? ` dev ${op.dev}` : ''} proto ${op.proto}` };
    case 'route.default': return { what: `default route${inContainer}`, expected: `via ${op.via} dev ${op.dev}`, found: MISSING };
    case 'link.add.veth': case 'link.add.macvlan': case 'link.add.vlan': case 'link.add.bridge':
      return { what: `link${inContainer}`, expected: `${op.name} (${op.op.slice('link.add.'.length)})`, found: 'missing' };
    case 'link.del': return { what: `link${inContainer}`, expected: 'absent', found: op.name };
    case 'addr.add': return { what: `address${inContainer}`, expected: `${op.cidr} on ${op.dev}`, found: 'missing' };
    case 'addr.del': return { what: `address${inContainer}`, expected: 'absent', found: `${op.cidr} on ${op.dev}` };
    case 'docker.network.create': return { what: 'docker network', expected: `${op.spec.name} ${op.spec.driver} ${op.spec.subnet}`, found: MISSING };
    case 'docker.network.remove': return { what: 'docker network', expected: 'absent', found: op.name };
    case 'iptables.restore': return { what: `iptables ${op.table}`, expected: `xnet's ${op.lines.length} rule line(s)`, found: MISSING };
    case 'sysctl.set': return { what: `sysctl${op.netns !== undefined ? ` (${container(op.netns)})` : ''}`, expected: Object.entries(op.values).map(([k, v]) => `${k}=${v}`).join(' '), found: 'different' };
    default: {
      const o = op as Op;
      return isIpOp(o) ? { what: `link${inContainer}`, expected: ipLine(o).join(' '), found: 'different' } : { what: o.op, expected: JSON.stringify(o), found: 'different' };
    }
  }
}

/** One line per difference, columns aligned: HOST WHAT EXPECTED FOUND. */
export function formatDifferences(diffs: Difference[]): string {
  // a node's own report is printed here too: its text is escaped (../printable.ts)
  const rows = [['HOST', 'WHAT', 'EXPECTED', 'FOUND'], ...diffs.map((d) => [d.host, d.what, d.expected, d.found].map(printable))];
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i < 3 ? c.padEnd(w[i] + 3) : c)).join('').trimEnd()).join('\n') + '\n';
}
