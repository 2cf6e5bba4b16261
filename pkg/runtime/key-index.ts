// The keys of a KvCache (kv-cache.ts), filed by key and by directory so that one kind, or one
// node's subtree, is listed without a scan of every key.
import type { RawKv } from './kv.js';

/** The keys of one cache: what an entry is filed under and how a prefix is looked up. */
export class KeyIndex {
  readonly data = new Map<string, RawKv>();
  /** the same entries by "directory" (key up to its last '/'), so listing one kind is cheap */
  readonly byDir = new Map<string, Map<string, RawKv>>();
  /**
   * Per prefix looked up, the directories it covers (filter: only some of the keys). Found by
   * a scan of every directory, so kept until a directory comes or goes: the controller's cache
   * at 1,000 nodes has thousands (each node's status subtree), and it lists the ClusterNetworks
   * on every Node reconcile.
   */
  private readonly covers = new Map<string, Array<{ m: Map<string, RawKv>; filter: boolean }>>();
  /** scans of every directory so far (tests) */
  scans = 0;
  /**
   * The last few directories written to: a writer's keys come in runs over a few directories
   * (claims, statuses, index copies), and one found here costs no new string and no hashing.
   */
  private recent: Array<{ dir: string; m: Map<string, RawKv> }> = [];

  set(kv: RawKv): void {
    this.data.set(kv.key, kv);
    let m = this.recentDir(kv.key);
    if (!m) {
      const dir = kv.key.slice(0, kv.key.lastIndexOf('/'));
      m = this.byDir.get(dir);
      if (!m) { this.byDir.set(dir, (m = new Map())); this.covers.clear(); }
      this.recent.unshift({ dir: `${dir}/`, m });
      this.recent.length = Math.min(this.recent.length, 4);
    }
    m.set(kv.key, kv);
  }

  private recentDir(key: string): Map<string, RawKv> | undefined {
    for (const r of this.recent) if (key.startsWith(r.dir) && key.indexOf('/', r.dir.length) < 0) return r.m;
    return undefined;
  }

  remove(key: string): void {
    this.data.delete(key);
    const dir = key.slice(0, key.lastIndexOf('/'));
    const m = this.byDir.get(dir);
    if (m) { m.delete(key); if (m.size === 0) { this.byDir.delete(dir); this.covers.clear(); this.recent = []; } }
  }

  private covering(prefix: string): Array<{ m: Map<string, RawKv>; filter: boolean }> {
    let dirs = this.covers.get(prefix);
    if (dirs) return dirs;
    dirs = [];
    this.scans++;
    for (const [dir, m] of this.byDir) {
      if (`${dir}/`.startsWith(prefix)) dirs.push({ m, filter: false });
      else if (prefix.startsWith(`${dir}/`)) dirs.push({ m, filter: true });
    }
    this.covers.set(prefix, dirs);
    return dirs;
  }

  /** The entries filed right in `dir` (a key up to its last '/'): no scan, whatever the cache holds. */
  inDir(dir: string): Iterable<RawKv> { return this.byDir.get(dir)?.values() ?? []; }

  *entries(prefix: string): Iterable<RawKv> {
    for (const { m, filter } of this.covering(prefix)) {
      if (!filter) { yield* m.values(); continue; }
      for (const [k, v] of m) if (k.startsWith(prefix)) yield v;
    }
  }
}
