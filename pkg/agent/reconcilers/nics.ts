// ContainerNics on this node: make, adopt or repair the NIC inside the container; remove it
// when the object goes.
import type { ContainerNic } from '../../api/index.js';
import { DockerError } from '../../docker/types.js';
import { parseCidr } from '../../ip/ipv4.js';
import { notReady, ready, unreadable, type AgentContext, type Ready } from '../context.js';
import type { PinnedNetns } from '../../netlink/pinned.js';
import { pinContainerNetns, type ContainerPin } from '../container-pin.js';
import { leftSinceRead, removeNic } from './nic-removal.js';
import { addressReleased, removeFromPreviousContainer, sharedNamespaceWhy, takeOutOfContainer, type FormerContainer } from './nic-namespace.js';
import { DEFAULT_CLUSTER_MTU, desiredMacvlan, hostSubnetView, isDeleting, macFromIp, noAddressMessage, nicStatusView, selects, type NicStatusView } from '../desired.js';
import { effectiveParent } from '../planner/macvlan.js';
import { networkMissing } from '../missing-network.js';
import { hostSubnetPool, macvlanNetPool, nicAddressProblem, type NicPool } from '../nic-address.js';
import { vethHostName } from '../planner/names.js';
import { noDefaultRouteNote, planNic, planNicGarbage, type DesiredNic } from '../planner/nic.js';
import type { Addr } from '../../netlink/types.js';
import type { ReconcileResult } from '../../runtime/workers.js';
import { inPlaceBeforeStart } from '../heal.js';
import { nicMadeAgain } from '../restart-evidence.js';
import { passthruParentProblem } from '../passthru.js';
import { ADDRESS_IN_USE_REASON, ADDRESS_IN_USE_RECHECK_MS, dockerHeldProblem } from '../nic-docker-held.js';
import { applyNic, nicStates, waitForMac } from './nic-apply.js';

export { rememberRemoved } from './nic-removal.js';

export function localNics(ctx: AgentContext): ContainerNic[] {
  return ctx.caches.nics.list().filter((n) => n.spec.node === ctx.node);
}

type Attach = { attach: DesiredNic['attach']; prefix: number; gateway?: string; mtu?: number; clusterCidr?: string; pool: NicPool } | { problem: Ready };

function attachment(ctx: AgentContext, nic: ContainerNic, st: NicStatusView): Attach {
  if (nic.spec.network.clusterNetwork) return clusterAttachment(ctx, nic, st);
  const net = nic.spec.network;
  const m = ctx.caches.macvlanNets.get(net.macvlanNet ?? '');
  if (!m) return missing(ctx, 'MacvlanNet', net.macvlanNet ?? '');
  const self = ctx.caches.nodes.get(ctx.node);
  // Its part on this node is taken off (Docker network, shim, report); the NIC is not what is declared.
  if (isDeleting(m) || !selects(m.spec.nodeSelector, self)) return { problem: notOnNode(ctx, m.metadata.name, isDeleting(m)) };
  const r = desiredMacvlan(m, ctx.node, self, [], ctx.ipam?.plugin);
  if (!r.desired) return { problem: notReady(r.problem!.reason, r.problem!.message) };
  if (r.desired.vlan && ctx.capabilities.vlan === false) {
    return { problem: notReady('VlanUnsupported', `MacvlanNet ${m.metadata.name} uses VLAN ${r.desired.vlan} but this node's kernel has no 802.1Q support`) };
  }
  return {
    attach: { kind: 'macvlan', parent: effectiveParent(r.desired), mode: m.spec.mode ?? 'bridge' },
    prefix: parseCidr(m.spec.subnet).prefix, ...(m.spec.gateway ? { gateway: m.spec.gateway } : {}), pool: macvlanNetPool(m),
  };
}

/**
 * MacvlanNetNotOnNode, saying what becomes of the NIC's interface already in the container.
 * Deleting: the controller hands out no address on a MacvlanNet being deleted and releases the
 * NIC's (controller/nic-target.ts, macvlanTarget), and the agent then takes the interface out
 * (withoutReleased): it stays only until then (while no controller runs, say). Not selecting
 * the node: the controller keeps the address, so the link stays in the container, working, and
 * keeps its parent in use (parent-users.ts).
 */
function notOnNode(ctx: AgentContext, name: string, deleting: boolean): Ready {
  const why = deleting ? 'is being deleted' : `does not select node ${ctx.node} (spec.nodeSelector)`;
  const inside = deleting
    ? 'its interface already in the container is taken out once the controller releases its address, as it does for every NIC of a MacvlanNet being deleted'
    : 'its interface already in the container is left as it is, with its address';
  return notReady('MacvlanNetNotOnNode', `MacvlanNet ${name} ${why}: the NIC is not added, nor kept up to date; ${inside}`);
}

function missing(ctx: AgentContext, kind: 'ClusterNetwork' | 'MacvlanNet', name: string): Attach {
  const p = networkMissing(ctx.caches, kind, name);
  return { problem: notReady(p.reason, p.message) };
}

/**
 * The bridge of the HostSubnet the controller chose for this NIC (status.hostSubnet): the
 * agent does not choose again, so with two HostSubnets on one network a veth cannot land on
 * the other one's bridge. The choice is checked: this node's, this network's, not deleting.
 */
function clusterAttachment(ctx: AgentContext, nic: ContainerNic, st: NicStatusView): Attach {
  const cnName = nic.spec.network.clusterNetwork!;
  const cn = ctx.caches.clusterNetworks.get(cnName);
  if (!cn) return missing(ctx, 'ClusterNetwork', cnName);
  if (!st.hostSubnet) return { problem: notReady('NotAllocated', `waiting for the controller to choose the HostSubnet of node ${ctx.node} on ClusterNetwork ${cnName}`) };
  const hs = ctx.caches.hostSubnets.get(st.hostSubnet);
  if (!hs || hs.spec.node !== ctx.node || hs.spec.clusterNetwork !== cnName) {
    return { problem: notReady('HostSubnetMissing', `HostSubnet ${st.hostSubnet}, chosen by the controller, is not one of node ${ctx.node}'s on ClusterNetwork ${cnName}`) };
  }
  const v = hostSubnetView(hs);
  if (v.problem) return { problem: notReady(v.problem.reason, v.problem.message) };
  if (!v.bridge || !v.subnet) return { problem: notReady('NotAllocated', `HostSubnet ${hs.metadata.name} has no subnet or bridge yet`) };
  return {
    attach: { kind: 'veth', bridge: v.bridge, hostSubnet: hs.metadata.name }, prefix: parseCidr(v.subnet).prefix,
    ...(v.gateway ? { gateway: v.gateway } : {}), mtu: cn.spec.mtu ?? DEFAULT_CLUSTER_MTU, clusterCidr: cn.spec.cidr, pool: hostSubnetPool(hs, { ...v, subnet: v.subnet }),
  };
}

type Write = (r: Ready, fields?: Record<string, unknown>) => Promise<void>;
type Container = NonNullable<Awaited<ReturnType<AgentContext['dp']['docker']['inspectContainer']>>>;

export async function reconcileNic(ctx: AgentContext, name: string): Promise<ReconcileResult | void> {
  const nic = ctx.caches.nics.get(name);
  if (!nic && unreadable(ctx, 'ContainerNic').has(name)) return leaveUnreadable(ctx, name);
  if (!nic || nic.spec.node !== ctx.node || isDeleting(nic)) return removeNic(ctx, name, nic);
  ctx.removedNics.delete(name);
  const w: Write = (r, fields = {}) => (r.status === 'False' && leftSinceRead(ctx, nic) ? Promise.resolve() : ctx.status.write('ContainerNic', nic, fields, r));

  const c = await reportingDocker(w, () => ctx.dp.docker.inspectContainer(nic.spec.container));
  const pin = c ? await reportingDocker(w, () => pinContainerNetns(ctx.dp, c)) : undefined;
  const ns = pin?.ns;
  try {
    // Our watcher of the container's previous namespace (a restart gives it a new one) goes
    // first: it would keep that namespace, and the NIC's MAC on the parent, alive.
    await ctx.unwatchNic(name, ns ? c!.pid : undefined);
    // before any write: each carries the new container's id, the one this needs
    // also when there is none now: a NIC moved to a container not made yet leaves the old one
    const former = await removeFromPreviousContainer(ctx, nic, c?.id);
    if (!c) return await w(notReady('ContainerNotFound', notFoundMessage(ctx, nic.spec.container, former)), former ? { containerId: former.id } : {});
    if (!ns) return await w(notReady('ContainerNotRunning', notRunningMessage(nic.spec.container, pin!.life)), { containerId: c.id });
    const d = await desiredNic(ctx, nic, c, ns);
    if ('problem' in d) {
      await w(await withoutReleased(ctx, nic, ns, d.problem), { containerId: c.id });
      return d.problem.reason === ADDRESS_IN_USE_REASON ? { requeueAfterMs: ADDRESS_IN_USE_RECHECK_MS } : undefined;
    }
    return await convergeNic(ctx, nic, c, d, ns, w);
  } finally {
    await ns?.close();
  }
}

/** The NIC as it should be in the pinned namespace, or why it cannot be made there (yet). */
async function desiredNic(ctx: AgentContext, nic: ContainerNic, c: Container, ns: PinnedNetns): Promise<DesiredNic | { problem: Ready }> {
  const shared = await sharedNamespaceWhy(ctx, c, ns);
  if (shared) return { problem: notReady('HostNetworkContainer', shared) };
  const st = nicStatusView(nic);
  if (st.problem) return { problem: notReady(st.problem.reason, st.problem.message) };
  const ip = st.ip;
  if (!ip) return { problem: notReady('NoAddress', noAddressMessage(nic)) };
  const a = attachment(ctx, nic, st);
  if ('problem' in a) return a;
  const bad = nicAddressProblem(nic.metadata.name, { ...st, ip }, a.pool);
  if (bad) return { problem: notReady(bad.reason, bad.message) };
  const held = a.attach.kind === 'veth' ? await dockerHeldProblem(ctx, nic, ip) : await passthruParentProblem(ctx, a.attach.mode, a.attach.parent);
  if (held) return { problem: held };
  const prefix = st.prefixLength ?? a.prefix;
  const gateway = st.gateway ?? a.gateway;
  return {
    name: nic.metadata.name, ifName: nic.spec.ifName, cidr: `${ip}/${prefix}`, defaultRoute: nic.spec.defaultRoute ?? false,
    netns: { path: ns.path, pid: ns.pid }, attach: a.attach,
    mac: nic.spec.mac ?? macFromIp(ip), ...(gateway ? { gateway } : {}), ...(a.mtu ? { mtu: a.mtu } : {}),
    ...(a.clusterCidr ? { clusterCidr: a.clusterCidr } : {}),
  };
}

/**
 * A NIC whose address the controller released (addressReleased) is taken out of its container
 * before it is reported: its address may soon be another NIC's. Not for a container sharing the
 * host's namespace (desiredNic says so first, and nothing is ever added there).
 */
async function withoutReleased(ctx: AgentContext, nic: ContainerNic, ns: PinnedNetns, problem: Ready): Promise<Ready> {
  if (problem.reason !== 'NoAddress' || !addressReleased(nic)) return problem;
  if (!(await takeOutOfContainer(ctx, nic, ns))) return problem;
  return { ...problem, message: `${problem.message}; its interface was taken out of the container, as the controller released its address` };
}

/** Plans and applies `d`, reports Attaching first when it changes anything, then the outcome. */
async function convergeNic(ctx: AgentContext, nic: ContainerNic, c: Container, d: DesiredNic, ns: PinnedNetns, w: Write): Promise<ReconcileResult | void> {
  const [host, inside] = await nicStates(ctx, d);
  const plan = planNic(d, host, inside);
  if (plan.problems.length) {
    // what a problem still plans is the NIC's own links taken out (planNameHeldBySibling)
    if (plan.ops.length) await ctx.dp.execute(plan.ops);
    if (plan.problems[0].watchContainer) await ctx.watchContainer(ns, d.name);
    return w(notReady(plan.problems[0].reason, plan.problems[0].message), { containerId: c.id });
  }
  // observedIp: the controller's address this report is about (store/stale-report.ts)
  const fields: Record<string, unknown> = { containerId: c.id, observedIp: d.cidr.split('/')[0] };
  // the host side: the veth's host end, or the macvlan's parent (docs/api.md, status.hostInterface)
  fields.hostInterface = d.attach.kind === 'veth' ? vethHostName(d.name) : d.attach.parent;
  // before the Attaching report: at start-up, a NIC made again where it was is a heal (heal.ts)
  if (nicMadeAgain(ctx.status, nic, c, plan.ops, fields)) inPlaceBeforeStart();
  if (plan.ops.length) await reportAttaching(ctx, nic, d, c.name, plan.ops.some((o) => o.op.startsWith('link.add.')), (r) => w(r, fields));
  const { state: now, macRefused } = await applyNic(ctx, d, plan.ops, inside, (r) => w(r, fields), c.name);
  const inC = now.links.find((l) => l.name === d.ifName);
  // Status shows the MAC the kernel has (what peers see).
  if (inC) fields.mac = inC.mac;
  rememberHostEnd(ctx, d, inC);
  await ctx.watchContainer(ns, d.name);
  if (macRefused) return waitForMac(ctx, d, c.name, inC?.mac, macRefused, (r) => w(r, fields));
  ctx.macWaits.clear(d.name);
  const noGateway = gatewayNotOnBridge(d, host.addrs, c.name);
  if (noGateway) return w(notReady('BridgeNotReady', noGateway), fields);
  await w(ready(`${d.ifName} is in container ${c.name} with ${d.cidr}${noDefaultRouteNote(d, nic.spec.network.macvlanNet)}`), fields);
}

/**
 * A veth NIC whose bridge does not carry its gateway: its HostSubnet was given another subnet
 * and the Docker network cannot move there while containers are attached (NetworkInUse). The
 * NIC is made with its new address all the same (it works as soon as the network moves: the
 * bridge made anew is marked, which wakes its NICs), but is not Ready: nothing beyond the
 * bridge is reachable through it. `addrs`: the host's, read with its links before the plan.
 */
function gatewayNotOnBridge(d: DesiredNic, addrs: Addr[], container: string): string | undefined {
  if (d.attach.kind !== 'veth' || !d.gateway) return undefined;
  const { bridge, hostSubnet } = d.attach;
  const on = addrs.filter((a) => a.dev === bridge).map((a) => a.cidr);
  if (on.some((cidr) => cidr.split('/')[0] === d.gateway)) return undefined;
  return `${d.ifName} is in container ${container} with ${d.cidr}, but bridge ${bridge} does not carry its gateway ${d.gateway} `
    + `(it has ${on.join(', ') || 'no address'}): HostSubnet ${hostSubnet}'s network has not moved to its subnet yet (its Ready condition says why)`;
}

/**
 * A veth's container end names its host end's ifindex: kept, so that a host end renamed by hand
 * (its event names only the new name) still wakes its NIC.
 */
function rememberHostEnd(ctx: AgentContext, d: DesiredNic, inC: { linkIndex?: number } | undefined): void {
  ctx.hostEnds?.set(d.name, d.attach.kind === 'veth' ? inC?.linkIndex : undefined);
}

/**
 * Keep-until-gone from the first moment: the controller keeps a deleted NIC's address while
 * this node has a status key of it (nic-finalizer.ts), so a NIC this node never reported on is
 * first reported Attaching, and only once that is in etcd does the address reach the container.
 * An agent that dies in between leaves the address claimed.
 *
 * `anew`: the plan makes the NIC's link again (the container restarted, the veth's host end
 * was deleted, which takes the container end with it, or the NIC moved to another network). A Ready True reported for the NIC's
 * previous life is taken back first: `docker restart` keeps the container's id, so nothing else
 * in the status would tell a reader that the NIC is not in the container now.
 */
async function reportAttaching(ctx: AgentContext, nic: ContainerNic, d: DesiredNic, container: string, anew: boolean, w: (r: Ready) => Promise<void>): Promise<void> {
  const stale = anew && ctx.status.readyStatus('ContainerNic', nic) === 'True';
  if (!stale && await ctx.status.reported('ContainerNic', nic)) return;
  await w({ status: 'Unknown', reason: 'Attaching', message: `adding ${d.ifName} with ${d.cidr} to container ${container}` });
}

/** A Docker read of the reconcile; its failure is written to the NIC's status, then thrown (retried). */
async function reportingDocker<T>(w: (r: Ready) => Promise<void>, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof DockerError) await w(notReady(e.reason, e.message));
    throw e;
  }
}

/**
 * No container of the NIC's spec.container. When the container it was in still exists under
 * another name (renamed away by `docker rename`, or spec.container edited), the message says
 * so, and the status keeps that container's id: the NIC's reconciles then keep telling it (its
 * events wake them), and a container of the NIC's name, or that one renamed back, gets the NIC.
 */
function notFoundMessage(ctx: AgentContext, container: string, former: FormerContainer | undefined): string {
  const head = `no container "${container}" on node ${ctx.node}`;
  if (!former) return `${head}; the NIC is added when it starts`;
  // renamed away (`docker rename`) or spec.container edited: the same facts, so no guess which
  return `${head} (the NIC was in container ${former.id.slice(0, 12)}, named "${former.name}" now: renamed, or spec.container edited); the NIC is added when a container of that name starts`;
}

/**
 * A container with no namespace to act on. 'restarted': it runs again, but not in the
 * namespace the agent opened; its start event brings the reconcile back.
 */
function notRunningMessage(container: string, life: ContainerPin['life']): string {
  if (life === 'restarted') return `container ${container} restarted while the agent opened its network namespace; the NIC is added in its new one`;
  return `container ${container} is not running; the NIC is added when it starts`;
}

/**
 * The NIC's key does not decode and the agent has no last good value of it (it started after
 * the key went bad): not deleted, so its interface stays in the container and its status key
 * (the controller keeps its address while it exists) stays in etcd, until the key is readable
 * again or deleted.
 */
function leaveUnreadable(ctx: AgentContext, name: string): void {
  ctx.log.warn('the NIC\'s key does not decode; its interface and status are left as they are', { nic: name });
}

/**
 * Host ends of NICs deleted while the agent was not running. A NIC whose key does not decode is
 * not garbage: its host end (marked with its name) stays, and with it the container's end.
 */
export async function collectNicGarbage(ctx: AgentContext): Promise<void> {
  // The host first, the NICs after: a NIC made while the host is read (by its own reconcile,
  // which may run beside this pass) was in the cache before its link was, so it is wanted here.
  const host = await ctx.dp.hostState();
  const wanted = [...localNics(ctx).map((n) => n.metadata.name), ...unreadable(ctx, 'ContainerNic')];
  const plan = planNicGarbage(wanted, host);
  if (plan.ops.length) {
    ctx.log.info('removing host ends of gone NICs', { links: plan.ops.length });
    await ctx.dp.execute(plan.ops);
  }
}
