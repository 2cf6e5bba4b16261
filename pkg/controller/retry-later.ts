import { ControllerError } from '../errors.js';

/** The reconcile could not finish now; the work queue retries it with backoff. */
export class RetryLater extends ControllerError {
  constructor(reason: string, message: string) { super(reason, message, { retryable: true }); }
}
