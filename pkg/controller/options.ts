// The controller's options and their defaults (cmd/xnet-controller.ts sets them from flags).
import type { Etcd3 } from 'etcd3';
import type { Logger } from '../log.js';
import { CONTROLLER_QUEUE_BACKOFF, type BackoffPolicy } from '../runtime/backoff.js';
import { isWait } from './retry-later.js';

export interface ControllerOptions {
  client: Etcd3;
  prefix?: string;
  /** identity written to the election key; default host:pid:random */
  id?: string;
  /** leader lease TTL; a killed leader is replaced within about this long */
  leaseTtlSeconds?: number;
  workers?: number;
  log?: Logger;
  /** etcd's --max-txn-ops (128 by default) */
  maxTxnOps?: number;
  gcIntervalMs?: number;
  /** a released address is not handed out again for this long (default 30 s; address-cooldown.ts) */
  addressCooldownMs?: number;
  /** a ContainerNic whose Node is missing this long gets a Warning NodeNotFound (default 15 s, the agents' settling grace) */
  settleGraceMs?: number;
  /**
   * The work queue's retry backoff of a key whose reconcile waits (retry-later.ts isWait), as
   * client-go's per-item exponential rate limiter takes a base and a max delay: looked at again
   * after `initialMs`, doubling up to `maxMs` (default 50 ms to 30 s, CONTROLLER_QUEUE_BACKOFF).
   * No flag sets it: a wait ends by the event that frees what it waits for, the retry is only the
   * safety net. A reconcile that fails otherwise (etcd unreachable, a lost commit) is retried at
   * the default pace whatever this says: nothing else looks at it again. For tests (a wake proven
   * with the retry out of reach: docs/contributing.md) and embedding.
   */
  waitBackoff?: { initialMs?: number; maxMs?: number };
}

/** the longest delay a Node timer takes (setTimeout fires a longer one after 1 ms) */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The backoff policy of a wait's retry from `waitBackoff`, the default's for what it leaves out; a
 * cap left out is at least `initialMs` (a first wait of an hour is not cut to 30 s). Throws a
 * RangeError for a wait that is no number of ms in (0, 2^31 - 1], or a cap below the first wait.
 */
export function waitBackoffOf(o: ControllerOptions['waitBackoff'] = {}): BackoffPolicy {
  const d = CONTROLLER_QUEUE_BACKOFF;
  // checked as given, before either is derived from the other: a bad cap alone is told as the cap
  for (const name of ['initialMs', 'maxMs'] as const) {
    const ms = o[name];
    if (ms !== undefined && !(typeof ms === 'number' && ms > 0 && ms <= MAX_TIMER_MS)) throw new RangeError(`waitBackoff.${name} must be a number of ms in (0, ${MAX_TIMER_MS}], not ${String(ms)}`);
  }
  const initialMs = o.initialMs ?? Math.min(d.initialMs, o.maxMs ?? d.initialMs);
  const maxMs = o.maxMs ?? Math.max(d.maxMs, initialMs);
  if (maxMs < initialMs) throw new RangeError(`waitBackoff.maxMs (${maxMs}) is below its initialMs (${initialMs})`);
  return { ...d, initialMs, maxMs };
}

/** The backoff a failed reconcile's retry follows: a wait's `wait` (waitBackoffOf), any other failure's the default. */
export function retryBackoff(wait: BackoffPolicy, err: unknown): BackoffPolicy {
  return isWait(err) ? wait : CONTROLLER_QUEUE_BACKOFF;
}

export const DEFAULT_ADDRESS_COOLDOWN_MS = 30_000;
/** The longest --address-cooldown (a day): its release marks (release-marks.ts) live under an etcd lease of that length. */
export const MAX_ADDRESS_COOLDOWN_S = 86_400;

/**
 * Concurrent reconciles. A NIC's reconcile waits on its pool's executor while its transaction
 * is in flight, so this bounds how many NICs the rounds in flight can batch: at 64, a burst of
 * thousands went to etcd one or two NICs per transaction; 1,024 keeps three rounds of up to
 * 8 x 42 NICs fed (pool-executor.ts). Idle workers cost a pending promise each.
 */
export const DEFAULT_WORKERS = 1024;
