// This node's HostSubnets: one Docker bridge network each (which makes the bridge).
import type { HostSubnet } from '../../api/index.js';
import { DockerError, OWNER_LABEL, type DockerNetwork, type DockerNetworkSpec } from '../../docker/types.js';
import { bridgeNetworkSpec, refusedPin } from '../desired.js';
import { networkMissing } from '../missing-network.js';
import { notReady, unreadable, type AgentContext } from '../context.js';
import { attachedCount, planDockerNetworks } from '../planner/docker-networks.js';
import { nodeNameProblems } from '../names.js';
import type { Addr, Link } from '../../netlink/types.js';
import { applyNetwork, BRIDGE_OPTION, executeDockerOwned, type ObservedHost } from './host-subnet-network.js';
import { removeLeftReports } from './host-subnet-reports.js';
import { bridgeAlias } from '../planner/names.js';
import { labelledFor, madeHere, type MadeNetworks } from '../planner/owner.js';
import { noteInPlace, tellUnproven } from './networks-made.js';
import { removeLeftoverBridges } from './host-subnet-leftover-bridges.js';
import { keptDockerHeld } from './host-subnet-docker-held.js';

/**
 * One being deleted (deletionTimestamp) is still this node's: its delete is the controller's
 * (controller/hostsubnet-finalizer.ts), and what goes of it goes once it is gone, as for any
 * HostSubnet the controller deletes; a marked one made again under its name keeps its network.
 */
export function localHostSubnets(ctx: AgentContext): HostSubnet[] {
  return ctx.caches.hostSubnets.list().filter((h) => h.spec.node === ctx.node);
}

/**
 * Each HostSubnet on its own: one whose network Docker refuses (its status says why) keeps
 * neither the others nor the removal of stale networks from running. What failed is thrown
 * at the end, as one error, so that the work queue tries again with backoff.
 * Stale networks go first: the network a renamed `dockerNetwork` leaves behind still holds the
 * subnet, and Docker refuses the new one while it does (SubnetOverlap). Only networks without
 * containers are removed, so nothing is cut off in between; one that still has containers
 * keeps the new one waiting, and says so.
 */
export async function reconcileHostSubnets(ctx: AgentContext): Promise<void> {
  const mine = localHostSubnets(ctx);
  const { specs, pending } = await desiredNetworks(ctx, mine);
  let host = await observedHost(ctx, mine, specs, pending);
  const made = ctx.networks?.made();
  const failed: Failure[] = [];
  // xnet's networks on the host after the removal of stale ones (all, should it fail)
  try {
    const stale = await removeStaleNetworks(ctx, specs, host.owned, made);
    // one found gone already may have been replaced under its name (by a user's network, which
    // its successor must not be made over: NetworkConflict): Docker's networks are read again
    if (stale.goneAlready) host = await observedHost(ctx, mine, specs, pending);
    // a network removed here leaves its name to its successor (the planner no longer sees it)
    else host.removed = stale.removed;
    await removeLeftReports(ctx, mine, new Set(host.owned.filter((n) => !host.removed?.has(n.name)).map((n) => n.labels[OWNER_LABEL] ?? '')));
  } catch (e) { failed.push({ what: 'removing stale networks', error: e }); }
  try {
    await removeLeftoverBridges(ctx, host.links, host.observed, specs, host.removed);
  } catch (e) { failed.push({ what: 'removing leftover bridges', error: e }); }
  // xnet's networks of gone HostSubnets: those removed above no longer hold their bridge or name
  const leftover = staleNetworks(specs, host.owned, made);
  const stale = leftover.filter((n) => !host.removed?.has(n.name));
  for (const hs of mine) {
    const spec = specs.get(hs.metadata.name);
    if (!spec) continue;
    try {
      const taken = bridgeTakenWhy(hs, spec, host.owned, leftover, host.links);
      const held = taken ? undefined : bridgeHeldWhy(spec, stale);
      if (taken) await ctx.status.write('HostSubnet', hs, {}, notReady('BridgeNameTaken', taken));
      else if (held) await ctx.status.write('HostSubnet', hs, {}, notReady('NetworkInUse', held));
      else await applyNetwork(ctx, hs, spec, host);
    } catch (e) { failed.push({ what: `HostSubnet ${hs.metadata.name}`, error: e }); }
  }
  if (failed.length) throw oneError(failed);
}

interface Failure { what: string; error: unknown }

/** The one failure as it was (its class and reason), several as one error naming each. */
function oneError(failed: Failure[]): unknown {
  if (failed.length === 1) return failed[0].error;
  const each = failed.map((f) => `${f.what}: ${f.error instanceof Error ? f.error.message : String(f.error)}`);
  return new AggregateError(failed.map((f) => f.error), `${failed.length} HostSubnet changes failed: ${each.join('; ')}`);
}

/** The Docker network each HostSubnet wants; those that cannot have one yet report why. */
async function desiredNetworks(ctx: AgentContext, mine: HostSubnet[]): Promise<{ specs: Map<string, DockerNetworkSpec>; pending: Set<string> }> {
  const specs = new Map<string, DockerNetworkSpec>();
  const pending = new Set<string>();
  const clashes = nodeNameProblems(ctx);
  for (const hs of mine) {
    const cn = ctx.caches.clusterNetworks.get(hs.spec.clusterNetwork);
    const r = cn ? bridgeNetworkSpec(hs, cn) : { problem: networkMissing(ctx.caches, 'ClusterNetwork', hs.spec.clusterNetwork) };
    const problem = r.problem ?? clashes.get(`HostSubnet/${hs.metadata.name}`);
    if (!problem) specs.set(hs.metadata.name, r.spec!);
    else {
      // a network made from its spec before the controller refused that subnet (another
      // HostSubnet's) does not wait for it: it goes like a gone HostSubnet's, once it is empty
      if (!refusedPin(hs)) pending.add(`HostSubnet/${hs.metadata.name}`);
      await ctx.status.write('HostSubnet', hs, {}, notReady(problem.reason, problem.message));
    }
  }
  return { specs, pending };
}

/** The bridge networks Docker has (`observed`: also those waiting for the controller); links and addresses. */
async function observedHost(ctx: AgentContext, mine: HostSubnet[], specs: Map<string, DockerNetworkSpec>, pending: Set<string>): Promise<ObservedHost & { observed: DockerNetwork[] }> {
  let observed: DockerNetwork[];
  let links: Link[];
  let addrs: Addr[];
  // what the record held before Docker's networks are read (another pass may add to it meanwhile)
  const readAt = ctx.networks?.now();
  try {
    observed = await ctx.dp.dockerNetworks([...specs.values()].map((s) => s.name));
    ({ links, addrs } = await ctx.dp.ip.linksAndAddrs());
  } catch (e) {
    if (e instanceof DockerError && (e.reason === 'DockerUnavailable' || e.reason === 'DockerTimedOut')) {
      // Docker's containers were not read: the addresses reported as theirs stay (host-subnet-docker-held.ts)
      for (const hs of mine) if (specs.has(hs.metadata.name)) await ctx.status.write('HostSubnet', hs, keptDockerHeld(hs), notReady(e.reason, e.message));
    }
    throw e;
  }
  // A network whose owner waits for the controller stays. One whose bridge was deleted by hand
  // is as Docker has it: the bridge alone is made again (host-subnet-network.ts bridgeGone).
  const owned = observed.filter((n) => !pending.has(n.labels[OWNER_LABEL] ?? '') && n.driver === 'bridge');
  const wanted = new Set([...specs.values()].map((s) => s.name));
  noteInPlace(ctx, specs.values(), observed, 'HostSubnet', readAt);
  // under a wanted name, any network (of any driver) is in the way: planDockerNetworks says whose it is
  return { owned, named: observed.filter((n) => wanted.has(n.name)), links, addrs, observed };
}

/**
 * A bridge name that is a link of this host no xnet Docker network made (eth0, docker0, a
 * user's bridge, also that of a user's network carrying some io.xnet.owner label): Docker would
 * adopt the link as the network's bridge, or refuse a second network on it. Never asked for.
 * xnet's is (planner/owner.ts) this HostSubnet's own network under its name (made again or
 * in place: planDockerNetworks), or xnet's network of a gone HostSubnet (`leftover`), which
 * was removed first or holds the bridge (bridgeHeldWhy).
 */
function bridgeTakenWhy(hs: HostSubnet, spec: DockerNetworkSpec, owned: DockerNetwork[], leftover: DockerNetwork[], links: Link[]): string | undefined {
  const bridge = spec.options[BRIDGE_OPTION];
  const link = links.find((l) => l.name === bridge);
  if (!link) return undefined;
  const own = (n: DockerNetwork) => n.name === spec.name && labelledFor(n, 'HostSubnet') === hs.metadata.name;
  if (owned.some((n) => (own(n) || leftover.includes(n)) && n.options[BRIDGE_OPTION] === bridge)) return undefined;
  // xnet's own, left without its network (made again in the moment Docker removed the network)
  if (link.alias === bridgeAlias(hs.metadata.name)) return undefined;
  return `bridge ${bridge} is an existing link of this host that xnet did not make; choose another bridge name`;
}

/**
 * The bridge name is still that of xnet's network of a gone HostSubnet (`stale`: kept on the
 * host while containers are attached): Docker makes no second network on one bridge, so this
 * one waits for those containers, and is made in the pass that removes that network.
 */
function bridgeHeldWhy(spec: DockerNetworkSpec, stale: DockerNetwork[]): string | undefined {
  const bridge = spec.options[BRIDGE_OPTION];
  const holder = stale.find((n) => n.options[BRIDGE_OPTION] === bridge || n.name === spec.name);
  if (!holder) return undefined;
  const what = holder.name === spec.name ? `the name ${spec.name} is still that of` : `bridge ${bridge} is still the bridge of`;
  return `${what} Docker network ${holder.name} (${holder.labels[OWNER_LABEL]}, gone), which ${attachedCount(holder)} container(s) still use (stopped ones included); `
    + `Docker network ${spec.name} is made once they leave (docker network disconnect ${holder.name}, or remove them)`;
}

/**
 * Networks labelled for a HostSubnet (planner/owner.ts labelledFor) that no HostSubnet here
 * declares: under a name none wants (a renamed `dockerNetwork`), or labelled for a HostSubnet
 * that has no network here any more, also under a name another one wants now (a HostSubnet
 * replaced by one of another name: that network is not the new one's to take over,
 * planner/docker-networks.ts, so it goes first). `leftover`: those this node made (owner.ts
 * madeHere: its record), xnet's to remove; `unproven`: the others (a user's so labelled, or
 * xnet's own whose record was lost), which stay.
 */
function unwanted(specs: Map<string, DockerNetworkSpec>, owned: DockerNetwork[], made: MadeNetworks | undefined): { leftover: DockerNetwork[]; unproven: DockerNetwork[] } {
  const wanted = new Set([...specs.values()].map((s) => s.name));
  const all = owned.filter((n) => {
    const owner = labelledFor(n, 'HostSubnet');
    return owner !== undefined && (!wanted.has(n.name) || !specs.has(owner));
  });
  return { leftover: all.filter((n) => madeHere(n, 'HostSubnet', made)), unproven: all.filter((n) => !madeHere(n, 'HostSubnet', made)) };
}

/** xnet's networks of gone HostSubnets, and of renamed `dockerNetwork`s (unwanted). */
const staleNetworks = (specs: Map<string, DockerNetworkSpec>, owned: DockerNetwork[], made: MadeNetworks | undefined): DockerNetwork[] =>
  unwanted(specs, owned, made).leftover;

/**
 * Networks of HostSubnets that are gone or no longer on this node; not those of HostSubnets
 * whose key does not decode (unreadable is not absent). Returns the names of those removed (one
 * with containers attached waits for them), and whether any was gone already (404: removed by
 * someone else since the list, its name maybe another network's now, so not counted as freed).
 */
async function removeStaleNetworks(ctx: AgentContext, specs: Map<string, DockerNetworkSpec>, owned: DockerNetwork[], made: MadeNetworks | undefined): Promise<{ removed: Set<string>; goneAlready: boolean }> {
  const kept = new Set([...unreadable(ctx, 'HostSubnet')].map((n) => `HostSubnet/${n}`));
  const { leftover, unproven } = unwanted(specs, owned, made);
  // one of a HostSubnet still here is under a renamed dockerNetwork: its HostSubnet is not gone
  const renamed = (n: DockerNetwork) => specs.get(labelledFor(n, 'HostSubnet') ?? '')?.name;
  tellUnproven(ctx, unproven.filter((n) => !kept.has(n.labels[OWNER_LABEL])), 'HostSubnet', renamed);
  const stale = leftover.filter((n) => !kept.has(n.labels[OWNER_LABEL]));
  const gc = planDockerNetworks([], stale, 'HostSubnet');
  if (!gc.ops.length) return { removed: new Set(), goneAlready: false };
  ctx.log.info('removing Docker networks of gone HostSubnets', { networks: stale.map((n) => n.name) });
  const gone = new Set((await executeDockerOwned(ctx, gc.ops))?.goneAlready);
  const removed = new Set(gc.ops.flatMap((o) => (o.op === 'docker.network.remove' && !gone.has(o.id) ? [o.name] : [])));
  return { removed, goneAlready: gone.size > 0 };
}
