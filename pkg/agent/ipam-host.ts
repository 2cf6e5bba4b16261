// The node's Docker IPAM plugin as the agent runs it: the journal-backed address book, the
// plugin's socket, and each MacvlanNet's IPAM report written to its status.
import { join } from 'node:path';
import { withVlan } from '../api/index.js';
import { AddressBook } from '../dockeripam/book.js';
import { STARTING_PING_MS, STARTING_PROBE_MS, inspectWaits } from '../dockeripam/kept-owner.js';
import { FileJournal } from '../dockeripam/journal.js';
import { MVN_OPTION, NodeIpam } from '../dockeripam/node-ipam.js';
import type { SeenEndpoint } from '../dockeripam/adopt.js';
import type { DockerClient } from '../docker/client.js';
import { detachedEndpoint } from '../docker/types.js';
import { servePlugin } from '../dockeripam/server.js';
import { arpProber, type ProbeResult } from '../dockeripam/arp.js';
import { ExternalMarks, EXTERNAL_QUARANTINE_MS } from '../dockeripam/external-marks.js';
import { ExternalRecheck, recheckTickMs } from '../dockeripam/external-recheck.js';
import { followMarks } from './mark-times.js';
import { arpProbes } from '../metrics/metrics.js';
import { unreadable, type AgentContext } from './context.js';
import { isDeleting, macvlanNodeStatus, macvlanParent, selects } from './desired.js';
import type { MacvlanNet } from '../api/index.js';
import { mvnKey } from './events.js';
import { heldForGood } from './reconcilers/docker-ipam.js';
import { askedBackFrom } from '../dockeripam/other-nodes.js';
import { macvlanStaticIpWhy } from '../api/rules.js';
import { withTimeout } from '../runtime/watch-wait.js';
import type { Informer } from '../store/informer.js';

/** How long an Activate waits to learn whether Docker's API answers (Docker's plugin client allows 30 s a call); each ping a restore keeps out, too. */
const DOCKER_PING_MS = 2000;

/**
 * How long after the plugin begins serving (at the agent's start) a probe of a MacvlanNet whose
 * parent the agent knows not (its journal, from an agent before parents were journalled, names
 * none) waits for the first read of etcd to learn it. Counted from then, not per probe: while
 * etcd stays unreachable only the first seconds' requests wait; every one after goes out unprobed at once.
 */
export const PARENT_WAIT_MS = 5000;

/** work-queue key: write this MacvlanNet's IPAM report now */
export const IPAM_KEY = 'ipam/';

export interface AgentIpamOptions {
  plugin: string;
  /** where the journal lives (default /var/lib/xnet/<node>) */
  stateDir?: string;
  /** where Docker looks for plugin sockets (default /run/docker/plugins) */
  pluginDir?: string;
  /** puts a work-queue key on the agent's main queue */
  enqueue: (key: string) => void;
  /** PARENT_WAIT_MS unless said */
  parentWaitMs?: number;
  /** how long an address this node marked external is held before it is probed again (EXTERNAL_QUARANTINE_MS unless said; 0: never) */
  externalQuarantineMs?: number;
}

export class AgentIpam {
  private readonly nodeIpam: NodeIpam;

  /** Resolves once the agent has read the MacvlanNets from etcd (follow()), PARENT_WAIT_MS after serve(), or at its end. */
  private readonly etcdRead: Promise<void>;
  private markRead!: () => void;
  /** the plugin no longer serves: a probe that waited for etcd's read does not look after that */
  private stopped = false;
  /** probes this node's external marks again after their quarantine; none with a quarantine of 0 */
  private readonly recheck: ExternalRecheck | undefined;

  /** Sets `ctx.ipam`, which the NIC and macvlan reconcilers read. */
  constructor(private readonly ctx: AgentContext, private readonly opts: AgentIpamOptions) {
    const journal = new FileJournal(join(opts.stateDir ?? `/var/lib/xnet/${ctx.node}`, 'ipam-journal.json'), (msg) => ctx.log.warn(msg));
    const quarantineMs = opts.externalQuarantineMs ?? EXTERNAL_QUARANTINE_MS;
    const book = new AddressBook(journal, (mvn) => { opts.enqueue(`${IPAM_KEY}${mvn}`); void this.nodeIpam?.warm(mvn); }, new ExternalMarks(quarantineMs));
    ctx.ipam = { plugin: opts.plugin, book };
    this.etcdRead = new Promise((resolve) => { this.markRead = resolve; });
    if (this.parentWaitMs() <= 0) this.markRead();
    const probe = this.prober(book);
    this.nodeIpam = new NodeIpam({
      book, log: ctx.log, probe,
      // another node's pre-claim is asked of the controller, which may ask that node for it back
      otherHolder: (mvn, ip) => heldForGood(ctx, mvn, ip),
      askedBack: (mvn, ip) => askedBackFrom(ctx.caches.macvlanNets.get(mvn)?.status, ctx.node, ip),
      notOnNode: (mvn) => notOnNode(ctx, mvn),
      outsideRange: (mvn, ip) => { const m = ctx.caches.macvlanNets.get(mvn); return !!(m && macvlanNodeStatus(m, ctx.node)?.outsideRange?.includes(ip)); },
      neverHandedOut: (mvn, ip) => { const m = ctx.caches.macvlanNets.get(mvn); return m ? macvlanStaticIpWhy({ name: mvn, spec: m.spec }, ip) : undefined; },
      dockerEndpoints: () => pluginEndpoints(ctx.dp.docker, opts.plugin),
      // each ping ends its request at its bound: a restoring dockerd holds them (one open at a time)
      dockerPing: () => ctx.dp.docker.ping(DOCKER_PING_MS).then(() => true, () => false),
      starting: inspectWaits((id) => ctx.dp.docker.inspectContainer(id), () => ctx.dp.docker.ping(STARTING_PING_MS)),
      gone: (id) => withTimeout(ctx.dp.docker.inspectContainer(id), STARTING_PROBE_MS, 'inspecting a container').then((c) => c === undefined, () => false),
    });
    this.recheck = quarantineMs > 0
      ? new ExternalRecheck({ marks: book.marks, probe, changed: (mvn) => opts.enqueue(`${IPAM_KEY}${mvn}`), log: ctx.log, tickMs: recheckTickMs(quarantineMs) })
      : undefined;
  }

  /**
   * The ARP probe of an address on the MacvlanNet's parent here: at start, before the
   * MacvlanNet is read from etcd, on the interface the journal names; a journal that names none
   * waits (bounded) for that read, rather than hand out unprobed.
   */
  private prober(book: AddressBook): (mvn: string, ip: string) => Promise<ProbeResult> {
    const ctx = this.ctx;
    const arpProbe = arpProber(ctx.log);
    return async (mvn, ip) => {
      const parent = () => effectiveParentOf(ctx, mvn) ?? book.parentOf(mvn);
      const dev = parent() ?? await this.etcdRead.then(() => (this.stopped ? undefined : parent()));
      if (dev) return arpProbe(ctx.dp.target, dev, ip);
      // no parent known here (etcd not read within the bound, or no such MacvlanNet): counted, not looked
      arpProbes.inc({ result: 'unavailable' });
      return 'unavailable' as const;
    };
  }

  /**
   * The agent has read the MacvlanNets from etcd: each one's pool follows its status from now
   * on (followPool), and probes waiting to learn a parent the journal does not name go on.
   */
  follow(macvlanNets: Pick<Informer<MacvlanNet>, 'addHandler'>): void {
    macvlanNets.addHandler({ onAdd: (m) => this.followPool(m), onUpdate: (m) => this.followPool(m) });
    this.markRead();
  }

  dockerAnswers(up: boolean): void { this.nodeIpam.dockerAnswers(up); }

  /**
   * The controller's list of this node's addresses, taken into the book as soon as the
   * MacvlanNet changes, not only by the next macvlan pass: that pass may be waiting on Docker
   * (inspecting a container whose lock Docker holds while it waits for this plugin, as in
   * `docker network connect --ip` of a container that was on the network), and a request
   * waiting for its grant would then be refused at its 20 s bound although granted long before.
   * Only for a MacvlanNet the book already serves on the same subnet; the pass does the rest.
   */
  followPool(m: MacvlanNet): void {
    const book = this.ctx.ipam?.book;
    const name = m.metadata.name;
    const net = book?.net(name);
    if (!book || !net || net.subnet !== m.spec.subnet || (m.spec.dockerIPAM ?? 'xnet') !== 'xnet' || m.metadata.deletionTimestamp) return;
    const ns = macvlanNodeStatus(m, this.ctx.node);
    if (ns?.problem) return;
    // No part for this node (its Node deleted, or no longer selected): the controller freed its
    // addresses and may give them to another node's containers; none goes out from here until a
    // part comes back (the macvlan pass does not get this far without one). Not while the
    // MacvlanNet's or this Node's key does not decode: its absence proves nothing then.
    // No status at all (its key does not decode, read at start) proves nothing either.
    if (!ns && (!Array.isArray(m.status?.nodes) || unreadable(this.ctx, 'MacvlanNet').has(name) || unreadable(this.ctx, 'Node').has(this.ctx.node))) return;
    const dev = effectiveParentOf(this.ctx, name);
    if (dev) book.setParent(name, dev);
    // with the controller's limit, refusals and asks too: a setPool without them would drop them
    book.setPool(name, ns?.addresses ?? [], { subnet: m.spec.subnet, ...(m.spec.gateway ? { gateway: m.spec.gateway } : {}) }, ns?.maxFree, ns?.refused, ns?.giveBack);
    // this node's marks, probed again after their quarantine; one the controller dropped is no longer reported cleared
    if (followMarks(book, name, ns)) this.opts.enqueue(`${IPAM_KEY}${name}`);
  }

  /** The IPAM report goes to etcd at once, without a whole macvlan pass (which follows when due). */
  async publish(mvn: string): Promise<void> {
    const m = this.ctx.caches.macvlanNets.get(mvn);
    const book = this.ctx.ipam?.book;
    if (!m || !book) return;
    if (!(await this.ctx.status.patch('MacvlanNet', m, { ipam: book.report(mvn) }))) this.opts.enqueue(mvnKey(mvn));
  }

  /** Serves Docker before anything needs etcd: the journal answers while etcd is unreachable. Returns its closer. */
  async serve(): Promise<() => unknown> {
    const socket = join(this.opts.pluginDir ?? '/run/docker/plugins', `${this.opts.plugin}.sock`);
    const server = await servePlugin(socket, this.nodeIpam, (path, err) => this.ctx.log.info('IPAM request refused', { path, error: err.message }),
      (err) => this.ctx.log.error('IPAM plugin socket error; still serving', { socket, error: err.message }));
    this.ctx.log.info('serving Docker IPAM plugin', { socket });
    // Requests wait for it: what Docker's containers hold is recorded before any address goes out.
    void this.nodeIpam.adopt();
    const bound = setTimeout(() => this.markRead(), this.parentWaitMs());
    this.nodeIpam.refreshProbes();
    this.recheck?.start();
    return async () => { clearTimeout(bound); this.stopped = true; this.recheck?.close(); this.markRead(); await server.close(); await this.nodeIpam.close(); };
  }

  private parentWaitMs(): number { return this.opts.parentWaitMs ?? PARENT_WAIT_MS; }
}

/** The interface the MacvlanNet's macvlans hang off on this node (`<parent>.<vlan>` with a VLAN), as the view says. */
function effectiveParentOf(ctx: AgentContext, mvn: string): string | undefined {
  const m = ctx.caches.macvlanNets.get(mvn);
  const parent = m && macvlanParent(m, ctx.caches.nodes.get(ctx.node), ctx.node);
  return parent ? withVlan(parent, m.spec.vlan) : undefined;
}

/**
 * Why this node hands out no new address on the MacvlanNet: it is being deleted, or its
 * nodeSelector no longer selects the node (the controller keeps only what the node's containers
 * use, until Docker's network is off the host: it sends no refill). Not while the MacvlanNet or
 * this Node does not decode or is absent (what it selects is then in doubt), nor for one the node does not know.
 */
export function notOnNode(ctx: AgentContext, mvn: string): string | undefined {
  const m = ctx.caches.macvlanNets.get(mvn);
  if (!m || unreadable(ctx, 'MacvlanNet').has(mvn) || unreadable(ctx, 'Node').has(ctx.node)) return undefined;
  const keep = 'its containers here keep their addresses, a new one gets none on this node';
  if (isDeleting(m)) return `MacvlanNet ${mvn} is being deleted: ${keep}`;
  // no Node in the view (deleted, about to be made again by this agent's report): the
  // controller gives the node its addresses back once it is, so a request waits for that
  const self = ctx.caches.nodes.get(ctx.node);
  if (self && !selects(m.spec.nodeSelector, self)) {
    const sel = Object.entries(m.spec.nodeSelector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    return `MacvlanNet ${mvn} no longer selects node ${ctx.node} (nodeSelector ${sel}): ${keep}; label the node to match, or run the container on a selected node`;
  }
  return undefined;
}

/**
 * The addresses Docker's containers hold on the networks using this plugin (each Docker call
 * bounded by the client's request timeout). The MacvlanNet is the network's IPAM option, as
 * the agent creates it (./desired.ts).
 */
export async function pluginEndpoints(docker: Pick<DockerClient, 'listNetworks' | 'networkEndpoints'>, plugin: string): Promise<SeenEndpoint[]> {
  const nets = (await docker.listNetworks()).filter((n) => n.ipamDriver === plugin && n.ipamOptions?.[MVN_OPTION]);
  const out: SeenEndpoint[] = [];
  for (const n of nets) {
    const mvn = n.ipamOptions![MVN_OPTION];
    for (const e of (await docker.networkEndpoints(n.id)) ?? []) out.push({ mvn, ip: e.ip, container: e.container, name: e.name, detached: detachedEndpoint(e) });
  }
  return out;
}
