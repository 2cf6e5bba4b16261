// xnet-agent: watches what concerns its node, converges kernel and Docker, reports status and
// heals drift as soon as the store, Docker or the kernel says something changed.
import { HostEnds } from './host-ends.js';
import type { AnyObject, ClusterNetwork, ContainerNic, HostSubnet, MacvlanNet, Node } from '../api/index.js';
import { createLogger, type Logger } from '../log.js';
import { netnsTarget } from '../netlink/target.js';
import { ContainerWatches, processAlive } from './container-watch.js';
import { MacWaits } from './mac-wait.js';
import { Informer } from '../store/informer.js';
import { watchRestarts } from '../metrics/metrics.js';
import type { NodeWatch } from '../store/types.js';
import { WorkQueue } from '../runtime/workqueue.js';
import { runWorkers, type ReconcileResult } from '../runtime/workers.js';
import { AGENT_QUEUE_BACKOFF, retryUntilStopped } from '../runtime/backoff.js';
import { NodeStatusReporter, type AgentContext, type Caches } from './context.js';
import { Dataplane } from './dataplane.js';
import { watchHost } from './host-watchers.js';
import { macvlanParentsOn } from './desired.js';
import {
  fingerprint, keysForDockerEvent, keysForMonitorEvent, keysForObject, mvnKey, nicKey, followView,
  HostSubnetNodes, KEY_GC, KEY_HOST_SUBNETS, KEY_NAT, KEY_ROUTES, declaresMore, routePeers, type EventScope,
} from './events.js';
import { RoutesDirty } from './routes-delta.js';
import { AgentIpam } from './ipam-host.js';
import { NodeHeartbeat } from './heartbeat.js';
import { DEFAULT_WORKER_BUDGET_MS, StuckWatch } from './stuck.js';
import { reconcileAgentKey } from './reconcilers/index.js';
import { readOnly, stateRecords } from './state-records.js';
import { localNics, rememberRemoved } from './reconcilers/nics.js';
import { DriftTracker, keyKind, wasInPlace, type Trigger } from './heal.js';
import { EventRecorder } from '../events/recorder.js';
import { SettlingClock } from './settling.js';
import type { InvolvedObject } from '../events/types.js';
import { ObservedReporter } from '../verify/report.js';
import { SelfCheck } from '../verify/self-check.js';
import type { AgentOptions } from './agent-options.js';
import { SelfReportGate } from './self-report-gate.js';
import { DockerOutageLog } from './docker-outage.js';
import { RecordingDataplane } from '../verify/verify.js';

export { AGENT_VERSION } from './heartbeat.js';
export type { AgentOptions } from './agent-options.js';
/** keys whose reconcile touches only the kernel (no Docker): the agent's kernel lane */
const KERNEL_ONLY_KEYS = new Set([KEY_ROUTES, KEY_NAT]);
/** How long Docker's iptables rewrites after xnet made or removed a network are xnet's own follow-up (heal.ts) */
const OWN_DOCKER_FOLLOW_UP_MS = 2_000;

/**
 * A routes pass that the store asked for starts this long after the first change: peers that
 * join together (an apply of many hosts, the controller's HostSubnets committed in
 * transactions side by side) arrive over a few milliseconds and go into one `ip -batch`, not
 * one per arrival. Later changes within the window do not push the pass out (the work queue
 * keeps the earlier of two delays), so a change waits at most this long; a drift the host
 * reports (a route deleted) is healed at once.
 */
export const ROUTES_SETTLE_MS = 50;


export class Agent {
  readonly ctx: AgentContext;
  private readonly queue = new WorkQueue<string>(AGENT_QUEUE_BACKOFF);
  /**
   * Routes and NAT need only the kernel: their own lane and worker, so reconciles waiting on a
   * Docker that accepts connections but does not answer (a restarting dockerd took 28 s) never
   * hold them back (chaos fault 6: NAT jumps re-made only >30 s after their nft event).
   */
  private readonly kernelQueue = new WorkQueue<string>(AGENT_QUEUE_BACKOFF);
  private readonly caches: Caches;
  private readonly view: NodeWatch;
  private closers: Array<() => unknown> = [];
  private workers?: Promise<void>;
  private readonly heartbeat: NodeHeartbeat;
  /** aborted by stop(): also ends a start-up retry's wait for etcd */
  private readonly stopping = new AbortController();
  private get stopped(): boolean { return this.stopping.signal.aborted; }
  /** resolves when the first full pass over everything has run */
  readonly firstPass: Promise<void>;
  private firstPassDone!: () => void;
  private pendingFirst = new Set<string>();
  /** one `ip monitor` per container namespace that holds xnet NICs, with the NICs in it */
  private readonly containers = new ContainerWatches((nics) => this.enqueue(nics.map(nicKey), 'kernel'), processAlive,
    (netns, nics) => this.releaseDeadNamespace(netns, nics));
  private kernelEvents = true;
  private readonly drift: DriftTracker;
  /** which nodes have HostSubnets (a peer's Node event is about routes only then) */
  private readonly hostSubnetNodes = new HostSubnetNodes();
  /** which peers changed since the last routes pass (routes-delta.ts) */
  private readonly routesDirty = new RoutesDirty();
  private readonly events?: EventRecorder;
  /** reports on objects wait for the first report about this node (self-report-gate.ts) */
  private readonly selfReported: SelfReportGate;

  /** The object a heal of drift `key` is about, with its uid as this node sees it now (its incarnation). */
  private healedObject(key: string): InvolvedObject {
    if (key.startsWith('nic/')) return { kind: 'ContainerNic', name: key.slice(4), uid: this.caches.nics.get(key.slice(4))?.metadata.uid };
    if (key.startsWith('mvn/')) return { kind: 'MacvlanNet', name: key.slice(4), uid: this.caches.macvlanNets.get(key.slice(4))?.metadata.uid };
    return { kind: 'Node', name: this.opts.node, uid: this.caches.nodes.get(this.opts.node)?.metadata.uid };
  }

  constructor(readonly opts: AgentOptions) {
    const log = opts.log ?? createLogger('agent', { node: opts.node });
    const onError = (err: Error) => log.warn('store watch', { error: err.message });
    const self = opts.node;
    this.selfReported = new SelfReportGate(self, () => this.resyncAll());
    // a node's events go to its own events subtree, the only one its credentials may write
    this.events = opts.etcd ? new EventRecorder({ client: opts.etcd, prefix: opts.prefix, source: { component: 'agent', node: self }, log }) : undefined;
    this.drift = new DriftTracker((key, kind, trigger, ms) => {
      const obj = this.healedObject(key);
      const after = trigger === 'resync' ? 'found by the periodic resync'
        : trigger === 'restart' ? 'found when the agent started' : `${ms} ms after the ${trigger} event that showed it`;
      void this.events?.record(obj, 'Normal', 'Healed', `repaired ${kind} drift on node ${self}, ${after}`, `${kind}/${trigger}`);
    }, (key) => wasInPlace(key, this.caches.nics, this.ctx.status));
    // One view of what concerns this node (store/node-view.ts); every informer reads from it.
    this.view = opts.store.nodeView(self, () => watchRestarts.inc({ watch: 'node-view' }));
    this.caches = {
      nodes: new Informer<Node>(this.view, 'Node', undefined, onError),
      clusterNetworks: new Informer<ClusterNetwork>(this.view, 'ClusterNetwork', undefined, onError),
      hostSubnets: new Informer<HostSubnet>(this.view, 'HostSubnet', undefined, onError),
      nics: new Informer<ContainerNic>(this.view, 'ContainerNic', (n) => n.spec.node === self, onError),
      macvlanNets: new Informer<MacvlanNet>(this.view, 'MacvlanNet', undefined, onError),
    };
    this.ctx = {
      node: self, store: opts.store, caches: this.caches, dp: opts.dataplane ?? new Dataplane(netnsTarget(opts.netns), opts.dockerHost, opts.dockerTls),
      log, status: new NodeStatusReporter(opts.store, self, this.events, (kind, name) => this.view.ownStatus?.(kind, name), new SettlingClock(opts.settleGraceMs), this.selfReported), capabilities: {}, routeProblems: [], removedNics: new Map(), hostEnds: new HostEnds(), macWaits: new MacWaits(),
      routesDirty: this.routesDirty, unreadable: (kind) => this.view.unreadable?.(kind) ?? [], ownReports: (kind) => this.view.ownReports?.(kind) ?? [],
      ...stateRecords(self, { stateDir: opts.stateDir, standIn: !!opts.dataplane }, (msg) => log.warn(msg), (msg) => log.info(msg)),
      enqueue: (keys) => this.enqueue(keys),
      ownNatChange: () => this.drift.expectFollowUps([KEY_NAT], opts.dockerFollowUpMs ?? OWN_DOCKER_FOLLOW_UP_MS),
      followingOwnNatChange: () => this.drift.followingUp(KEY_NAT),
      watchContainer: async (ns, nic) => { if (this.kernelEvents && !this.stopped) await this.containers.watch(ns, nic); },
      unwatchNic: (nic, keepPid) => this.containers.unwatch(nic, keepPid),
    };
    followView(this.view, this.ctx, () => this.scope());
    this.firstPass = new Promise((r) => { this.firstPassDone = r; });
    void this.firstPass.then(() => { this.drift.enabled = true; });
    if (opts.ipamPlugin) this.ipam = new AgentIpam(this.ctx, { plugin: opts.ipamPlugin, stateDir: opts.stateDir, pluginDir: opts.pluginDir, externalQuarantineMs: opts.externalQuarantineMs, enqueue: (k) => this.queue.add(k) });
    this.selfCheck = this.makeSelfCheck();
    this.stuck = new StuckWatch(opts.workerBudgetMs ?? DEFAULT_WORKER_BUDGET_MS, log);
    this.heartbeat = new NodeHeartbeat(this.ctx, { ...opts, stuck: this.stuck, onCapabilitiesChanged: () => this.resyncAll(), onSelfReported: () => this.selfReported.selfReported() });
  }

  private readonly stuck: StuckWatch;
  private readonly selfCheck?: SelfCheck;

  /** The agent's own verify, reported for `xctl verify`; not with a stand-in dataplane. */
  private makeSelfCheck(): SelfCheck | undefined {
    const { etcd, dataplane, node, prefix, dockerHost, dockerTls } = this.opts;
    if (!etcd || dataplane) return undefined;
    return new SelfCheck({
      node, store: this.opts.store, caches: this.caches, log: this.log, everyMs: this.opts.resyncMs ?? 30_000, ipamPlugin: this.opts.ipamPlugin,
      ...(this.ctx.networks ? { networks: readOnly(this.ctx.networks) } : {}),
      dp: new RecordingDataplane(this.ctx.dp.target, dockerHost, dockerTls),
      reporter: new ObservedReporter({ client: etcd, node, prefix, ttlSeconds: this.opts.leaseTtlSec, log: this.log }),
    });
  }

  private readonly ipam?: AgentIpam;

  private async servePlugin(): Promise<void> {
    if (this.ipam) this.closers.push(await this.ipam.serve());
  }

  private get log(): Logger { return this.ctx.log; }

  private starting?: Promise<void>; // the start in flight, which stop() waits for

  /** Nothing starts once stop() was called: a start in flight ends at its next step. */
  start(): Promise<void> {
    if (!this.stopped) this.starting ??= this.startSteps();
    return this.starting ?? Promise.resolve();
  }

  /**
   * A look at `stopped` after each wait: a stopped agent (in-process, or a daemon slow to exit) must not watch, work or
   * act on the host after stop() returned. What a step started is in `closers` before it; stop() waits for this and closes all.
   */
  private async startSteps(): Promise<void> {
    const ev = { store: true, docker: true, kernel: true, ...this.opts.events };
    await this.register();
    if (this.stopped) return;
    await this.startInformers(ev.store);
    if (this.stopped) return;
    await this.heartbeat.beat();
    if (this.stopped) return;
    this.heartbeat.followOwnNode();
    const hb = setInterval(() => void this.heartbeat.beat(), this.opts.heartbeatMs ?? 5000);
    this.closers.push(() => clearInterval(hb));
    if (ev.docker) this.followDocker();
    if (ev.kernel) this.followKernel();
    this.kernelEvents = ev.kernel;
    const resync = setInterval(() => this.resyncAll(), this.opts.resyncMs ?? 30_000);
    this.closers.push(() => clearInterval(resync));
    this.startWorkers();
    if (this.selfCheck) { this.selfCheck.start(); this.closers.push(() => this.selfCheck?.stop()); }
  }

  /** The underlay and what the kernel can do here (the Node is the admin's or the controller's to make). */
  private async register(): Promise<void> {
    const { node } = this.opts;
    // stopping an informer never started is a no-op: all are closed, however far the start got
    for (const inf of Object.values(this.caches) as Informer<AnyObject>[]) this.closers.push(() => inf.stop());
    await this.servePlugin();
    if (this.stopped) return;
    this.closers.push(() => this.view.close());
    await retry(() => this.view.start(), this.log, 'watch what concerns this node', this.stopping.signal);
    if (this.stopped) return;
    await retry(() => this.caches.nodes.start(), this.log, 'list nodes', this.stopping.signal);
    if (this.stopped) return;
    await this.heartbeat.readHost();
    this.log.info('starting', { underlay: this.heartbeat.underlay, pinned: this.caches.nodes.get(node)?.spec ?? {}, capabilities: this.ctx.capabilities });
  }

  private async startInformers(storeEvents: boolean): Promise<void> {
    for (const inf of [this.caches.clusterNetworks, this.caches.hostSubnets, this.caches.nics, this.caches.macvlanNets]) {
      await retry(() => inf.start(), this.log, `list ${inf.kind}`, this.stopping.signal);
      if (this.stopped) return;
    }
    this.caches.hostSubnets.addHandler(this.hostSubnetNodes.handlers);
    // a grant reaches a request waiting for it even while a macvlan pass waits on Docker
    this.ipam?.follow(this.caches.macvlanNets);
    for (const inf of Object.values(this.caches) as Informer<AnyObject>[]) {
      if (!storeEvents) continue;
      inf.addHandler({
        onAdd: (o) => this.storeEvent(o),
        onUpdate: (o, old) => { if (fingerprint(o, this.opts.node) !== fingerprint(old, this.opts.node)) this.storeEvent(o, old); },
        onDelete: (o) => {
          if (o.kind === 'ContainerNic') rememberRemoved(this.ctx, o);
          this.storeEvent(o);
        },
      });
    }
  }

  /** A store event's keys; a routes pass for it looks at the peers it concerns only. */
  private storeEvent(o: AnyObject, old?: AnyObject): void {
    const keys = keysForObject(o, this.scope(), old);
    if (declaresMore(o, old)) this.drift.declare(keys);
    this.enqueue(keys, undefined, routePeers(o, this.opts.node, this.hostSubnetNodes, old));
  }

  private followDocker(): void {
    let dockerUp = false;
    // docker update may change a restart policy: what the IPAM book learnt of that container is stale.
    const outage = new DockerOutageLog(this.log);
    const d = this.ctx.dp.docker.events((e) => {
      // Docker changed the host (a bridge, a veth, its iptables chains) before it told: what was kept of it is stale
      this.hostChanged();
      if (e.action === 'update') this.ctx.ipam?.book?.unlearn(e.id);
      this.enqueue(keysForDockerEvent(e, this.scope()), 'docker');
    }, {
      retryMs: this.opts.dockerEventsRetryMs,
      onConnect: () => { dockerUp = true; outage.connected(); this.ipam?.dockerAnswers(true); this.resyncAll(); },
      onError: (err, retryInMs) => {
        this.ipam?.dockerAnswers(false);
        outage.failed(err, retryInMs);
        // Once per outage: every object's status then says DockerUnavailable at once.
        if (dockerUp) { dockerUp = false; this.resyncAll(); }
      },
    });
    this.closers.push(() => d.close());
  }

  private followKernel(): void {
    this.closers.push(...watchHost(this.ctx.dp, {
      log: this.log,
      kernelEvent: (e) => { this.heartbeat.kernelEvent(e); this.enqueue(keysForMonitorEvent(e, this.scope()), 'kernel'); },
      rulesChanged: () => this.enqueue([KEY_NAT], 'kernel'),
      resyncAll: () => this.resyncAll(),
    }));
    this.closers.push(() => this.containers.closeAll());
  }

  private startWorkers(): void {
    const lane = (queue: WorkQueue<string>, name: string, workers: number) => runWorkers(queue, (k) => this.reconcile(k), {
      workers,
      metrics: { queue: name, kindOf: keyKind },
      onError: (key, err, ms) => this.log.warn('reconcile failed', { key, error: err instanceof Error ? err.message : String(err), retryInMs: ms }),
      log: this.log,
    });
    this.workers = Promise.all([lane(this.queue, 'agent', 2), lane(this.kernelQueue, 'agent-kernel', 1)]).then(() => undefined);
    const all = this.allKeys();
    this.pendingFirst = new Set(all);
    // what drifted while no agent ran: told as healed where the previous run's evidence proves it (heal.ts)
    this.drift.startPass(all);
    if (all.length === 0) this.firstPassDone();
    this.enqueue(all);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    // the start in flight first: what it started is closed below, and it starts nothing more
    await this.starting?.catch(() => undefined);
    for (const c of this.closers.splice(0)) await c();
    this.queue.shutDown();
    this.kernelQueue.shutDown();
    await this.workers;
    this.ctx.status.close(); // after the workers: no look at a young condition outlives the agent
    await this.events?.close();
    // The lease is not revoked: an agent restarted within its TTL never shows its Node as
    // gone, and peers see no change at all. A stopped agent's report expires with the lease.
    await this.heartbeat.stop();
  }

  /** Every key there is: the safety net and the start-up pass. */
  allKeys(): string[] {
    return [
      KEY_HOST_SUBNETS, KEY_NAT, KEY_ROUTES,
      ...this.caches.macvlanNets.list().map((m) => mvnKey(m.metadata.name)),
      ...localNics(this.ctx).map((n) => nicKey(n.metadata.name)),
      KEY_GC,
    ];
  }

  /** A dead container's NICs, deleted before the watcher holding its namespace ends: MACs and veth host ends are free at once. */
  private async releaseDeadNamespace(netns: string, nics: string[]): Promise<void> {
    const gone = await this.ctx.dp.removeNicLinksIn?.(netns, nics);
    if (gone?.length) this.log.info('deleted the NICs\' links in a dead container\'s namespace', { links: gone.map((l) => `${l.name} ${l.mac}`), netns });
  }

  resyncAll(): void {
    // a resync looks at the kernel itself, whatever the monitors said (or failed to say)
    this.hostChanged();
    this.enqueue(this.allKeys(), 'resync');
  }

  /** Anything on the host may have changed: every read kept of it goes (host-reads.ts, nat-reads.ts). */
  private hostChanged(): void {
    this.ctx.dp.hostChanges?.changed();
    this.ctx.dp.natChanges?.changed();
  }

  /**
   * trigger: the host (not the store) said something changed, so ops that follow heal drift.
   * peers: a routes pass need look at these peers' HostSubnets only (else at every peer).
   */
  private enqueue(keys: string[], trigger?: Trigger, peers?: string[]): void {
    if (trigger) this.drift.mark(keys, trigger);
    if (keys.includes(KEY_ROUTES)) { if (peers) this.routesDirty.peers(peers); else this.routesDirty.everything(); }
    for (const k of keys) {
      if (k === KEY_ROUTES && !trigger) this.kernelQueue.addAfter(k, this.opts.routesSettleMs ?? ROUTES_SETTLE_MS);
      else (KERNEL_ONLY_KEYS.has(k) ? this.kernelQueue : this.queue).add(k);
    }
  }

  /**
   * What an event is mapped with. Every field is computed when the mapping reads it: a peer's
   * HostSubnet or Node event (every agent gets one per peer) reads none of the lists, so it
   * costs no copy of a thousand HostSubnets.
   */
  private scope(): EventScope {
    const agent = this;
    return {
      node: this.opts.node,
      get nics() { return localNics(agent.ctx); },
      get hostSubnets() { return agent.caches.hostSubnets.list(); },
      get macvlanNets() { return agent.caches.macvlanNets.list(); },
      get macvlanParents() { return macvlanParentsOn(agent.caches.macvlanNets.list(), agent.caches.nodes.get(agent.opts.node), agent.opts.node); },
      nodeHasHostSubnet: (n) => this.hostSubnetNodes.has(n), nicOfHostIfindex: (i) => this.ctx.hostEnds?.nicOf(i),
    };
  }

  private async reconcile(key: string): Promise<ReconcileResult | void> {
    this.stuck.start(key);
    try { return await this.drift.reconcile(key, () => this.reconcileKey(key)); } finally { this.stuck.end(key); }
  }

  /** A NIC may ask to be looked at again soon (its declared MAC held elsewhere: mac-wait.ts). */
  private async reconcileKey(key: string): Promise<ReconcileResult | void> {
    try {
      return await reconcileAgentKey(this.ctx, key, this.ipam && ((mvn) => this.ipam!.publish(mvn)));
    } finally {
      if (this.pendingFirst.delete(key) && this.pendingFirst.size === 0) this.firstPassDone();
      this.selfCheck?.poke();
    }
  }
}

function retry(f: () => Promise<void>, log: Logger, what: string, signal: AbortSignal): Promise<void> {
  return retryUntilStopped(f, { signal, onRetry: (e, delay) => log.warn(`${what} failed; retrying`, { error: (e as Error).message, retryInMs: delay }) });
}
