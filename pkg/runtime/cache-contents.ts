// What a KvCache (kv-cache.ts) holds, and how a change gets in: the keys and their values
// (key-index.ts), the deletes remembered by revision (tombstones.ts), the keys whose value does
// not decode (refused-keys.ts), and the listeners told of each change. A change older than
// what is held is dropped here; when to list, watch, resume or hold is kv-cache.ts's.
import type { Logger } from '../log.js';
import type { RawKv } from './kv.js';
import { KeyIndex } from './key-index.js';
import { RefusedKeys } from './refused-keys.js';
import { RefusalLog } from './refusal-log.js';
import { Tombstones } from './tombstones.js';
import type { CacheChange, KvCacheOptions } from './kv-cache-types.js';

export class CacheContents {
  readonly index = new KeyIndex();
  /** deleted keys -> revision of the delete, so a late put event cannot resurrect them */
  readonly tombstones = new Tombstones();
  /** keys whose newest value `admit` refused (isRefused), and how many of them are logged */
  readonly refused = new RefusedKeys();
  private readonly refusals = new RefusalLog();
  private readonly listeners: Array<(c: CacheChange) => void> = [];

  constructor(private readonly prefixes: readonly string[], private readonly options: Pick<KvCacheOptions, 'admit' | 'log'>) {}

  private get log(): Logger | undefined { return this.options.log; }

  onChange(fn: (c: CacheChange) => void): void { this.listeners.push(fn); }

  /** Makes the contents equal to `kvs` (admitted already) and `refused`, telling listeners what differs. */
  replace(kvs: RawKv[], refused: Map<string, number>): void {
    // A start's listing fills an empty cache: no key of it is looked up, no set of them made.
    let fresh: Set<string> | undefined;
    const listed = (k: string) => (fresh ??= new Set(kvs.map((kv) => kv.key))).has(k);
    const changed = this.refused.replace(refused, listed);
    for (const k of changed.refused) this.refuse(k, this.index.data.get(k));
    for (const k of changed.went) this.emit({ key: k, local: false });
    for (const [k, old] of this.index.data) {
      if (!listed(k)) { this.index.remove(k); this.emit({ key: k, prev: old, local: false }); }
    }
    const empty = this.index.data.size === 0;
    for (const kv of kvs) {
      const old = empty ? undefined : this.index.data.get(kv.key);
      if (!old || old.modRevision !== kv.modRevision) {
        this.index.set(kv);
        this.emit({ key: kv.key, kv, prev: old, local: false });
      }
    }
  }

  /** Whether a put of `key` at `rev` is already in the cache, or was deleted after it. */
  isOldNews(key: string, rev: number): boolean {
    const old = this.index.data.get(key);
    if (old && Number(old.modRevision) >= rev) return true;
    return this.tombstones.covers(key, rev);
  }

  applyRemote(kv: RawKv, at?: number): void {
    if (this.isOldNews(kv.key, Number(kv.modRevision))) return;
    const old = this.index.data.get(kv.key);
    if (!this.admitted(kv)) {
      this.refused.refuse(kv.key, Number(kv.modRevision));
      this.refuse(kv.key, old, at);
      return;
    }
    this.refused.accept(kv.key);
    this.index.set(kv);
    this.emit({ key: kv.key, kv, prev: old, local: false, at });
  }

  /** A key refused: its good value (when it had one) leaves the cache, and listeners hear why. */
  private refuse(key: string, old: RawKv | undefined, at?: number): void {
    if (old) this.index.remove(key);
    this.emit({ key, prev: old, local: false, at, refused: true });
  }

  /** Sets `kv.parsed` as the admit option would, when it takes the value; nothing else. */
  private parseAsAdmitted(kv: RawKv): void {
    let why: unknown;
    try { why = this.options.admit?.(kv); } catch (e) { why = e; }
    if (why !== undefined) kv.parsed = undefined;
  }

  /** The admit option's verdict; a refused (or unjudgeable) key is logged. */
  admitted(kv: RawKv): boolean {
    const admit = this.options.admit;
    if (!admit) return true;
    let why: string | undefined;
    try { why = admit(kv); } catch (e) { why = String(e); }
    const line = why === undefined ? undefined : this.refusals.line(this.refused.has(kv.key));
    if (line) this.log?.warn('skipped a key that does not decode', { key: kv.key, error: why, ...line });
    return why === undefined;
  }

  applyDelete(key: string, revision: number, local: boolean, at?: number): void {
    const old = this.index.data.get(key);
    if (old && Number(old.modRevision) > revision) return;
    this.tombstones.add(key, revision);
    // A refused key going is news too: what waited for it to go (a deleting NIC's report) may act.
    const wasRefused = this.refused.deleted(key, revision);
    if (!old) { if (wasRefused) this.emit({ key, local, at }); return; }
    this.index.remove(key);
    this.emit({ key, prev: old, local, at });
  }

  /** Records a put this process committed at `revision` (KvCache.applyLocalPut). */
  applyLocalPut(key: string, value: string, revision: string, createRevision?: string, lease = '0', parsed?: unknown): void {
    const old = this.index.data.get(key);
    if (old && Number(old.modRevision) >= Number(revision)) return;
    if (this.tombstones.covers(key, Number(revision))) return;
    const kv: RawKv = { key, value, modRevision: revision, createRevision: createRevision ?? old?.createRevision ?? revision, lease, parsed };
    // Written as a string (an object put back with a finalizer added): parsed as admission parses
    // the watch's values (its echo is dropped), else it lacks its schema's defaults (hostShim: true)
    if (parsed === undefined) this.parseAsAdmitted(kv);
    this.refused.accept(key);
    this.index.set(kv);
    this.emit({ key, kv, prev: old, local: true });
  }

  /** Records what a read returned (KvCache.applyRead). */
  applyRead(key: string, kv: RawKv | undefined, revision: string): void {
    // a key no watch of this cache keeps fresh (a plan's read of the election key) stays out
    if (!this.prefixes.some((p) => key.startsWith(p))) return;
    if (kv) this.applyRemote(kv);
    else this.applyDelete(key, Number(revision), false);
  }

  private emit(c: CacheChange): void {
    // no closure made per call: a listing tells each listener of every key it holds
    for (const fn of this.listeners) try { fn(c); } catch (err) { this.log?.error('cache listener failed', { key: c.key, error: String(err) }); }
  }
}
