// When a KvCache's watches break, how it starts over: from a fresh list when a watch was
// cancelled (events were lost: a compaction, or any reason etcd gives or does not give), from
// the last revision delivered when the stream broke. One restart at a time, with a bounded
// backoff between attempts; a break during a restart runs one more restart after it. The
// backoff starts over only once the watches stayed up a while (WATCH_STABLE_MS): a break that
// comes sooner waits longer than the one before it, even when every restart succeeded.
import { ClientClosedError } from 'etcd3';
import { fromEtcdError } from '../etcd/errors.js';
import { EtcdPermissionError, EtcdUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import { backoffDelay, RECONNECT_BACKOFF, sleep, WATCH_STABLE_MS, type BackoffPolicy } from './backoff.js';
import { monotonicMs } from './clock.js';

export type RestartMode = 'relist' | 'resume';

/** What a restart does to the cache it restarts. */
export interface Restartable {
  readonly prefix: string;
  isClosed(): boolean;
  stopWatchers(): Promise<void>;
  relist(): Promise<void>;
  resume(): Promise<void>;
}

export interface CacheRestartOptions {
  log?: Logger;
  backoff?: BackoffPolicy;
  /** default WATCH_STABLE_MS */
  stableMs?: number;
  onRestart?: () => void;
  onRestartFailed?: (err: unknown) => void;
}

export class CacheRestarts {
  /** restarts begun in a row, each within stableMs of the one before it ending well */
  private quickBreaks = 0;
  /** when the last restart ended well (clock.ts); undefined before any */
  private upSince?: number;
  private running?: Promise<void>;
  /** a restart asked for while one was running */
  private again?: RestartMode;

  constructor(private readonly cache: Restartable, private readonly opts: CacheRestartOptions) {}

  restart(mode: RestartMode, why: Error): void {
    if (this.cache.isClosed()) return;
    // A watch this restart already made broke or was cancelled before the restart ended: left
    // alone, etcd3 would resume it from its last response's header revision, past events it
    // had not delivered yet. It is restarted again once this restart is over.
    if (this.running) { this.again = this.again === 'relist' ? 'relist' : mode; return; }
    this.quickBreaks = brokeSoon(this.upSince, this.opts.stableMs ?? WATCH_STABLE_MS) ? this.quickBreaks + 1 : 0;
    this.opts.onRestart?.();
    this.opts.log?.warn(mode === 'relist' ? 'cache watch cancelled; relisting' : 'cache watch disconnected; resuming', { prefix: this.cache.prefix, error: why.message, inMs: this.waitMs(mode, 1) });
    this.running = this.loop(mode).finally(() => {
      this.running = undefined;
      const again = this.again;
      this.again = undefined;
      if (again) this.restart(again, new Error('a watch broke while the cache was restarting'));
    });
  }

  /**
   * The wait before the `attempt`-th attempt (1-based) of this restart: the backoff goes on from
   * where the quick breaks before it left it. The first relist after watches that stayed up
   * waits a quarter (50 ms): a compaction's cancel comes from an etcd that answers.
   */
  private waitMs(mode: RestartMode, attempt: number): number {
    const failures = this.quickBreaks + attempt;
    return backoffDelay(failures, this.opts.backoff ?? RECONNECT_BACKOFF) / (mode === 'relist' && failures === 1 ? 4 : 1);
  }

  private async loop(mode: RestartMode): Promise<void> {
    await this.cache.stopWatchers();
    for (let attempt = 1; !this.cache.isClosed(); attempt++) {
      await sleep(this.waitMs(mode, attempt));
      if (this.cache.isClosed()) return;
      try {
        await (mode === 'relist' ? this.cache.relist() : this.cache.resume());
        // Made again, which says nothing yet of how long the watches stay up: a member or proxy
        // that drops every watch at once lets each resume succeed (brokeSoon, restart()). The
        // attempts this restart failed (etcd unreachable for a while) are not carried over:
        // the relist that a compaction meanwhile makes waits the second wait (0.4 s), not 5 s.
        this.upSince = monotonicMs();
        return;
      } catch (err) {
        // A closed client never answers again: whoever closed it is shutting down and has not
        // closed this cache (yet). Retrying would go on for the life of the process.
        if (err instanceof ClientClosedError) {
          this.opts.log?.warn('cache stops: its etcd client was closed', { prefix: this.cache.prefix });
          return;
        }
        // An attempt that did not reach etcd (etcd down, the connection cut, a call or a watch
        // that timed out) lost nothing: the next one resumes from the same revisions, and the
        // changes made meanwhile arrive one by one, a change made and undone too. Relisting
        // instead, as this loop did, turned every cut longer than the first wait (200 ms) into a
        // relist, which tells only where things ended up (xctl's `get -w` and `wait` missed such
        // changes). What resuming cannot serve (a compacted revision) etcd answers with a cancel,
        // which relists. Anything else is retried from a list, to be safe.
        if (!notReached(err)) { mode = 'relist'; this.opts.onRestartFailed?.(err); }
        this.opts.log?.warn('cache restart failed; retrying', { prefix: this.cache.prefix, error: String(err), attempt, inMs: this.waitMs(mode, attempt + 1) });
      }
    }
  }
}

/**
 * Whether watches made again at `upSince` (clock.ts; undefined: never restarted) broke before
 * staying up `stableMs`: the restart then backs off further instead of from the shortest wait.
 */
function brokeSoon(upSince: number | undefined, stableMs: number, now = monotonicMs()): boolean {
  return upSince !== undefined && now - upSince < stableMs;
}

/**
 * Whether a failed restart attempt got no answer from etcd (a cut connection; a call or a watch
 * not made in time: watch-wait.ts, etcdSilent): it found nothing out of date.
 */
export function notReached(err: unknown): boolean {
  return fromEtcdError(err) instanceof EtcdUnavailableError;
}

/**
 * An onRestartFailed (KvCacheOptions) for a watch a user runs (`get -w`, `get events -w`):
 * calls `end` with etcd's refusal (permission denied: the identity lost its grants while it
 * watched), which no retry changes. Retried from a list for ever, as a controller's cache does,
 * the command printed nothing and never ended; etcd3's own watcher had ended with it.
 */
export function endOnRefusal(end: (err: EtcdPermissionError) => void): (err: unknown) => void {
  return (err) => {
    const known = fromEtcdError(err);
    if (known instanceof EtcdPermissionError) end(known);
  };
}
