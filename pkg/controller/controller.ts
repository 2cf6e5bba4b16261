// xnet-controller: a KvCache of the registry and IPAM prefixes (listed and watched on standbys
// too, so a new leader starts from memory, not from a list), a LeaderElector, and per term
// (term.ts) a work queue, workers and one PoolExecutor per pool.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { createLogger, type Logger } from '../log.js';
import { KvCache, type CacheChange } from '../runtime/kv-cache.js';
import { LeaderElector, DEFAULT_LEADER_TTL_SECONDS } from '../runtime/leader.js';
import { retryUntilStopped } from '../runtime/backoff.js';
import { Keys, DEFAULT_PREFIX } from '../store/keys.js';
import { IpamKeys } from '../ipam/keys.js';
import { Model } from './model.js';
import { LastSeen } from './nodes.js';
import { controllerAdmit } from './admit.js';
import { Term } from './term.js';
import { DEFAULT_ADDRESS_COOLDOWN_MS, waitBackoffOf, type ControllerOptions } from './options.js';
import { leader, leaderTerms, registerControllerMetrics, watchRestarts } from '../metrics/metrics.js';
import { EventRecorder } from '../events/recorder.js';

export { DEFAULT_ADDRESS_COOLDOWN_MS, DEFAULT_WORKERS, MAX_ADDRESS_COOLDOWN_S, type ControllerOptions } from './options.js';
export { RetryLater } from './term.js';

export class Controller {
  readonly cache: KvCache;
  readonly model: Model;
  readonly elector: LeaderElector;
  readonly log: Logger;
  private term?: Term;
  private running?: Promise<void>;
  readonly lastSeen = new LastSeen();
  readonly id: string;
  /** how many terms this controller has led (for tests and metrics) */
  termsLed = 0;

  constructor(readonly opts: ControllerOptions) {
    // a bad backoff fails here, not when a term starts (term.ts makes the queue)
    waitBackoffOf(opts.waitBackoff);
    const prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.id = opts.id ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.log = opts.log ?? createLogger('controller', { id: this.id });
    const keys = new Keys(prefix);
    const ipam = new IpamKeys(prefix);
    // Objects, statuses and claims only: the nodes' events, leases and observed reports are
    // theirs to write and xctl's to read, and a node may write them as large and as often as
    // its credentials let it; watched, every one would reach both controllers and stay there.
    this.cache = new KvCache(opts.client, [keys.registry(), ipam.root()], {
      log: this.log, admit: controllerAdmit(keys, ipam), onRestart: () => watchRestarts.inc({ watch: 'cache' }),
      // the big parts of the layout, listed side by side at start-up
      listSplits: [keys.nodeIndexRoot(), keys.objects(), keys.statusRoot()],
    });
    this.model = new Model(this.cache, prefix, opts.addressCooldownMs ?? DEFAULT_ADDRESS_COOLDOWN_MS);
    this.nodeStatuses = this.model.keys.nodeStatuses();
    this.elector = new LeaderElector({
      client: opts.client, key: new Keys(prefix).election(), id: this.id,
      ttlSeconds: opts.leaseTtlSeconds ?? DEFAULT_LEADER_TTL_SECONDS, log: this.log,
    });
    this.cache.onChange((c) => this.onChange(c));
    this.events = new EventRecorder({ client: opts.client, prefix, source: { component: 'controller' }, log: this.log, guard: () => this.term?.guard });
    registerControllerMetrics();
  }

  /** what users read with `xctl get events` and `describe`; only the leader records */
  readonly events: EventRecorder;
  /** where agents' reports are: the only keys whose changes the controller watches itself */
  private readonly nodeStatuses: string;

  get isLeader(): boolean { return !!this.term; }

  /** Loads the cache (waiting for etcd if it is not up yet) and starts campaigning. */
  async start(): Promise<void> {
    await retryUntilStopped(() => this.cache.start(), {
      signal: this.stopping.signal,
      onRetry: (err, delay) => this.log.warn('cannot read etcd yet; retrying', { error: (err as Error).message, retryInMs: delay }),
    });
    this.cache.hold();
    this.running = this.elector.run({
      onStartedLeading: async (t) => {
        this.termsLed++; leaderTerms.inc(); leader.set(1);
        // another leader may have counted this one's events since: they go on from etcd's counts
        this.events.forget();
        await this.catchUp(); this.term = new Term(this, t); this.term.start();
      },
      onStoppedLeading: () => this.termEnded(),
    });
  }

  /**
   * The term is over (resigned, or its lease or key lost: then no mark can be written, its guard
   * fails). What stopping it throws is logged, never let out of the elector's loop: there it would
   * reject the controller's run, an unhandled rejection that ends the daemon.
   */
  private async termEnded(): Promise<void> {
    leader.set(0);
    const t = this.term;
    this.term = undefined;
    try { await t?.stop(); } catch (err) { this.log.error('stopping the term failed', { error: err instanceof Error ? err.message : String(err) }); }
    this.cache.hold();
  }

  /**
   * A standby holds what its watch delivers (KvCache.hold): raw, the newest per key, decoded
   * only here, when it starts leading. Decoding and indexing every write the leader makes cost
   * a standby 60-75% of the leader's CPU (docs/scale.md), taken from the leader and etcd on a
   * shared machine; a new leader pays it once per changed key instead of once per write, a
   * part at a time so that its lease keeps being renewed (40,000 keys: 0.6 s).
   */
  private async catchUp(): Promise<void> {
    const t0 = Date.now();
    const keys = await this.cache.releaseGradually();
    this.log.info('leading: changes held while standing by applied', { keys, ms: Date.now() - t0 });
  }

  /** aborted by stop(): also ends a start-up retry's wait for etcd */
  private readonly stopping = new AbortController();

  /**
   * Steps down (resigning at once, so a standby takes over without waiting for the TTL), each
   * step bounded, so that an etcd that hangs does not hang the stop: the term takes no more work
   * and lets the reconciles in flight settle (at most 3 s), then writes the release marks they
   * noted (at most 2 s) while its lease still holds; then the lease is revoked (one etcd call,
   * 10 s deadline) and the term stopped (what is left of its reconciles fails its guard; each
   * etcd call has its deadline). Before, the marks went first and the reconciles were waited
   * for after the resign: the mark of a release committed meanwhile was refused and lost.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.term?.finishLeading();
    await this.elector.stop();
    await this.running;
    await this.term?.stop();
    await this.cache.close();
    await this.events.close();
  }

  private onChange(c: CacheChange): void {
    this.term?.onChange(c);
    if (!c.key.startsWith(this.nodeStatuses)) return;
    const st = this.model.keys.parseStatusKey(c.key);
    if (st && st.kind === 'Node' && 'node' in st.writer && st.writer.node === st.name) {
      if (c.prev) this.lastSeen.record(st.name, JSON.parse(c.prev.value));
      if (c.kv) this.lastSeen.record(st.name, JSON.parse(c.kv.value));
      // the agent's lease-bound status is gone: its heartbeats stopped
      if (!c.kv && c.prev && !c.refused) this.lastSeen.recordLost(st.name);
      const node = this.model.node(st.name);
      const obj = { kind: 'Node', name: st.name, uid: node?.obj.metadata.uid };
      if (!c.kv && c.prev && !c.refused && this.term && node) {
        void this.events.record(obj, 'Warning', 'NodeLost', 'the agent\'s etcd lease expired (it stopped, or lost etcd for longer than its TTL); its subnets are kept until the Node is deleted');
      }
      // back after a loss this controller saw: said too, or the Node's last event stays NodeLost
      const lostAt = this.lastSeen.lostAt(st.name);
      if (c.kv && !c.prev && lostAt && this.term && node) {
        this.lastSeen.back(st.name);
        void this.events.record(obj, 'Normal', 'NodeReady', `the agent reports again (its lease was lost at ${lostAt})`);
      }
    }
  }
}
