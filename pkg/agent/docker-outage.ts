// How the agent tells that Docker's event stream is down. Its attempts back off (1 s doubling
// to 5 s, DOCKER_EVENTS_BACKOFF), and so do the warnings: the first failure of an outage is
// one, a later one only when the wait before the next attempt grew or OUTAGE_REMINDER_MS after
// the last (the others are debug lines), so a dockerd stopped for an hour is some twenty
// warnings, not 3,600. Docker's return is an info line with how long it was away.
import type { DockerError } from '../docker/types.js';
import type { Logger } from '../log-line.js';
import { monotonicMs } from '../runtime/clock.js';

/** While Docker stays away at the longest wait, it is said again this often. */
export const OUTAGE_REMINDER_MS = 5 * 60_000;

export class DockerOutageLog {
  private failures = 0;
  private since = 0;
  private warnedWaitMs = 0;
  private warnedAt = 0;

  constructor(private readonly log: Logger, private readonly now: () => number = monotonicMs) {}

  failed(err: DockerError, retryInMs: number): void {
    const now = this.now();
    if (this.failures++ === 0) this.since = now;
    const meta = { error: err.message, failedAttempts: this.failures, retryInMs };
    if (retryInMs > this.warnedWaitMs || now - this.warnedAt >= OUTAGE_REMINDER_MS) {
      this.warnedWaitMs = Math.max(this.warnedWaitMs, retryInMs);
      this.warnedAt = now;
      this.log.warn('docker events', meta);
    } else {
      this.log.debug('docker events', meta);
    }
  }

  /** The stream is open (again). */
  connected(): void {
    if (this.failures > 0) {
      this.log.info('docker events: Docker answers again; looking at everything again', { failedAttempts: this.failures, downForMs: Math.round(this.now() - this.since) });
    }
    this.failures = 0;
    this.warnedWaitMs = 0;
  }
}
