// One leadership term of the controller: its work queue and workers, one PoolExecutor per
// pool, and a reconcile per kind. Made when the controller starts leading, stopped when it
// stops (controller.ts); everything it decides is read from the controller's cache, caught up
// with what it held while standing by when the term began.
import type { Etcd3 } from 'etcd3';
import type { ClusterNetwork, ContainerNic, HostSubnet, Kind } from '../api/index.js';
import type { Logger } from '../log.js';
import type { LeaderElector, LeaderTerm } from '../runtime/leader.js';
import { tellRound } from './macvlan-external.js';
import { WorkQueue } from '../runtime/workqueue.js';
import { runWorkers } from '../runtime/workers.js';
import { MAX_TXN_OPS } from '../runtime/kv.js';
import type { CacheChange } from '../runtime/kv-cache.js';
import { labelsMatch, type Model } from './model.js';
import { PoolExecutor } from './pool-executor.js';
import { TxnPlan, NotLeaderError } from './txn-plan.js';
import { planHostSubnet, isControllerMade, nodeAddress, type HsItem, type HsOutcome } from './hostsubnets.js';
import { allocateNic } from './nics.js';
import { planMacvlanNodes, type MacvlanOutcome } from './macvlan.js';
import { desiredNodeStatus, planJoinedNode, type LastSeen } from './nodes.js';
import { collectGarbage } from './gc.js';
import { startObjects, startOrder } from './start-order.js';
import { effectsOfChange, objectKey } from './events.js';
import { putStatusIfChanged, type Ctx } from './context.js';
import { DEFAULT_ADDRESS_COOLDOWN_MS, DEFAULT_WORKERS, retryBackoff, waitBackoffOf, type ControllerOptions } from './options.js';
import { CONTROLLER_QUEUE_BACKOFF, type BackoffPolicy } from '../runtime/backoff.js';
import { RetryLater, countsAsWait } from './retry-later.js';
import { reconcileNics, type AddrItem, type AddrOutcome, type NicWorkHost } from './nic-work.js';
import { recordAllocation } from './record-allocation.js';
import { isDeletingHostSubnet } from './hostsubnet-finalizer.js';
import type { EventRecorder } from '../events/recorder.js';
import { planClusterNetworkStatus } from './clusternetwork-status.js';
import { ReportBudget } from './report-budget.js';
import { LateWarnings } from './late-warnings.js';
import { startReleaseMarks } from './release-marks.js';
import { withTimeout } from '../runtime/watch-wait.js';

/** What a term needs of the Controller that runs it. */
export interface TermHost {
  readonly opts: ControllerOptions;
  readonly model: Model;
  readonly log: Logger;
  readonly elector: Pick<LeaderElector, 'key' | 'endCurrentTerm'>;
  readonly events: EventRecorder;
  readonly lastSeen: LastSeen;
}

export { RetryLater };

/** the work-queue keys of ContainerNics (objectKey) */
const NIC_KEY = objectKey('ContainerNic', '');
/** A graceful stop's wait for the reconciles in flight (finishLeading): a commit takes ms, not an etcd that hangs (then the daemon's 10 s end the stop: docs/controller.md). */
const QUIESCE_MS = 3_000;

export class Term implements Ctx {
  readonly client: Etcd3;
  readonly model: Model;
  readonly log: Logger;
  readonly guard;
  readonly leaderKey: string;
  readonly maxTxnOps: number;
  readonly addressCooldownMs: number;
  private readonly queue = new WorkQueue<string>(CONTROLLER_QUEUE_BACKOFF);
  /** a waiting key's retry (options.ts waitBackoff); any other failure's is the queue's own */
  private readonly waitBackoff: BackoffPolicy;
  private readonly reports: ReportBudget;
  private readonly hsExecutors = new Map<string, PoolExecutor<HsItem, HsOutcome>>();
  private readonly addrExecutors = new Map<string, PoolExecutor<AddrItem, AddrOutcome>>();
  /** pool id -> NICs waiting for something in it (a free address, a HostSubnet) */
  private readonly waiters = new Map<string, Set<string>>();
  private workers?: Promise<void>;
  private gcTimer?: NodeJS.Timeout;
  private readonly late: LateWarnings;
  /** the release marks this term writes (release-marks.ts) */
  private marks?: ReturnType<typeof startReleaseMarks>;

  constructor(private readonly c: TermHost, readonly t: LeaderTerm) {
    this.client = c.opts.client;
    this.waitBackoff = waitBackoffOf(c.opts.waitBackoff);
    this.model = c.model;
    this.log = c.log;
    this.reports = new ReportBudget(c.log);
    this.late = new LateWarnings(c.events, c.opts.settleGraceMs);
    this.nicWork = {
      model: c.model, late: this.late, events: c.events, addrExecutor: (pool) => this.addrExecutor(pool),
      enqueue: (kind, name, afterMs) => this.enqueue(kind, name, afterMs), wait: (pool, nic) => this.wait(pool, nic), allocated: () => this.allocated(),
    };
    this.guard = t.guard;
    this.leaderKey = c.elector.key;
    this.maxTxnOps = c.opts.maxTxnOps ?? MAX_TXN_OPS;
    this.addressCooldownMs = c.opts.addressCooldownMs ?? DEFAULT_ADDRESS_COOLDOWN_MS;
  }

  /** what a NIC's work needs of this term (nic-work.ts) */
  private readonly nicWork: NicWorkHost;

  private allocated(): void {
    if (this.firstAllocationLogged) return;
    this.firstAllocationLogged = true;
    this.log.info('leading: first NIC address of this term allocated', { msSinceLeading: Date.now() - this.startedAt });
  }

  /** when this term started (ms since the epoch), for the log of its first allocation */
  private readonly startedAt = Date.now();
  private firstAllocationLogged = false;

  start(): void {
    // First: what a killed leader left is freed before the NICs that may need its addresses are
    // planned, and the sweep scans the claims listed, not the thousands this term is adding.
    this.queue.add('gc/all');
    this.marks = startReleaseMarks({ client: this.client, model: this.model, guard: this.guard, cooldownMs: this.addressCooldownMs, maxTxnOps: this.maxTxnOps, log: this.log });
    for (const key of startOrder(startObjects(this.model))) this.queue.add(key);
    // the cache was listed at start-up and caught up when this term began: no list from etcd
    this.log.info('leading: work queue filled from the cache', { keys: this.queue.len(), ms: Date.now() - this.startedAt });
    this.workers = runWorkers(this.queue, (k) => this.reconcile(k), {
      workers: this.c.opts.workers ?? DEFAULT_WORKERS,
      metrics: { queue: 'controller', kindOf: (k) => k.slice(0, k.indexOf('/')), isWait: countsAsWait },
      // a run of queued NICs goes to their pools in one go, not one worker and promise each
      bulk: {
        accepts: (k) => k.startsWith(NIC_KEY),
        start: (keys, settle) => reconcileNics(this.nicWork, keys.map((k) => k.slice(NIC_KEY.length)), (i, error) => settle(keys[i], error)),
      },
      backoffOf: (_key, err) => retryBackoff(this.waitBackoff, err),
      onError: (key, err, ms) => {
        if (err instanceof NotLeaderError) { if (!this.stopped) this.c.elector.endCurrentTerm(); return; }
        const level = err instanceof RetryLater ? 'debug' : 'warn';
        this.log.log(level, 'reconcile failed; retrying', { key, retryInMs: ms, error: err instanceof Error ? err.message : String(err) });
      },
      log: this.log,
    });
    const every = this.c.opts.gcIntervalMs ?? 30_000;
    this.gcTimer = setInterval(() => this.queue.add('gc/all'), every);
    this.gcTimer.unref();
  }

  private stopped = false;

  /**
   * A graceful stop's part while this term still leads (Controller.stop, before it resigns): no
   * work taken any more; the reconciles in flight waited for, at most QUIESCE_MS, as their commits
   * note the releases to mark; then the marks queued written (release-marks.ts, at most 2 s).
   */
  async finishLeading(): Promise<void> {
    this.halt();
    await withTimeout(this.workers ?? Promise.resolve(), QUIESCE_MS, 'the reconciles in flight').catch((e: Error) =>
      this.log.warn('stopping: releases committed from now on are not marked (only a standby that saw them marks them)', { error: e.message }));
    await this.marks?.flush();
  }

  /** Takes no more work (the queue shut down, no periodic gc); a commit refused then ends nothing (the term is ending). */
  private halt(): void { this.stopped = true; clearInterval(this.gcTimer); this.queue.shutDown(); }

  async stop(): Promise<void> {
    this.halt();
    for (const e of this.hsExecutors.values()) e.close();
    for (const e of this.addrExecutors.values()) e.close();
    this.nodeExecutor?.close();
    await this.workers;
    await this.marks?.stop();
  }

  enqueue(kind: Kind, name: string, afterMs?: number): void {
    const key = objectKey(kind, name);
    if (afterMs) this.queue.addAfter(key, afterMs); else this.queue.add(key);
  }

  private wake(pool: string): void {
    const w = this.waiters.get(pool);
    if (!w?.size) return;
    this.waiters.delete(pool);
    for (const n of w) this.enqueue('ContainerNic', n);
  }

  private wait(pool: string, nic: string): void {
    let w = this.waiters.get(pool);
    if (!w) this.waiters.set(pool, (w = new Set()));
    w.add(nic);
  }

  onChange(ch: CacheChange): void {
    const { wake, keys, reporter } = effectsOfChange(ch, this.model);
    for (const pool of wake) this.wake(pool);
    const delay = reporter && keys.length ? this.reports.delayFor(reporter) : 0;
    for (const key of keys) this.queue.addAfter(key, delay);
  }

  private hsExecutor(cn: string): PoolExecutor<HsItem, HsOutcome> {
    let e = this.hsExecutors.get(cn);
    if (!e) {
      e = new PoolExecutor(`clusternetworks/${cn}/blocks`, this.client, this.model.cache, this.guard, this.leaderKey,
        (item, plan, state) => planHostSubnet(this, item, plan, state), this.maxTxnOps);
      this.hsExecutors.set(cn, e);
    }
    return e;
  }

  private nodeExecutor?: PoolExecutor<string, void>;
  private nodeStatusExecutor(): PoolExecutor<string, void> {
    this.nodeExecutor ??= new PoolExecutor<string, void>('node-status', this.client, this.model.cache, this.guard, this.leaderKey, (name, plan) => {
      const node = this.model.node(name);
      if (!node) return;
      plan.sameIncarnation(this.model.keys.object('Node', name), node.kv);
      putStatusIfChanged(this, plan, 'Node', name, desiredNodeStatus(this, node.obj, this.c.lastSeen));
    }, this.maxTxnOps);
    return this.nodeExecutor;
  }

  private addrExecutor(pool: string): PoolExecutor<AddrItem, AddrOutcome> {
    let e = this.addrExecutors.get(pool);
    if (!e) {
      e = new PoolExecutor(pool, this.client, this.model.cache, this.guard, this.leaderKey,
        (item, plan, state) => item.type === 'nic' ? allocateNic(this, item.name, plan, state) : planMacvlanNodes(this, item.name, plan, state),
        this.maxTxnOps, (item) => item.type === 'nic' ? item.node : '');
      this.addrExecutors.set(pool, e);
    }
    return e;
  }

  private async reconcile(key: string): Promise<{ requeueAfterMs?: number } | void> {
    if (key === 'gc/all' || key.startsWith('gc/uid/')) return this.garbage(key === 'gc/all' ? undefined : key.slice('gc/uid/'.length));
    const i = key.indexOf('/');
    const kind = key.slice(0, i) as Kind;
    const name = key.slice(i + 1);
    switch (kind) {
      case 'Node': return this.reconcileNode(name);
      case 'ClusterNetwork': return this.reconcileClusterNetwork(name);
      case 'HostSubnet': return this.reconcileHostSubnet(name);
      // every ContainerNic key is the bulk reconcile's (start() above: reconcileNics)
      case 'ContainerNic': throw new Error(`${key}: ContainerNic keys are reconciled in bulk`);
      case 'MacvlanNet': return this.reconcileMacvlan(name);
    }
  }

  /**
   * A block freed here (a gone HostSubnet's, kept while its network stayed on its host:
   * hostsubnet-leaving.ts) changes the ClusterNetworks' counts: recounted. (A HostSubnet waiting
   * PoolExhausted is queued by the claim's delete: events.ts, block-waiters.ts.)
   */
  private async garbage(uid?: string): Promise<void> {
    const blocks = uid === undefined || this.model.claimsOf(uid).some((c) => this.model.ipam.parse(c.key)?.type === 'clusternetworks');
    if ((await collectGarbage(this, uid)) > 0 && blocks) this.countsLater();
  }

  private async commit(plan: TxnPlan, what: string): Promise<void> {
    if (!(await plan.commit(this.client, this.model.cache))) throw new RetryLater('Conflict', `${what} changed concurrently`);
  }

  private check(o: HsOutcome): void {
    if (o.result === 'failed' && (o.reason === 'PoolExhausted' || o.reason === 'SubnetConflict' || o.reason === 'Unreadable')) {
      throw new RetryLater(o.reason, o.message ?? o.reason);
    }
  }

  /**
   * An object key in etcd that does not decode: not gone (docs/security.md), so nothing is
   * deleted or made for it (a delete guarded by its absence would fail and retry for ever);
   * its key's change (readable again, or deleted) queues this work again.
   */
  private unreadable(kind: Kind, name: string): boolean {
    return this.model.cache.isRefused(this.model.keys.object(kind, name));
  }

  private async reconcileNode(name: string): Promise<void> {
    const node = this.model.node(name);
    if (!node && this.unreadable('Node', name)) return;
    if (!node && (await this.joinNode(name))) return;
    if (!node) {
      this.c.lastSeen.forget(name);
      const work: Promise<HsOutcome>[] = [];
      for (const hs of this.model.objects<HostSubnet>('HostSubnet')) {
        if (hs.obj.spec.node === name && isControllerMade(hs.obj)) {
          work.push(this.deleteHostSubnet(hs.obj, { type: 'delete', name: hs.obj.metadata.name }));
        }
      }
      await Promise.all(work);
      return;
    }
    // Node statuses are batched like claims: a thousand nodes joining at once share transactions.
    const statusWritten = this.nodeStatusExecutor().submit(name);
    const work: Promise<HsOutcome>[] = [];
    for (const cn of this.model.objects<ClusterNetwork>('ClusterNetwork')) {
      const cnName = cn.obj.metadata.name;
      const existing = this.model.hostSubnetsOf(cnName, name);
      if (labelsMatch(cn.obj.spec.nodeSelector, node.obj.metadata.labels)) {
        if (!existing.length) work.push(this.hsExecutor(cnName).submit({ type: 'create', clusterNetwork: cnName, node: name }));
        else {
          // Heartbeats land here every few seconds; only a changed node address needs the HostSubnets touched.
          const addr = nodeAddress(this, name);
          for (const hs of existing) {
            const st = this.model.controllerStatus('HostSubnet', hs.obj.metadata.name)?.status;
            if (!st || st.nodeAddress !== addr) work.push(this.hsExecutor(cnName).submit({ type: 'ensure', name: hs.obj.metadata.name }));
          }
        }
      } else {
        for (const hs of existing) {
          // the verdict reads the selector as much as the labels: both pinned
          if (isControllerMade(hs.obj)) work.push(this.deleteHostSubnet(hs.obj, { type: 'delete', name: hs.obj.metadata.name, nodeKv: node.kv, cnKv: cn.kv }));
        }
      }
    }
    const [outs] = await Promise.all([Promise.all(work), statusWritten]);
    if (outs.some((o) => o.result !== 'unchanged' && o.result !== 'skipped')) this.countsLater();
    // a HostSubnet made for a new node is allocated in the same transaction: latency from the node's appearance
    for (const o of outs) recordAllocation(this.c.events, 'HostSubnet', node.obj.metadata.creationTimestamp, o);
    for (const o of outs) this.check(o);
  }

  /** A node that reported itself and has no Node object: make it; true when made. */
  private async joinNode(name: string): Promise<boolean> {
    const plan = new TxnPlan(this.guard, this.leaderKey, this.maxTxnOps);
    const uid = planJoinedNode(this, name, plan);
    if (!uid) return false;
    await this.commit(plan, `Node ${name}`);
    this.c.events.record({ kind: 'Node', name, uid }, 'Normal', 'Joined', `node ${name} reported itself; Node made`).catch(() => undefined);
    // our own commit wakes no reconcile: the new Node's subnets and status come next
    this.enqueue('Node', name);
    return true;
  }

  /**
   * Deletes a HostSubnet the controller made. Its slot is free for the next node, so the
   * addresses its NICs hold in it must not stay: they are looked at again (a commit of our own
   * wakes no reconcile), and, with no HostSubnet left on their node, wait without them.
   */
  private async deleteHostSubnet(hs: HostSubnet, item: Extract<HsItem, { type: 'delete' }>): Promise<HsOutcome> {
    const o = await this.hsExecutor(hs.spec.clusterNetwork).submit(item);
    if (o.result !== 'deleted') return o;
    for (const n of this.model.objects<ContainerNic>('ContainerNic')) {
      if (n.obj.spec.node === hs.spec.node && n.obj.spec.network.clusterNetwork === hs.spec.clusterNetwork) this.enqueue('ContainerNic', n.obj.metadata.name);
    }
    return o;
  }

  private countsLater(): void {
    for (const cn of this.model.objects('ClusterNetwork')) this.enqueue('ClusterNetwork', cn.obj.metadata.name, 1000);
  }

  private async reconcileClusterNetwork(name: string): Promise<void> {
    const cn = this.model.clusterNetwork(name);
    if (!cn && this.unreadable('ClusterNetwork', name)) return;
    if (!cn) {
      const work: Promise<HsOutcome>[] = [];
      for (const hs of this.model.objects<HostSubnet>('HostSubnet')) {
        if (hs.obj.spec.clusterNetwork !== name) continue;
        if (isControllerMade(hs.obj)) {
          work.push(this.deleteHostSubnet(hs.obj, { type: 'delete', name: hs.obj.metadata.name, nodeKv: this.model.node(hs.obj.spec.node)?.kv }));
        } else this.enqueue('HostSubnet', hs.obj.metadata.name);
      }
      await Promise.all(work);
      return;
    }
    for (const n of this.model.objects('Node')) this.enqueue('Node', n.obj.metadata.name);
    const plan = new TxnPlan(this.guard, this.leaderKey, this.maxTxnOps);
    planClusterNetworkStatus(this, cn, plan);
    await this.commit(plan, `ClusterNetwork "${name}"`);
  }

  private async reconcileHostSubnet(name: string): Promise<void> {
    const hs = this.model.hostSubnet(name);
    if (!hs) return;
    const cnName = hs.obj.spec.clusterNetwork;
    const cn = this.model.clusterNetwork(cnName);
    const node = this.model.node(hs.obj.spec.node);
    if ((!node && this.unreadable('Node', hs.obj.spec.node)) || (!cn && this.unreadable('ClusterNetwork', cnName))) return;
    // a user's delete (marked: hostsubnet-finalizer.ts) goes by the path of the controller's own
    const deleting = isDeletingHostSubnet(hs.obj);
    if (deleting || (isControllerMade(hs.obj) && (!node || !cn || !labelsMatch(cn.obj.spec.nodeSelector, node.obj.metadata.labels)))) {
      const o = await this.deleteHostSubnet(hs.obj, { type: 'delete', name, nodeKv: node?.kv, cnKv: cn?.kv });
      // its node, still selected, gets one again, taking back the block kept (our commit wakes nothing)
      if (deleting && o.result === 'deleted') this.enqueue('Node', hs.obj.spec.node);
      this.countsLater();
      return;
    }
    const o = await this.hsExecutor(cnName).submit({ type: 'ensure', name });
    // its ClusterNetwork in a later apply: Normal while young, as a NIC's (late-warnings.ts)
    const refusal = this.late.refusal(hs.obj, o.result === 'failed' && !!o.missingNetwork);
    recordAllocation(this.c.events, 'HostSubnet', hs.obj.metadata.creationTimestamp, { ...o, name }, refusal.type);
    if (refusal.againMs) this.enqueue('HostSubnet', name, refusal.againMs);
    if (o.result !== 'unchanged') this.countsLater();
    this.check(o);
  }

  private async reconcileMacvlan(name: string): Promise<void> {
    const m = this.model.macvlanNet(name);
    if (!m) { this.queue.add('gc/all'); return; }
    const o = await this.addrExecutor(`macvlannets/${name}`).submit({ type: 'mvn', name }) as MacvlanOutcome;
    // its delete finished (macvlan-deleting.ts), a commit of our own: its NICs are told it is gone
    if (o.result === 'gone') for (const n of this.model.objects<ContainerNic>('ContainerNic')) if (n.obj.spec.network.macvlanNet === name) this.enqueue('ContainerNic', n.obj.metadata.name);
    // more nodes than one transaction holds: the next part at once, not after a backoff; a node's part waiting for released addresses to cool down: when the first has (nothing else wakes it then)
    if (o.more || o.coolingMs !== undefined) this.enqueue('MacvlanNet', name, o.more ? (o.progress ? undefined : 200) : o.coolingMs);
    // a node's containers wait for an address the pool no longer has: said where users look
    // (Normal while others give back what it lacks: it comes within seconds)
    if (o.starved) void this.c.events.record({ kind: 'MacvlanNet', name, uid: o.uid }, o.starvedServed ? 'Normal' : 'Warning', 'PoolExhausted', o.starved);
    tellRound(this.c.events, { kind: 'MacvlanNet', name, uid: o.uid }, o);
    if (o.missing) throw new RetryLater('PoolExhausted', `MacvlanNet "${name}": ${o.missing} node(s) lack a block or shim address`);
  }
}
