// The one list-watch cache of xnet (the controller's model, the store's watches and the agent's
// informers all sit on it): a revision-ordered mirror of one or more etcd prefixes. It lists
// them at one revision, then watches each from the next revision over the client's single
// watch stream. Any cancel of a watch (a compaction sets only compact_revision) starts over from
// a fresh list, as does etcd's revision gone back (restored from a backup); a lost connection
// resumes every watch after the last revision it delivered. cache-restarts.ts: how, and when.
//
// Writers apply their own committed transactions at once (applyLocal*), so a reconcile that
// runs right after a commit plans from what it just wrote; the watch event that arrives later
// for the same revision is recognised as old news and dropped. A reader that needs the cache
// only later (a standby controller) can hold what its watches deliver (hold/release). What the
// cache holds, and how a change gets in (or is dropped as old news), is cache-contents.ts's.
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { Logger } from '../log.js';
import { rawKv, type RawKv } from './kv.js';
import { HeldChanges } from './held-changes.js';
import { CacheContents } from './cache-contents.js';
import { etcdSilent, onceConnected, withTimeout } from './watch-wait.js';
import { currentRevision, listPrefixes } from './kv-list.js';
import { splitPrefix } from '../etcd/range.js';
import { fromEtcdError } from '../etcd/errors.js';
import { EtcdCompactedError } from '../errors.js';
import { CacheRestarts } from './cache-restarts.js';
import type { CacheChange, KvCacheOptions } from './kv-cache-types.js';
export type { CacheChange, KvCacheOptions };

export class KvCache {
  /** the keys, tombstones and refused keys, and the listeners (cache-contents.ts) */
  private readonly contents: CacheContents;
  private watchers: Watcher[] = [];
  private readonly relistListeners: Array<(revision: number) => void> = [];
  private closed = false;
  private seenRevision = 0;
  /** bumped at each (re)start: callbacks of older watchers are ignored */
  private generation = 0;
  /** per prefix: the revision after the last event its watch delivered (where a resume starts) */
  private readonly resumeAt = new Map<string, number>();
  readonly prefixes: string[];
  /** how many times the cache started over from a list (tests, metrics) */
  relists = 0;
  private wentBack = false; // a resume found etcd's revision below the cache's, and no relist succeeded since
  /** while holding: key -> its newest watched change, not yet applied (hold()) */
  private held?: HeldChanges;
  private readonly restarts: CacheRestarts;

  constructor(private readonly client: Etcd3, prefix: string | string[], private readonly opts: KvCacheOptions | Logger = {}) {
    this.prefixes = typeof prefix === 'string' ? [prefix] : prefix;
    this.contents = new CacheContents(this.prefixes, this.options);
    this.restarts = new CacheRestarts({
      prefix: this.prefix,
      isClosed: () => this.closed,
      stopWatchers: () => this.stopWatchers(),
      relist: () => this.listAndWatch(),
      resume: () => this.resume(),
    }, this.options);
  }

  /** The first (for one-prefix caches, the only) prefix mirrored. */
  get prefix(): string { return this.prefixes[0]; }

  private get options(): KvCacheOptions { return 'warn' in this.opts ? { log: this.opts as Logger } : this.opts as KvCacheOptions; }

  private get log(): Logger | undefined { return this.options.log; }

  /** Called for every change, in revision order per key. A throwing listener is logged, never fatal. */
  onChange(fn: (c: CacheChange) => void): void { this.contents.onChange(fn); }

  /** Called after each list that (re)started the cache, once its changes were delivered. */
  onRelist(fn: (revision: number) => void): void { this.relistListeners.push(fn); }

  get(key: string): RawKv | undefined {
    return this.contents.index.data.get(key);
  }

  /** Whether the key is in etcd with a value that does not decode: not in the cache, but not gone. */
  isRefused(key: string): boolean { return this.contents.refused.has(key); }

  /** The mod revision of the value refused at `key` (a writer that overwrites it pins that), if refused. */
  refusedRevision(key: string): string | undefined { return this.contents.refused.revision(key)?.toString(); }

  /** Whether some key under `prefix` is in etcd with a value that does not decode (isRefused); those keys and their revisions. */
  anyRefusedUnder(prefix: string): boolean { return this.contents.refused.anyUnder(prefix); }
  refusedUnder(prefix: string): Array<[string, number]> { return this.contents.refused.under(prefix); }

  /** Entries whose key starts with `prefix`; without one, every entry of every prefix (unordered). */
  entries(prefix?: string): Iterable<RawKv> { return prefix === undefined ? this.contents.index.data.values() : this.contents.index.entries(prefix); }

  /** The entries whose key is right in `dir` (`dir` + '/' + a name without '/'): a lookup, not a scan. */
  inDir(dir: string): Iterable<RawKv> { return this.contents.index.inDir(dir); }

  get size(): number { return this.contents.index.data.size; }

  /** The newest revision this cache has received (while holding, not all of it is applied). */
  get revision(): number {
    return this.seenRevision;
  }

  /**
   * Lists (at `at` when given and not compacted, else at the current revision) and starts
   * watching. Fails when etcd cannot be read; callers retry.
   */
  async start(opts: { at?: number } = {}): Promise<void> {
    this.closed = false;
    await this.listAndWatch(opts.at);
  }

  /** A list, then watches from the revision after it; none once the cache was closed meanwhile. */
  private async listAndWatch(at?: number): Promise<void> {
    const rev = await this.relist(at);
    if (this.closed) return; // by a relist listener (`xctl wait` met its goal): watches would outlive close(), holding the process
    await this.watchAll(() => rev + 1);
  }

  private async relist(at?: number): Promise<number> {
    const listAll = (rev?: number) => listPrefixes(this.client, this.prefixes, { at: rev, splits: this.options.listSplits, admitted: (kv) => this.contents.admitted(kv) });
    let listed;
    try {
      listed = await listAll(at);
    } catch (err) {
      if (at === undefined || !(fromEtcdError(err) instanceof EtcdCompactedError)) throw err;
      listed = await listAll();
    }
    if (listed.revision < this.seenRevision) this.warnWentBack(listed.revision);
    // What was held is older than this listing, but applied first: a key put and deleted while
    // held is in neither the cache nor the listing, and its listeners (a freed address's
    // cooldown) would never hear of it. Then the listing, then holding again.
    const holding = this.held !== undefined;
    this.release();
    this.contents.replace(listed.kvs, listed.refused);
    if (holding) this.hold();
    this.contents.tombstones.clear();
    this.seenRevision = listed.revision;
    this.wentBack = false;
    this.relists++;
    for (const fn of this.relistListeners) this.safely(() => fn(listed.revision), 'relist listener');
    return listed.revision;
  }

  /**
   * Resumes every watch after the last event it delivered, unless etcd's revision is below what
   * the cache saw: etcd restored from a backup restarts at the backup's revision, and such a watch
   * would miss the new history's changes until it passes ours (and isOldNews would drop its
   * lower-revision puts). Then it starts over from a list, as after a compaction.
   */
  private async resume(): Promise<void> {
    const read = currentRevision(this.client, splitPrefix(this.prefix)[0]);
    const now = await withTimeout(read, this.options.watchCreateTimeoutMs ?? 10_000, 'revision read', etcdSilent);
    if (this.closed) return; // closed during the read (a controller stopping): no watch is made
    if (this.wentBack || now < this.seenRevision) {
      if (!this.wentBack) this.warnWentBack(now);
      this.wentBack = true; // every resume relists until a relist succeeds: resumeAt is the old history's
      this.seenRevision = Math.min(this.seenRevision, now); // the relist's own check stays quiet
      await this.listAndWatch();
      return;
    }
    await this.watchAll((p) => this.resumeAt.get(p) ?? this.seenRevision + 1);
  }

  /** Said once per restore: the relist that follows brings seenRevision down to etcd's. */
  private warnWentBack(now: number): void {
    this.log?.warn(`etcd's revision went back from ${this.seenRevision} to ${now} (restored from a backup?); relisting`, { prefix: this.prefix });
  }

  private async watchAll(from: (prefix: string) => number): Promise<void> {
    const gen = ++this.generation;
    const made = await Promise.allSettled(this.prefixes.map((p) => this.watchOne(p, from(p), gen)));
    const failed = made.find((m): m is PromiseRejectedResult => m.status === 'rejected');
    if (failed) {
      await this.stopWatchers();
      throw failed.reason;
    }
  }

  private async watchOne(prefix: string, fromRevision: number, gen: number): Promise<void> {
    const w = this.client.watch().prefix(prefix).startRevision(String(fromRevision)).watcher();
    this.watchers.push(w);
    this.resumeAt.set(prefix, fromRevision);
    const live = () => gen === this.generation && !this.closed;
    const seen = (rev: number) => {
      if (rev >= (this.resumeAt.get(prefix) ?? 0)) this.resumeAt.set(prefix, rev + 1);
      if (rev > this.seenRevision) this.seenRevision = rev;
    };
    w.on('put', (kv: IKeyValue) => {
      if (!live()) return;
      const rev = Number(kv.mod_revision);
      seen(rev);
      if (this.held) { this.held.put(rawKv(kv), rev); return; }
      // The echo of this process's own commit (applied at once by applyLocalPut): dropped
      // before its value is copied out of the event, the bulk of a busy writer's events.
      if (!this.contents.isOldNews(kv.key.toString(), rev)) this.contents.applyRemote(rawKv(kv));
    });
    w.on('delete', (kv: IKeyValue) => {
      if (!live()) return;
      const rev = Number(kv.mod_revision);
      seen(rev);
      if (this.held) this.held.delete(kv.key.toString(), rev);
      else this.contents.applyDelete(kv.key.toString(), rev, false);
    });
    w.on('data', () => { if (live() && this.contents.tombstones.size > 1000) this.pruneTombstones(); });
    await withTimeout(onceConnected(w), this.options.watchCreateTimeoutMs ?? 10_000, `watch of ${prefix}`, etcdSilent);
    // A cancel (compaction, or any other reason etcd gives or does not give): events were lost.
    // etcd3 has dropped the watch: cancelling it too (stopWatchers) would wait 2 s for no answer.
    w.on('error', (err: Error) => { this.watchers = this.watchers.filter((x) => x !== w); if (live()) this.restarts.restart('relist', err); });
    // The stream broke: resume from the last event delivered, not from what etcd3 assumes.
    w.on('disconnected', (err: Error) => { if (live()) this.restarts.restart('resume', err); });
  }

  private async stopWatchers(): Promise<void> {
    const ws = this.watchers;
    this.watchers = [];
    this.generation++;
    // cancel() waits for etcd's answer; a broken stream may never give one.
    await Promise.all(ws.map((w) => withTimeout(w.cancel(), 2000, 'watch cancel').catch(() => undefined)));
  }

  /** Drops tombstones once their key's own watch delivered past them (etcd orders no two watches). */
  private pruneTombstones(): void {
    this.contents.tombstones.prune((k) => {
      const p = this.prefixes.find((x) => k.startsWith(x));
      return p === undefined ? this.seenRevision : (this.resumeAt.get(p) ?? 0) - 1;
    });
  }

  /**
   * From now on watched changes are held, not applied: get() and entries() answer as of now,
   * listeners hear nothing, nothing is decoded until release(). Costs a raw copy of each
   * change, the newest per key. This process's own commits (applyLocal*, applyRead) still
   * apply at once; a relist (after a compaction) releases, applies the listing, holds again.
   */
  hold(): void {
    this.held ??= new HeldChanges();
  }

  /**
   * Applies what was held in revision order, as if it had just arrived (admitted, told to
   * listeners, `at` when it did), and stops holding; returns how many keys were held. A key put
   * and then deleted while held is applied as both: listeners see the value it had last.
   */
  release(): number {
    const n = this.applyHeld(Infinity);
    this.held = undefined;
    return n;
  }

  /**
   * release() a part at a time, yielding to the event loop between parts: a new leader's
   * lease keep-alive must not wait for a hundred thousand decodes. Changes that arrive
   * meanwhile are held and applied in turn; holding ends when none is left.
   */
  async releaseGradually(part = RELEASE_PART): Promise<number> {
    let n = 0;
    while (this.held?.size) {
      n += this.applyHeld(part);
      if (this.held?.size) await new Promise((r) => setImmediate(r));
    }
    this.held = undefined;
    return n;
  }

  /** Applies (and forgets) the oldest `n` held changes; returns how many it applied. */
  private applyHeld(n: number): number {
    const some = this.held?.takeOldest(n) ?? [];
    for (const h of some) {
      if (h.kv) { this.contents.applyRemote(h.kv, h.at); continue; }
      if (h.lastPut) this.contents.applyRemote(h.lastPut, h.at);
      this.contents.applyDelete(h.key, h.rev, false, h.at);
    }
    return some.length;
  }

  /** changes held now (metrics, tests) */
  get heldCount(): number { return this.held?.size ?? 0; }

  /** Records a put this process committed at `revision`. */
  applyLocalPut(key: string, value: string, revision: string, createRevision?: string, lease = '0', parsed?: unknown): void {
    this.contents.applyLocalPut(key, value, revision, createRevision, lease, parsed);
  }

  /** Records a delete this process committed at `revision`. */
  applyLocalDelete(key: string, revision: string): void {
    this.contents.applyDelete(key, Number(revision), true);
  }

  /** Records what a read returned (e.g. the read-back of a refused transaction's compared keys). */
  applyRead(key: string, kv: RawKv | undefined, revision: string): void {
    this.contents.applyRead(key, kv, revision);
  }

  private safely(f: () => void, what: string, key?: string): void {
    try { f(); } catch (err) { this.log?.error(`${what} failed`, { key, error: String(err) }); }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stopWatchers();
  }
}

/** Held changes applied between two turns of the event loop (releaseGradually): some 70 ms. */
const RELEASE_PART = 5000;

