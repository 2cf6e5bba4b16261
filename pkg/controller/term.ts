// One leadership term of the controller: its work queue and workers, one PoolExecutor per
// pool, and a reconcile per kind. Made when the controller starts leading, stopped when it
// stops (controller.ts); everything it decides is read from the controller's cache, caught up
// with what it held while standing by when the term began.
import type { Etcd3 } from 'etcd3';
import type { ContainerNic, Kind } from '../api/index.js';
import type { Logger } from '../log.js';
import type { LeaderElector, LeaderTerm } from '../runtime/leader.js';
import { tellRound } from './macvlan-external.js';
import { WorkQueue } from '../runtime/workqueue.js';
import { runWorkers } from '../runtime/workers.js';
import { MAX_TXN_OPS } from '../runtime/kv.js';
import type { CacheChange } from '../runtime/kv-cache.js';
import type { Model } from './model.js';
import { PoolExecutor } from './pool-executor.js';
import { NotLeaderError } from './txn-plan.js';
import { planHostSubnet, type HsItem, type HsOutcome } from './hostsubnets.js';
import { allocateNic } from './nics.js';
import { planMacvlanNodes, type MacvlanOutcome } from './macvlan.js';
import { desiredNodeStatus, type LastSeen } from './nodes.js';
import { collectGarbage } from './gc.js';
import { startObjects, startOrder } from './start-order.js';
import { effectsOfChange, objectKey } from './events.js';
import { putStatusIfChanged, type Ctx } from './context.js';
import { DEFAULT_ADDRESS_COOLDOWN_MS, DEFAULT_WORKERS, retryBackoff, waitBackoffOf, type ControllerOptions } from './options.js';
import { CONTROLLER_QUEUE_BACKOFF, type BackoffPolicy } from '../runtime/backoff.js';
import { RetryLater, countsAsWait } from './retry-later.js';
import { reconcileNics, type AddrItem, type AddrOutcome, type NicWorkHost } from './nic-work.js';
import { countsLater, reconcileClusterNetwork, reconcileHostSubnet, reconcileNode, type HsWorkHost } from './hostsubnet-work.js';
import type { EventRecorder } from '../events/recorder.js';
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
    this.hsWork = {
      ctx: this, late: this.late, events: c.events, lastSeen: c.lastSeen, hsExecutor: (cn) => this.hsExecutor(cn),
      nodeStatusExecutor: () => this.nodeStatusExecutor(), enqueue: (kind, name, afterMs) => this.enqueue(kind, name, afterMs),
    };
    this.guard = t.guard;
    this.leaderKey = c.elector.key;
    this.maxTxnOps = c.opts.maxTxnOps ?? MAX_TXN_OPS;
    this.addressCooldownMs = c.opts.addressCooldownMs ?? DEFAULT_ADDRESS_COOLDOWN_MS;
  }

  /** what a NIC's work needs of this term (nic-work.ts) */
  private readonly nicWork: NicWorkHost;
  /** what the HostSubnets' work needs of this term (hostsubnet-work.ts) */
  private readonly hsWork: HsWorkHost;

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
      case 'Node': return reconcileNode(this.hsWork, name);
      case 'ClusterNetwork': return reconcileClusterNetwork(this.hsWork, name);
      case 'HostSubnet': return reconcileHostSubnet(this.hsWork, name);
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
    if ((await collectGarbage(this, uid)) > 0 && blocks) countsLater(this.hsWork);
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
