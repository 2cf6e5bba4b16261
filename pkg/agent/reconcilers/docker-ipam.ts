// dockerIPAM xnet on this node: the address book follows the controller's list of this node's
// addresses, learns from Docker which container holds which address, and frees what Docker no
// longer holds (a ReleaseAddress missed while the agent was down, the address of a container
// removed or taken off the network), never a live container's.
import type { MacvlanNet } from '../../api/index.js';
import { detachedEndpoint, type ContainerInfo, type NetworkEndpoint } from '../../docker/types.js';
import { gratuitousArp } from '../../dockeripam/arp.js';
import type { AddressBook, Assigned, ContainerFacts } from '../../dockeripam/book.js';
import { pidTarget } from '../../netlink/target.js';
import { homeNeverBackWhy, homeStep, movesNow, type HomeStep } from './kept-home.js';
import { HomeAsks } from './home-asks.js';
import { otherHolderIn } from '../../dockeripam/other-nodes.js';
import { dropStaleAsks, netsWithoutNetwork } from '../../dockeripam/stale-asks.js';
import type { AgentContext } from '../context.js';

/** An address handed out but not seen on any container for this long is stale. */
export const UNSEEN_GRACE_MS = 60_000;

/**
 * Who else holds ip on the MacvlanNet, another node's pre-claim included where the status lists
 * it (../../dockeripam/other-nodes.ts): a controller that keeps each node's part in that node's
 * index lists no other node's pre-claims here (store/macvlan-parts.ts).
 */
export function otherHolder(ctx: AgentContext, mvn: string, ip: string): string | undefined {
  return otherHolderIn(ctx.caches.macvlanNets.get(mvn)?.status, ctx.node, ip, true);
}

/** Who holds ip for good, for a refusal at once: not another node's pre-claim, which the controller may ask back. */
export function heldForGood(ctx: AgentContext, mvn: string, ip: string): string | undefined {
  return otherHolderIn(ctx.caches.macvlanNets.get(mvn)?.status, ctx.node, ip, false);
}

/** What a dockerd restoring its containers will do with this one (the IPAM guess's clues). */
export function factsOf(c: ContainerInfo, network: string): ContainerFacts {
  const p = c.restartPolicy ?? '';
  // unless-stopped: a container stopped by hand stays down; seen stopped, taken as that.
  return { restarts: p === 'always' || p === 'on-failure' || (p === 'unless-stopped' && c.running), pinned: !!c.pinnedIps?.[network] };
}

/**
 * Learns holders from Docker (and, once per container, its restart policy and --ip), keeps
 * stopped containers' addresses for them, frees those of removed containers, and moves a
 * container that came back on another address home.
 *
 * The plugin answers Docker meanwhile (its requests do not wait for this), so every Docker
 * answer here may be older than the book: the entries are read before Docker is, and one is
 * acted on only while it is still exactly as read (AddressBook.unchanged), checked again after
 * each wait on Docker, right before the book is changed. One that changed (a ReleaseAddress,
 * a restart given its kept address back, a new container borrowing it) is left to the next sync.
 */
export async function syncDockerIpam(ctx: AgentContext, book: AddressBook, m: MacvlanNet, network: string): Promise<void> {
  const mvn = m.metadata.name;
  const entries = book.assigned(mvn);
  // An address missing from Docker's list was let go of before Docker was asked: kept for its
  // container as released then, before any ReleaseAddress heard while this sync waits (that
  // one is the stop of a `docker restart` whose start the next request is).
  const before = Date.now() - 1;
  const eps = await ctx.dp.docker.networkEndpoints(network);
  // the network is gone: no container on it waits for a home, nothing but a --ip request in flight for an address
  if (!eps) return sweepAsks(ctx, book, mvn, new Set());
  const seen = new Map<string, NetworkEndpoint>();
  for (const e of eps) if (e.ip) seen.set(e.ip, e);
  const fresh: NetworkEndpoint[] = [];
  for (const a of entries) {
    if (!book.unchanged(mvn, a)) continue;
    const e = seen.get(a.ip);
    // in use by an endpoint in no sandbox, its container starting or stopping: which container
    // is not said (taken for one, `ep-...`, the address was freed as that of a removed
    // container at the next sync, and handed out while its stopped container kept it)
    if (e && detachedEndpoint(e)) continue;
    if (!e) await settleUnseen(ctx, book, mvn, a, network, before);
    else if (await settleSeen(ctx, book, mvn, a, e, network)) fresh.push(e);
  }
  for (const e of fresh) void announce(ctx, e);
  await bringHome(ctx, book, m, network, eps.filter((e) => !detachedEndpoint(e)));
}

/**
 * An address Docker shows on a container (entry unchanged since Docker was read): in use by
 * it, and what Docker says of it learnt once. True when the address is new on that container.
 */
async function settleSeen(ctx: AgentContext, book: AddressBook, mvn: string, a: Assigned, e: NetworkEndpoint, network: string): Promise<boolean> {
  book.identify(mvn, a.ip, e.container, e.name);
  if (a.container !== e.container || a.restarts === undefined) {
    const now = book.entry(mvn, a.ip)!;
    const c = await ctx.dp.docker.inspectContainer(e.container).catch(() => undefined);
    if (c && book.unchanged(mvn, now)) book.learn(mvn, a.ip, e.container, factsOf(c, network));
  }
  return a.container !== e.container || a.released !== undefined;
}

/**
 * The container is no longer on the network at all (docker network disconnect, of a running
 * or a stopped one): Docker's ReleaseAddress looks the same as a stop's, but a stopped (or
 * restarting) container still has the network among its networks and comes back to it at its
 * next start, one taken off it never does. Docker's own IPAM frees the address then: so does
 * the book. Not known (Docker showed no networks): not left. An address lent away goes back to
 * the container it is kept for, as at any release.
 */
export function leftNetwork(c: ContainerInfo, network: string, a: Assigned): boolean {
  if (a.lentFrom && a.lentFrom.container !== a.container) return false;
  return c.networks !== undefined && !c.networks.includes(network);
}

/**
 * An address no container on the network holds: kept while its container exists and is still
 * on the network (stopped), else free (removed, or taken off the network: leftNetwork).
 * Only if its entry is still as read once Docker answered: meanwhile Docker may have released
 * it and given it back to the restarting container, or lent it to a new one. A release
 * inferred here is dated `released` (before Docker was read), never now.
 */
async function settleUnseen(ctx: AgentContext, book: AddressBook, mvn: string, a: Assigned, network: string, released: number): Promise<void> {
  if (!a.container) {
    // Handed out, never seen on a container: Docker gave up on it (or the agent missed it).
    if (Date.now() - a.at <= UNSEEN_GRACE_MS) return;
    if (a.lentFrom) book.dockerReleased(mvn, a.ip, released); else book.drop(mvn, a.ip);
    return;
  }
  const c = await ctx.dp.docker.inspectContainer(a.container).catch(() => null);
  if (c === null) return; // Docker did not answer: decide next time
  if (!book.unchanged(mvn, a)) return; // the plugin changed it meanwhile: decide next time
  if (!c) {
    ctx.log.info('freeing the address of a removed container', { macvlanNet: mvn, ip: a.ip, container: a.name ?? a.container });
    book.drop(mvn, a.ip);
  } else if (leftNetwork(c, network, a)) {
    ctx.log.info('freeing the address of a container taken off the network', { macvlanNet: mvn, ip: a.ip, container: a.name ?? a.container });
    book.drop(mvn, a.ip);
  } else {
    if (a.released === undefined) book.dockerReleased(mvn, a.ip, released); // stopped, ReleaseAddress missed
    book.learn(mvn, a.ip, a.container, factsOf(c, network));
  }
}

/** Each book's asks for homes and moves home tried (one per agent; a process running several agents, as tests do, keeps them apart). */
const homeAsksOf = new WeakMap<AddressBook, HomeAsks>();

/** What the agent holds in memory for `mvn`'s homes: asks for them, and moves to them counted. */
export function dockerIpamHeld(book: AddressBook, mvn: string): { asks: number; moves: number } {
  return homeAsksOf.get(book)?.held(mvn) ?? { asks: 0, moves: 0 };
}

/** The MacvlanNet left this node: the book forgets its pool, and what is held here for its homes goes with it. */
export function forgetDockerIpam(book: AddressBook, mvn: string): void {
  book.forget(mvn);
  homeAsksOf.get(book)?.forget(mvn);
}

/**
 * Ends the home asks of the containers of `mvn` not in `asking` and stops asking for what
 * nothing waits for any more (../../dockeripam/stale-asks.ts), which the log names.
 */
function sweepAsks(ctx: AgentContext, book: AddressBook, mvn: string, asking: ReadonlySet<string>): void {
  const asks = homeAsksOf.get(book);
  const dropped = asks ? asks.sweep(book, mvn, asking) : dropStaleAsks(book, mvn, new Set());
  if (dropped.length) ctx.log.info('no longer asking the controller for addresses by name that nothing here waits for (asked before the agent stopped)', { macvlanNet: mvn, addresses: dropped });
}

/**
 * The agent's garbage pass: a MacvlanNet the book knows with no Docker network of this node's
 * plugin here has no IPAM sync (syncDockerIpam), so what its journal still asks for by name
 * (an agent stopped mid-request: the controller keeps it for this node meanwhile) would stay
 * asked for good; it goes here. Docker not answering: next pass.
 */
export async function sweepUnservedAsks(ctx: AgentContext): Promise<void> {
  const ipam = ctx.ipam;
  if (!ipam?.book) return;
  const networks = await ctx.dp.docker.listNetworks().catch(() => undefined);
  if (!networks) return;
  for (const mvn of netsWithoutNetwork(ipam.book, networks, ipam.plugin)) sweepAsks(ctx, ipam.book, mvn, new Set());
}

/**
 * Containers that came back on an address other than the one kept for them (a restart got
 * another, or a wrong guess among several restarting at once): all of them off the network
 * first, then each back with --ip its own address (so two that swapped can both move). A home
 * not in this node's pool is asked of the controller first, the container staying where it is
 * (./home-asks.ts): moved once granted. A home refused, not granted in time, never this
 * node's again, held for good by another container, or a move that failed twice, ends the keeping.
 */
async function bringHome(ctx: AgentContext, book: AddressBook, m: MacvlanNet, network: string, eps: NetworkEndpoint[]): Promise<void> {
  const mvn = m.metadata.name;
  const moves: Array<{ e: NetworkEndpoint; home: string }> = [];
  const asking = new Set<string>();
  const homeAsks = homeAsksOf.get(book) ?? new HomeAsks();
  homeAsksOf.set(book, homeAsks);
  for (const e of eps) {
    const home = book.homeOf(mvn, e.container, e.ip);
    if (!home) continue;
    const step = await homeStepOf(ctx, book, m, network, eps, e, home, homeAsks);
    if (step.step === 'ask') {
      const asked = homeAsks.ask(book, mvn, e.container, home);
      if (asked !== 'full') asking.add(e.container);
      if (asked === 'first') ctx.log.info('asking the controller for the address kept for a container that came back on another one; it stays where it is until granted', { macvlanNet: mvn, container: e.name, ip: e.ip, kept: home });
      continue;
    }
    homeAsks.done(book, mvn, e.container);
    if (step.step === 'keep') {
      if (step.why) ctx.log.warn('a container keeps the address it came back with', { macvlanNet: mvn, container: e.name, ip: e.ip, kept: home, why: step.why });
      book.forgetHome(mvn, home);
      homeAsks.moved(mvn, e.container);
      continue;
    }
    moves.push({ e, home });
  }
  sweepAsks(ctx, book, mvn, asking);
  const now = movesNow(moves, (ip) => eps.find((x) => x.ip === ip)?.container);
  if (now.length < moves.length) ctx.log.info('a restarted container waits for the one on its address to move first', { macvlanNet: mvn, waiting: moves.filter((x) => !now.includes(x)).map((x) => `${x.e.name} -> ${x.home}`) });
  if (!now.length) return;
  for (const { e } of now) homeAsks.tried(mvn, e.container);
  ctx.log.info('moving restarted containers back to their addresses', { macvlanNet: mvn, moves: now.map((x) => `${x.e.name}: ${x.e.ip} -> ${x.home}`) });
  for (const { e } of now) await ctx.dp.docker.disconnect(network, e.container).catch((err) => ctx.log.warn('disconnect', { error: (err as Error).message }));
  for (const { e, home } of now) {
    const ok = await ctx.dp.docker.connect(network, e.container, home).then(() => true, (err) => {
      ctx.log.warn('could not move a container back to its address', { container: e.name, ip: home, error: (err as Error).message });
      return false;
    });
    // Never leave it off the network: any address rather than none.
    if (!ok) await ctx.dp.docker.connect(network, e.container).catch(() => undefined);
    else homeAsks.moved(mvn, e.container);
  }
}

/**
 * What becomes of a container that came back on another address than its home (./kept-home.ts
 * homeStep). Pinned to where it is (`docker network connect --ip`, run/create --ip of another
 * address than the one kept for it): the user chose it, moving back would undo that (and pin it
 * to the old one); kept there, the home freed (a `keep` without why: said here).
 */
async function homeStepOf(ctx: AgentContext, book: AddressBook, m: MacvlanNet, network: string, eps: NetworkEndpoint[], e: NetworkEndpoint, home: string, homeAsks: HomeAsks): Promise<HomeStep> {
  const mvn = m.metadata.name;
  const c = await ctx.dp.docker.inspectContainer(e.container).catch(() => undefined);
  if (c?.pinnedIps?.[network] === e.ip) {
    ctx.log.info('a container keeps the address it asked for (--ip); the one kept for it is freed', { macvlanNet: mvn, container: e.name, ip: e.ip, kept: home });
    return { step: 'keep', why: '' };
  }
  const holder = eps.find((x) => x.ip === home);
  const inPool = book.inPool(mvn, home);
  return homeStep({
    // a home the controller will never give this node again (an edit left it outside the
    // range, another holds it for good) is refused by the plugin: never moved to, nor asked for
    never: homeNeverBackWhy({ name: mvn, spec: m.spec }, home, inPool, otherHolder(ctx, mvn, home)),
    heldBy: holder && !book.homeOf(mvn, holder.container, home) ? holder.name : undefined,
    tries: homeAsks.tries(mvn, e.container),
    inPool,
    ...homeAsks.heard(mvn, e.container, home),
  });
}

/** Gratuitous ARP from inside the container: peers that knew the address elsewhere learn the new MAC. */
async function announce(ctx: AgentContext, e: NetworkEndpoint): Promise<void> {
  const info = await ctx.dp.docker.inspectContainer(e.container).catch(() => undefined);
  if (!info?.pid) return;
  const t = pidTarget(info.pid);
  const addrs = await ctx.dp.containerState(t).catch(() => undefined);
  const dev = addrs?.addrs.find((a) => a.cidr.split('/')[0] === e.ip)?.dev;
  if (dev && !(await gratuitousArp(t, dev, e.ip))) ctx.log.debug('gratuitous ARP not sent', { ip: e.ip, container: e.name });
}
