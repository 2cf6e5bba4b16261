// A revision-ordered mirror of one etcd prefix: list, then watch from the list's revision,
// relist on compaction. Writers apply their own committed transactions at once
// (applyLocal), so a reconcile that runs right after a commit plans from what it just wrote
// instead of from a stale copy; the watch event that arrives later for the same revision is
// then recognised as old news and dropped.
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { watchRestarts } from '../metrics/metrics.js';
import type { Logger } from '../log.js';
import { listPrefix, rawKv, type RawKv } from './kv.js';
import { retryUntilStopped } from './backoff.js';

export interface CacheChange {
  key: string;
  kv?: RawKv;
  prev?: RawKv;
  /** true when the change came from this process's own commit (applyLocal) */
  local: boolean;
}

export class KvCache {
  private readonly data = new Map<string, RawKv>();
  /** the same entries by "directory" (key up to its last '/'), so listing one kind is cheap */
  private readonly byDir = new Map<string, Map<string, RawKv>>();
  /** deleted keys -> revision of the delete, so a late put event cannot resurrect them */
  private readonly tombstones = new Map<string, number>();
  private watcher?: Watcher;
  private readonly listeners: Array<(c: CacheChange) => void> = [];
  private closed = false;
  private seenRevision = 0;

  constructor(private readonly client: Etcd3, readonly prefix: string, private readonly log?: Logger) {}

  onChange(fn: (c: CacheChange) => void): void {
    this.listeners.push(fn);
  }

  get(key: string): RawKv | undefined {
    return this.data.get(key);
  }

  /** Entries whose key starts with `prefix` (unordered). */
  *entries(prefix = this.prefix): Iterable<RawKv> {
    const exact = prefix.endsWith('/') ? this.byDir.get(prefix.slice(0, -1)) : undefined;
    for (const [dir, m] of this.byDir) {
      if (m === exact) { yield* m.values(); continue; }
      if (`${dir}/`.startsWith(prefix)) { yield* m.values(); continue; }
      if (prefix.startsWith(`${dir}/`)) for (const [k, v] of m) if (k.startsWith(prefix)) yield v;
    }
  }

  private set(kv: RawKv): void {
    this.data.set(kv.key, kv);
    const dir = kv.key.slice(0, kv.key.lastIndexOf('/'));
    let m = this.byDir.get(dir);
    if (!m) this.byDir.set(dir, (m = new Map()));
    m.set(kv.key, kv);
  }

  private remove(key: string): void {
    this.data.delete(key);
    const dir = key.slice(0, key.lastIndexOf('/'));
    const m = this.byDir.get(dir);
    if (m) { m.delete(key); if (m.size === 0) this.byDir.delete(dir); }
  }

  get size(): number {
    return this.data.size;
  }

  async start(): Promise<void> {
    const rev = await this.relist();
    await this.watchFrom(rev);
  }

  private async relist(): Promise<number> {
    const { kvs, revision } = await listPrefix(this.client, this.prefix);
    const fresh = new Map(kvs.map((kv) => [kv.key, kv]));
    for (const [k, old] of this.data) {
      if (!fresh.has(k)) { this.remove(k); this.emit({ key: k, prev: old, local: false }); }
    }
    for (const kv of kvs) {
      const old = this.data.get(kv.key);
      if (!old || old.modRevision !== kv.modRevision) {
        this.set(kv);
        this.emit({ key: kv.key, kv, prev: old, local: false });
      }
    }
    this.tombstones.clear();
    this.seenRevision = Number(revision);
    return Number(revision);
  }

  private async watchFrom(rev: number): Promise<void> {
    const w = await this.client.watch().prefix(this.prefix).startRevision(String(rev + 1)).create();
    this.watcher = w;
    w.on('put', (kv: IKeyValue) => {
      // Most events echo this process's own commits: drop them before decoding the value.
      const old = this.data.get(kv.key.toString());
      if (old && Number(old.modRevision) >= Number(kv.mod_revision)) return;
      this.applyRemote(rawKv(kv));
    });
    w.on('delete', (kv: IKeyValue) => this.applyDelete(kv.key.toString(), Number(kv.mod_revision), false));
    w.on('data', (res) => {
      const r = Number(res.header.revision);
      if (r > this.seenRevision) this.seenRevision = r;
      if (this.tombstones.size > 1000) this.pruneTombstones();
    });
    // etcd3 re-establishes a lost watch stream by itself; count it, the events are not lost.
    w.on('disconnected', () => watchRestarts.inc({ watch: 'cache' }));
    w.on('error', (err) => {
      // Compaction (or any cancel) loses events: start over from a fresh list.
      if (this.closed) return;
      this.log?.warn('cache watch ended; relisting', { prefix: this.prefix, error: String(err) });
      void w.cancel().catch(() => undefined);
      void this.restart();
    });
  }

  private async restart(): Promise<void> {
    if (this.closed) return;
    watchRestarts.inc({ watch: 'cache' });
    await retryUntilStopped(() => this.start(), {
      stopped: () => this.closed,
      onRetry: (err) => this.log?.warn('relist failed; retrying', { error: String(err) }),
    }).catch(() => undefined);
  }

  private pruneTombstones(): void {
    for (const [k, r] of this.tombstones) if (r <= this.seenRevision) this.tombstones.delete(k);
  }

  private applyRemote(kv: RawKv): void {
    const old = this.data.get(kv.key);
    if (old && Number(old.modRevision) >= Number(kv.modRevision)) return;
    const t = this.tombstones.get(kv.key);
    if (t !== undefined && t >= Number(kv.modRevision)) return;
    this.set(kv);
    this.emit({ key: kv.key, kv, prev: old, local: false });
  }

  private applyDelete(key: string, revision: number, local: boolean): void {
    const old = this.data.get(key);
    if (old && Number(old.modRevision) > revision) return;
    const t = this.tombstones.get(key);
    if (t === undefined || t < revision) this.tombstones.set(key, revision);
    if (!old) return;
    this.remove(key);
    this.emit({ key, prev: old, local });
  }

  /** Records a put this process committed at `revision`. */
  applyLocalPut(key: string, value: string, revision: string, createRevision?: string, lease = '0'): void {
    const old = this.data.get(key);
    if (old && Number(old.modRevision) >= Number(revision)) return;
    const t = this.tombstones.get(key);
    if (t !== undefined && t >= Number(revision)) return;
    const kv: RawKv = { key, value, modRevision: revision, createRevision: createRevision ?? old?.createRevision ?? revision, lease };
    this.set(kv);
    this.emit({ key, kv, prev: old, local: true });
  }

  /** Records a delete this process committed at `revision`. */
  applyLocalDelete(key: string, revision: string): void {
    this.applyDelete(key, Number(revision), true);
  }

  /** Records what a read returned (e.g. a failed transaction's failure branch). */
  applyRead(key: string, kv: RawKv | undefined, revision: string): void {
    if (kv) this.applyRemote(kv);
    else this.applyDelete(key, Number(revision), false);
  }

  private emit(c: CacheChange): void {
    for (const fn of this.listeners) {
      try { fn(c); } catch (err) { this.log?.error('cache listener failed', { key: c.key, error: String(err) }); }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.watcher?.cancel().catch(() => undefined);
  }
}
