// The one retry policy of xnet: every loop that retries (the work queues, reconnecting to
// etcd, the pool transactions, the store's optimistic transactions, the leader campaign)
// names its bounds here, so how hard xnet pushes on a struggling etcd is read in one place.
// delayMs() is pure so the policy is tested without timers.
import { monotonicMs } from './clock.js';

export interface BackoffPolicy {
  /** wait after the first failure */
  initialMs: number;
  /** no wait is longer than this */
  maxMs: number;
  /** each further failure multiplies the wait by this (1: a fixed interval) */
  factor: number;
  /** 0..1: the wait is drawn from [d*(1-jitter), d]; spreads retries of many clients apart */
  jitter: number;
  /** give up after this many attempts in all (undefined: until stopped) */
  maxAttempts?: number;
}

/** Work-queue keys whose reconcile failed: 10 ms doubling to 30 s (sample-controller's rate limiter). */
export const WORKQUEUE_BACKOFF: BackoffPolicy = { initialMs: 10, maxMs: 30_000, factor: 2, jitter: 0 };

/** The agent's reconciles: 50 ms doubling to 10 s, so a node heals soon after Docker or a netns is back. */
export const AGENT_QUEUE_BACKOFF: BackoffPolicy = { initialMs: 50, maxMs: 10_000, factor: 2, jitter: 0 };

/**
 * A macvlan NIC's declared MAC refused by the kernel (held by another macvlan of the parent,
 * e.g. in a dying namespace) while the NIC works on the kernel's MAC: tried again 500 ms
 * doubling to 2 s apart, 150 times (about 5 minutes), then at the agent queue's pace
 * (pkg/agent/mac-wait.ts). A retry is a live change that never takes the NIC down.
 */
export const MAC_WAIT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 2_000, factor: 2, jitter: 0, maxAttempts: 150 };

/** The controller's reconciles (allocation waits, conflicts): 50 ms doubling to 30 s. */
export const CONTROLLER_QUEUE_BACKOFF: BackoffPolicy = { initialMs: 50, maxMs: 30_000, factor: 2, jitter: 0 };

/** Reaching a service that is not up yet (etcd at daemon start, a relist): 200 ms doubling to 5 s. */
export const RECONNECT_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 5000, factor: 2, jitter: 0 };

/**
 * How long a KvCache's watches, made again after a break, must stay up before the next break
 * waits RECONNECT_BACKOFF's shortest wait again (cache-restarts.ts). A break sooner than that
 * waits longer than the one before it, so a connection that breaks right after every resume (a
 * member or a proxy that accepts the watch and drops it at once) is retried at most every 5 s,
 * not every 0.2 s, from every agent. Twice the longest wait, as Kubernetes' reflector starts its
 * backoff over only after a quiet period longer than that backoff's longest wait: a watch that
 * stayed up only past one wait has not proved itself yet.
 */
export const WATCH_STABLE_MS = 10_000;

/**
 * A pool's transaction lost to a concurrent writer: re-plan after 4 ms doubling (to 256 ms);
 * after 8 attempts the requests fail and their work-queue keys back off instead.
 */
export const POOL_CONFLICT_BACKOFF: BackoffPolicy = { initialMs: 4, maxMs: 256, factor: 2, jitter: 0, maxAttempts: 8 };

/**
 * The store's read-compare-write transactions (apply, delete) that lost to a concurrent
 * write: re-read and try again after 10 ms doubling to 80 ms, each wait drawn down to half
 * (150 ms at most in all), 5 attempts in all, then report a conflict. Tried again at once, the
 * 5 attempts of a delete held to its in-use check (delete-guard.ts) could all fall inside one
 * burst of NIC writes on a cluster that makes NICs continuously (any NIC write fails its
 * guard); the jitter keeps xctls that lost to the same write from colliding again.
 */
export const STORE_TXN_RETRY: BackoffPolicy = { initialMs: 10, maxMs: 80, factor: 2, jitter: 0.5, maxAttempts: 5 };

/**
 * `xctl label` whose write met another writer's change of an object it read (its pinned
 * resourceVersion is stale): the objects not yet written are read again and labeled again, as
 * kubectl retries a conflicting patch, after 10 ms doubling to 80 ms, 5 attempts in all.
 */
export const LABEL_REREAD_RETRY: BackoffPolicy = { initialMs: 10, maxMs: 80, factor: 2, jitter: 0.5, maxAttempts: 5 };

/**
 * A read of many keys at one revision over several requests (store/read-named.ts) that etcd
 * compacted past before it was done: read again whole at the revision of the moment 10 ms after
 * the first try failed, then 20 ms after the second, 3 attempts in all. A compaction is periodic (etcd's
 * --auto-compaction-*, minutes apart), so a second one inside one read is rare and a third
 * says something compacts continuously.
 */
export const COMPACTED_READ_RETRY: BackoffPolicy = { initialMs: 10, maxMs: 20, factor: 2, jitter: 0, maxAttempts: 3 };

/**
 * A watcher (`ip monitor`, `nft monitor`) that exited is started again 1 s later, doubling to
 * 30 s while it keeps exiting (one that cannot run at all, its namespace gone or nf_tables
 * missing, was started every second for ever: a warning each time, on the host a resync of
 * everything); once one ran MONITOR_STABLE_MS, its next exit waits 1 s again.
 */
export const MONITOR_RESTART_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 30_000, factor: 2, jitter: 0 };
export const MONITOR_STABLE_MS = 60_000;

/**
 * Docker's event stream that could not be opened or broke (dockerd stopped, restarting) is
 * opened again 1 s later, doubling to 5 s while it keeps failing, so Docker's return is seen
 * within 5 s: a dockerd restarted for an upgrade is converged again moments after it answers
 * (at 30 s, the cap before, a minute's outage left the host unconverged up to 30 s more). An
 * attempt is one connect to the local socket; the warnings are what needed a bound (it was asked,
 * and warned, every second: a dockerd stopped for an hour was 3,600 warnings), and
 * agent/docker-outage.ts bounds them. Once a stream stayed up DOCKER_EVENTS_STABLE_MS, its next
 * break waits 1 s again.
 */
export const DOCKER_EVENTS_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 5_000, factor: 2, jitter: 0 };
export const DOCKER_EVENTS_STABLE_MS = 60_000;

/**
 * The leader's release marks (controller/release-marks.ts) that etcd did not take: tried again a
 * few times, then given up (logged): a mark only carries the cooldown over to a controller that
 * starts later; the leader that released the address keeps it cooling in memory either way.
 */
export const RELEASE_MARK_RETRY: BackoffPolicy = { initialMs: 200, maxMs: 2_000, factor: 2, jitter: 0.2, maxAttempts: 5 };

/** Granting the leader lease or campaigning failed (etcd unreachable): try again every second. */
export const LEADER_RETRY: BackoffPolicy = { initialMs: 1000, maxMs: 1000, factor: 1, jitter: 0 };

/**
 * The wait after the `failures`-th consecutive failure (1-based); 0 before any failure.
 * `random` returns [0, 1) and is only used when the policy has jitter.
 */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  if (failures <= 0) return 0;
  // factor^n overflows to Infinity for large n; Math.min keeps the cap in charge either way.
  const d = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.min(failures - 1, 60));
  return policy.jitter > 0 ? d * (1 - policy.jitter * random()) : d;
}

/** Whether another attempt is allowed after `attempts` attempts have been made. */
export function mayRetry(attempts: number, policy: BackoffPolicy): boolean {
  return policy.maxAttempts === undefined || attempts < policy.maxAttempts;
}

/**
 * The waits before restarting something that keeps failing (a watcher that exits, a stream that
 * breaks): doubling by the policy while it fails, from the first wait again once what was
 * started() last ran `stableMs` before it failed.
 */
export function restartPace(policy: BackoffPolicy, stableMs: number): { started(): void; next(): number } {
  let failures = 0;
  let since: number | undefined;
  return {
    started() { since = monotonicMs(); },
    next() {
      if (since !== undefined && monotonicMs() - since >= stableMs) failures = 0;
      since = undefined;
      return backoffDelay(++failures, policy);
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Like sleep, but ends at once (resolving) when `signal` is aborted, so a stop never waits a retry out. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs f until it succeeds, waiting longer after each failure, so that a daemon started before
 * etcd simply waits for it. Once `signal` is aborted (the daemon stops), or the policy's
 * attempts are used up, the failure is thrown instead of retried; an abort during a wait ends
 * the wait (up to RECONNECT_BACKOFF's 5 s) at once and throws the last failure.
 */
export async function retryUntilStopped(
  f: () => Promise<void>,
  opts: { signal: AbortSignal; onRetry?: (err: unknown, delayMs: number) => void; policy?: BackoffPolicy },
): Promise<void> {
  const policy = opts.policy ?? RECONNECT_BACKOFF;
  for (let failures = 1; ; failures++) {
    try { await f(); return; } catch (err) {
      if (opts.signal.aborted || !mayRetry(failures, policy)) throw err;
      const delay = backoffDelay(failures, policy);
      opts.onRetry?.(err, delay);
      await sleepUnlessAborted(delay, opts.signal);
      if (opts.signal.aborted) throw err;
    }
  }
}
