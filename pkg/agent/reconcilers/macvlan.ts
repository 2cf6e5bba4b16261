// MacvlanNets that select this node: parent (or VLAN sub-interface), promiscuous mode, the
// Docker macvlan network on this node's block, the host shim and its routes.
import { followMarks } from '../mark-times.js';
import { MAX_MACVLAN_NODE_MESSAGE, type MacvlanNet } from '../../api/index.js';
import { parseIPv4 } from '../../ip/ipv4.js';
import { DockerError, type DockerNetwork } from '../../docker/types.js';
import { notReady, ready, unreadable, type AgentContext, type Ready } from '../context.js';
import { ApplyError } from '../dataplane.js';
import { desiredMacvlan, dockerMacvlanName, isDeleting, macvlanNodeStatus, macvlanParent, selects } from '../desired.js';
import { forgetDockerIpam, syncDockerIpam } from './docker-ipam.js';
import { keptOutsideBlock, outsideBlockReport } from './macvlan-outside-block.js';
import type { AddressBook } from '../../dockeripam/book.js';
import { effectiveParent, macvlanLeftovers, planMacvlan, planMacvlanRemoval, unprovenMacvlan, type DesiredMacvlan } from '../planner/macvlan.js';
import { noteInPlace, noteMade, tellUnproven } from './networks-made.js';
import { mvnKey } from '../events.js';
import { parentChanges } from '../planner/parents.js';
import { attachedCount } from '../planner/docker-networks.js';
import { recordedUnused, releaseParents } from './parents.js';
import { labelledFor } from '../planner/owner.js';
import { localNics } from './nics.js';
import { nodeNameProblems } from '../names.js';
import { passthruParentProblem } from '../passthru.js';
import type { Op } from '../planner/ops.js';
import type { HostState } from '../../netlink/ip.js';

export function selectsThisNode(ctx: AgentContext, m: MacvlanNet): boolean {
  return !isDeleting(m) && selects(m.spec.nodeSelector, ctx.caches.nodes.get(ctx.node));
}

/**
 * The MacvlanNet is gone or no longer selects this node: take its part off the host, then undo
 * what xnet did to parents nothing uses any more. Every MacvlanNet that does not select this
 * node comes this way: the release runs when something of this one was here or the record
 * names an unused parent; the agent's garbage pass at each resync catches the rest.
 */
async function removeMacvlan(ctx: AgentContext, name: string): Promise<void> {
  const nets = await ctx.dp.dockerNetworks([]);
  const made = ctx.networks?.made();
  const plan = planMacvlanRemoval(name, await ctx.dp.hostState(), nets, made);
  // a network so labelled that this node has no record of making stays (planner/owner.ts madeHere)
  const unproven = unprovenMacvlan(name, nets, made);
  tellUnproven(ctx, unproven, 'MacvlanNet');
  if (plan.ops.length) {
    ctx.log.info('removing macvlan network from this node', { macvlanNet: name });
    await ctx.dp.execute(plan.ops);
  }
  if (plan.ops.length || recordedUnused(ctx)) await releaseParents(ctx);
  // One with containers may be xnet's own from before the record (an upgrade, a lost state
  // directory), its containers on the MacvlanNet's addresses: this node's report stays, so the
  // controller keeps them and the delete waits (macvlan-deleting.ts), until they leave. A user's
  // network so labelled holds it the same way; the log line above names it.
  if (plan.problems.length === 0 && !unproven.some((n) => attachedCount(n) > 0)) {
    await ctx.status.remove('MacvlanNet', name);
    if (ctx.ipam?.book) forgetDockerIpam(ctx.ipam.book, name);
  }
}

/**
 * The removal of MacvlanNets no longer in the view whose Docker network is still here, asked
 * again (their `mvn/<name>` key): nothing else names them once they left the caches, and a
 * network whose removal waited for its containers would stay for good. Run by the gc pass and
 * when Docker says a container or network went.
 */
export async function removeMacvlanLeftovers(ctx: AgentContext): Promise<void> {
  const known = new Set(ctx.caches.macvlanNets.list().map((m) => m.metadata.name));
  const { names: recorded, unproven } = macvlanLeftovers(await ctx.dp.docker.listNetworks(), known, unreadable(ctx, 'MacvlanNet'), ctx.networks?.made());
  tellUnproven(ctx, unproven, 'MacvlanNet');
  // an unrecorded one holds this node's report while containers are on it (removeMacvlan):
  // looked at again while that report is there, it lets go once they left
  const reported = new Set(ctx.ownReports?.('MacvlanNet') ?? []);
  const held = unproven.flatMap((n) => labelledFor(n, 'MacvlanNet') ?? []).filter((n) => reported.has(n));
  const names = [...new Set([...recorded, ...held])];
  if (names.length === 0) return;
  if (ctx.enqueue) return ctx.enqueue(names.map(mvnKey));
  for (const n of names) await reconcileMacvlan(ctx, n);
}

/**
 * Whether the MacvlanNet, or this node's Node (its labels decide which MacvlanNets select it),
 * has a key that does not decode: then its absence or not selecting proves nothing, and what
 * it has on this host stays.
 */
function inDoubt(ctx: AgentContext, name: string): boolean {
  return unreadable(ctx, 'MacvlanNet').has(name) || unreadable(ctx, 'Node').has(ctx.node);
}

export async function reconcileMacvlan(ctx: AgentContext, name: string): Promise<void> {
  const m = ctx.caches.macvlanNets.get(name);
  if (!m || !selectsThisNode(ctx, m)) {
    if (!inDoubt(ctx, name)) return removeMacvlan(ctx, name);
    ctx.log.warn('a key it depends on does not decode; the MacvlanNet\'s part on this host is left as it is', { macvlanNet: name });
    return;
  }
  const self = ctx.caches.nodes.get(ctx.node);
  const w = (r: Ready, fields: Record<string, unknown> = {}) =>
    ctx.status.write('MacvlanNet', m, { name: ctx.node, parent: macvlanParent(m, self, ctx.node), ready: r.status === 'True', message: r.message, ...fields }, r);
  const r = desiredMacvlan(m, ctx.node, self, localNics(ctx), ctx.ipam?.plugin);
  const problem = r.problem ?? nodeNameProblems(ctx).get(`MacvlanNet/${name}`) ?? (r.desired && await passthruParentProblem(ctx, m.spec.mode, effectiveParent(r.desired)));
  // nothing is done to Docker here: the range last reported still holds
  if (problem || !r.desired) return w(notReady(problem!.reason, problem!.message), { ...lastDockerRange(ctx, m), ...(blocksMode(m) ? keptOutsideBlock(ctx, m) : {}) });
  const d = r.desired;
  const book = d.network?.ipamDriver ? ctx.ipam?.book : undefined;
  if (book) followPart(book, m, ctx.node, effectiveParent(d));
  // One at a time with a release of unused parents: that pass must not undo what this one
  // is about to rely on (a parent just made promiscuous, a VLAN link just adopted).
  // Only the plan and its execution hold the lock; the status is written after it.
  const serial = <T>(f: () => Promise<T>) => (ctx.parents ? ctx.parents.serial(f) : f());
  const out = await serial(() => applyMacvlan(ctx, name, d, dockerMacvlanName(m)));
  // The ip-range Docker has, not the one asked for: the controller keeps a block claimed while
  // the node says its Docker hands it out (controller/macvlan-moving.ts). Docker unreadable:
  // the range last reported stands.
  const fields: Record<string, unknown> = {
    parent: effectiveParent(d),
    ...(out.dockerRange === UNKNOWN ? lastDockerRange(ctx, m) : out.dockerRange ? { dockerRange: out.dockerRange } : {}),
    ...(book ? { ipam: book.report(name) } : {}),
  };
  // dockerIPAM blocks: what its containers hold outside this node's block, also while it stops
  // at a problem (a network that cannot be made again while containers use it)
  if (blocksMode(m) && d.network) Object.assign(fields, out.dockerRange === UNKNOWN ? keptOutsideBlock(ctx, m) : await outsideBlockReport(ctx, m, d.network.name, out.dockerRange));
  if (out.stopped) await w(out.stopped, fields);
  if (out.error) throw out.error;
  if (out.stopped) return;
  // a parent this MacvlanNet just left (its spec.parent or the node's override changed) is
  // given back now, not at the next gc pass; answered from memory when there is none
  if (recordedUnused(ctx)) await releaseParents(ctx);
  // pending: the plan above was the parent's only; the network and shim here were left alone
  if (r.pending) return w(notReady(r.pending.reason, r.pending.message), fields);
  if (book) {
    await syncDockerIpam(ctx, book, m, d.network!.name);
    fields.ipam = book.report(name);
  }
  const said = `Docker network ${d.network!.name} on ${effectiveParent(d)}${d.shim ? ` with host shim ${d.shim.address}` : ''}`;
  // addresses of the status no container may hold were left out: the rest serve, and it says which
  if (r.statusProblem) return w(notReady(r.statusProblem.reason, r.statusProblem.message), fields);
  await w(ready(`${said}${book ? outsidePoolNote(book.outsidePool(name), said.length) : ''}`), fields);
}

/** The IPAM book takes the controller's word on this node's part: its parent, pool, limits, asks and external marks. */
function followPart(book: AddressBook, m: MacvlanNet, node: string, parent: string): void {
  const name = m.metadata.name;
  const part = macvlanNodeStatus(m, node);
  book.setParent(name, parent);
  book.setPool(name, part?.addresses ?? [], { subnet: m.spec.subnet, ...(m.spec.gateway ? { gateway: m.spec.gateway } : {}) }, part?.maxFree, part?.refused, part?.giveBack);
  // this node's external marks, also when no MacvlanNet change came since the book knew the network (../ipam-host.ts followPool)
  followMarks(book, name, part);
}

const blocksMode = (m: MacvlanNet) => m.spec.dockerIPAM === 'blocks';

/** The dockerRange this node last reported for the MacvlanNet, as report fields. */
function lastDockerRange(ctx: AgentContext, m: MacvlanNet): { dockerRange?: string } {
  const range = ctx.status.lastReported('MacvlanNet', m)?.dockerRange;
  return typeof range === 'string' ? { dockerRange: range } : {};
}

/**
 * Containers here on addresses the controller does not give this node (adopted from Docker at
 * start, ../../dockeripam/adopt.ts; or left outside an edited ipRange): their count and as many
 * of their addresses as fit after `before` characters within what the controller copies into
 * the MacvlanNet's status (MAX_MACVLAN_NODE_MESSAGE). `xctl ipam check` names every one with
 * its container; five "ip (name)" entries were cut off there inside the first name.
 */
export function outsidePoolNote(list: ReadonlyArray<{ ip: string }>, before: number): string {
  if (!list.length) return '';
  const ips = list.map((a) => a.ip).sort((a, b) => parseIPv4(a) - parseIPv4(b));
  const head = `; ${ips.length} in use here outside its pool: `;
  const tail = (rest: number) => `${rest ? ` and ${rest} more` : ''} (xctl ipam check)`;
  let n = ips.length;
  while (n > 1 && before + head.length + ips.slice(0, n).join(', ').length + tail(ips.length - n).length > MAX_MACVLAN_NODE_MESSAGE) n--;
  return `${head}${ips.slice(0, n).join(', ')}${tail(ips.length - n)}`;
}

const UNKNOWN = Symbol('unknown');

/**
 * The parent's part of a plan that stops at a problem past the parent (the Docker network
 * cannot be made again while containers are attached, the shim's name is taken): it is still
 * brought up and made promiscuous, since this node's macvlan ContainerNics move to a new parent
 * at once (planner/nic.ts). Dropped with the rest, a parent moved by spec.nodes[].parent stayed
 * down under a NIC that reported Ready True.
 */
async function prepareParent(ctx: AgentContext, name: string, d: DesiredMacvlan, ops: Op[], host: HostState): Promise<void> {
  const parent = effectiveParent(d);
  const prep = ops.filter((o) => (o.op === 'link.add.vlan' || o.op === 'link.set.alias' || o.op === 'link.set.up' || o.op === 'link.set.promisc') && o.name === parent);
  if (!prep.length || (d.vlan && ctx.capabilities.vlan === false)) return;
  try {
    ctx.parents?.note(parentChanges(d, prep, host));
    await ctx.dp.execute(prep);
  } catch (e) {
    ctx.log.warn('could not prepare the macvlan parent', { macvlanNet: name, parent, error: (e as Error).message });
  }
}

/**
 * What applyMacvlan ended with: `stopped` on a problem (to report), `error` to throw after it,
 * and the ip-range of this MacvlanNet's Docker network here as it stands (UNKNOWN when Docker
 * could not be read).
 */
interface ApplyOutcome { stopped?: Ready; error?: unknown; dockerRange: string | undefined | typeof UNKNOWN }

/**
 * The ip-range of xnet's Docker network `net` of MacvlanNet `mvn` among `nets` (a foreign one of
 * that name, also one of another driver carrying the label, is not ours to report: owner.ts).
 */
export function dockerRangeOf(nets: DockerNetwork[], net: string, mvn: string): string | undefined {
  return nets.find((n) => n.name === net && labelledFor(n, 'MacvlanNet') === mvn)?.ipRange;
}

/**
 * Records the MacvlanNet's network found in place (network-record.ts; `nets` read after
 * `readAt`), names once each network
 * labelled for it under another name that this node has no record of making (it stays), and
 * returns the record the plan is to go by. Pending (no network planned): the record only.
 */
function noteServed(ctx: AgentContext, name: string, d: DesiredMacvlan, nets: DockerNetwork[] | undefined, readAt: number | undefined) {
  if (d.network && nets) noteInPlace(ctx, [d.network], nets, 'MacvlanNet', readAt);
  const made = ctx.networks?.made();
  if (d.network && nets) tellUnproven(ctx, unprovenMacvlan(name, nets, made, d.network.name), 'MacvlanNet');
  return made;
}

/** Plans the MacvlanNet's part on this host (its Docker network `net`) and carries it out. */
async function applyMacvlan(ctx: AgentContext, name: string, d: DesiredMacvlan, net: string): Promise<ApplyOutcome> {
  let plan, host, nets;
  try {
    host = await ctx.dp.hostState();
    const readAt = ctx.networks?.now();
    // pending (no network to plan): the plan is the parent's only, the network is only read
    nets = d.network ? await ctx.dp.dockerNetworks([net]) : await ctx.dp.dockerNetworks([net]).catch(() => undefined);
    plan = planMacvlan(d, host, d.network ? nets! : [], noteServed(ctx, name, d, nets, readAt));
  } catch (e) {
    const dockerRange = nets ? dockerRangeOf(nets, net, name) : UNKNOWN;
    return e instanceof DockerError ? { stopped: notReady(e.reason, e.message), error: e, dockerRange } : { error: e, dockerRange };
  }
  // what Docker has until the plan has run: a network it could not make again keeps its range
  const before = nets ? dockerRangeOf(nets, net, name) : UNKNOWN;
  if (plan.problems.length) {
    await prepareParent(ctx, name, d, plan.ops, host);
    return { stopped: notReady(plan.problems[0].reason, plan.problems[0].message), dockerRange: before };
  }
  // The plan (VLAN interface first) is known; the kernel here cannot carry it out.
  if (d.vlan && ctx.capabilities.vlan === false && (!plan.ops[0] || plan.ops[0].op === 'link.add.vlan')) {
    return { stopped: notReady('VlanUnsupported', `VLAN ${d.vlan} needs interface ${effectiveParent(d)}, but this node's kernel has no 802.1Q support`), dockerRange: before };
  }
  try {
    if (plan.ops.length) {
      ctx.log.info('macvlan', { macvlanNet: name, ops: plan.ops.map((o) => o.op) });
      // recorded before the change: a crash in between cannot lose what xnet must undo
      ctx.parents?.note(parentChanges(d, plan.ops, host));
      const making = d.network && plan.ops.some((o) => o.op === 'docker.network.create');
      try { await ctx.dp.execute(plan.ops); } finally { if (making) await noteMade(ctx, 'MacvlanNet', name, d.network!); }
    }
  } catch (e) {
    const reason = e instanceof ApplyError || e instanceof DockerError ? e.reason : 'Failed';
    // half done: the old range is reported until a read shows otherwise (it stays claimed longer, never shorter)
    return { stopped: notReady(reason, (e as Error).message), ...(reason === 'VlanUnsupported' ? {} : { error: e }), dockerRange: before };
  }
  // carried out: the network is as wanted (made again when its range differed)
  return { dockerRange: d.network ? d.network.ipRange : before };
}
