// What a KvCache (kv-cache.ts) tells its listeners, and how it is configured.
import type { Logger } from '../log.js';
import type { BackoffPolicy } from './backoff.js';
import type { RawKv } from './kv.js';

export interface CacheChange {
  key: string;
  kv?: RawKv;
  prev?: RawKv;
  /** true when the change came from this process's own commit (applyLocal) */
  local: boolean;
  /** when the watch delivered it (clock.ts: monotonic ms), for a change held and released later (KvCache.hold); else now */
  at?: number;
  /**
   * The key is still in etcd, but its value does not decode: it left the cache (or never
   * entered it) for that reason, not because it was deleted (KvCache.isRefused).
   */
  refused?: boolean;
}

export interface KvCacheOptions {
  log?: Logger;
  /** waits between failed (re)starts; default RECONNECT_BACKOFF (200 ms doubling to 5 s) */
  backoff?: BackoffPolicy;
  /** how long restarted watches stay up before a break waits the shortest wait again; default WATCH_STABLE_MS (10 s) */
  stableMs?: number;
  /**
   * Called at each restart of the watches (a relist or a resume): the daemons count it in
   * xnet_watch_restarts_total (metrics.ts), which this module does not load, so that xctl's
   * `get -w` never loads prom-client.
   */
  onRestart?: () => void;
  /**
   * Called when a restart attempt failed with an answer from etcd (a refusal: permission
   * denied, say), not for want of one; the cache still retries it, from a list. A command a
   * user watches with (`get -w`, `get events -w`) ends on a refusal rather than retry it unseen
   * (cache-restarts.ts, endOnRefusal).
   */
  onRestartFailed?: (err: unknown) => void;
  /** how long creating a watch may take before it counts as failed */
  watchCreateTimeoutMs?: number;
  /**
   * Why a key's value is not taken into the cache (it does not decode), or undefined. A
   * refused key is treated as absent (a previous good value of it is deleted) and logged.
   */
  admit?: (kv: RawKv) => string | undefined;
  /**
   * Keys at which a listing is cut into ranges that etcd reads side by side (the controller's:
   * objects, statuses, node indexes, claims), all at one revision. Only speed: any keys, or
   * none, list the same.
   */
  listSplits?: readonly string[];
}
