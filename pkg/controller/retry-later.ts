import { ControllerError } from '../errors.js';

/** The reconcile could not finish now; the work queue retries it with backoff. */
export class RetryLater extends ControllerError {
  constructor(reason: string, message: string) { super(reason, message, { retryable: true }); }
}

/**
 * Whether a failed reconcile waits for something to come free (an address, a block, a conflict
 * lifted, a key readable again): a RetryLater, but for a commit lost to a concurrent write
 * (`Conflict`). The event that frees it queues the key again (events.ts); its retry is only the
 * safety net. Anything else (a lost commit, etcd unreachable, a deadline) has no such event:
 * only its retry looks at it again.
 */
export function isWait(err: unknown): boolean {
  return err instanceof RetryLater && err.reason !== 'Conflict';
}

/**
 * For `xnet_reconcile_waits_total` against `xnet_reconcile_errors_total`: a wait (isWait), but
 * for a key that does not decode (`Unreadable`), which nothing but an operator's edit or delete
 * heals and which no other alert covers (a NIC held by one is not a refused allocation); so
 * XnetReconcileErrors says so. Its backoff stays a wait's: the key's change queues it again.
 */
export function countsAsWait(err: unknown): boolean {
  return isWait(err) && (err as RetryLater).reason !== 'Unreadable';
}
