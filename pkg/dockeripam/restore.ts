// Whether a dockerd is restoring its containers (./node-ipam.ts): from its Plugin.Activate
// while its API does not answer until the agent reaches that API again, and whether one
// request without --ip comes from that restore (guessed by restart policy: ./guess.ts) or from
// a container run through an API that answers already (its kept addresses are not for it).
import { monotonicMs } from '../runtime/clock.js';

/** Longest a dockerd's restore is taken to last when the agent never sees its API come back. */
export const RESTORE_MAX_MS = 10 * 60_000;

/** Shortest time between two pings of a restore's watch (one that failed at once is not sent again at once). */
export const RESTORE_PING_GAP_MS = 250;

export class RestoreWatch {
  private dockerUp = false;
  private since: number | undefined;
  /** the restore's ping out now (one at a time), shared by every request that comes meanwhile */
  private out: Promise<boolean> | undefined;
  /** the next ping of the watch, after one that failed sooner than RESTORE_PING_GAP_MS */
  private next: NodeJS.Timeout | undefined;
  private closed = false;

  /**
   * `ping`: whether Docker's API answers now (bounded by the caller); none: a restore is taken
   * to last until dockerAnswers(true). `answered`: Docker answers again (the restore is over).
   */
  constructor(private readonly ping: (() => Promise<boolean>) | undefined, private readonly answered: () => void) {}

  /**
   * Plugin.Activate: a dockerd starts using the plugin. While its API does not answer, that
   * dockerd is restoring its containers (it serves its API only once it has started again
   * every container its restart policies say).
   */
  async activate(): Promise<void> {
    if (this.dockerUp || this.closed) return;
    // The agent may not have heard from Docker yet (it just started): ask, rather than take
    // its silence for a restore that would let requests skip the adoption.
    if (this.ping && await this.ping().catch(() => false)) return;
    // the event stream may have connected while the ping was out: Docker answers, no restore
    if (this.dockerUp) return;
    this.since = monotonicMs();
    if (this.ping && !this.out) void this.pingNow();
  }

  /** The agent's view of Docker's API: answering (restore over) or gone. */
  dockerAnswers(up: boolean): void {
    this.dockerUp = up;
    if (up) { this.since = undefined; this.answered(); }
  }

  restoring(): boolean {
    return this.since !== undefined && monotonicMs() - this.since < RESTORE_MAX_MS;
  }

  /** The plugin stops: no ping is sent any more. */
  close(): void {
    this.closed = true;
    clearTimeout(this.next);
  }

  /**
   * Whether a request without --ip, arriving now, comes from the restore. The agent hears that
   * Docker's API answers again only when its event stream connects again (1 s, 2 s, 4 s... after
   * the break): meanwhile a container run through that API asked as a restoring one, and got
   * the kept address of a container the restore did not start (a finished on-failure job) or of
   * one it had not started yet. A dockerd serves its API only once its restore is done, and a
   * container is run through the API. So throughout a restore one ping is kept out (sent again
   * as soon as it fails, within the restore's bound): a restoring dockerd's socket holds it
   * unanswered, and answers it as soon as it serves its API. A request that comes while it is
   * out is the restore's, answered at once (a restore sends its requests one after another:
   * each waiting for a ping of its own added 2 s per container); one that comes between two
   * pings waits for the next; an answer ends the restore, for every request from then on.
   * The restored dockerd answers the ping as it begins to serve, before a `docker run` through
   * its API reaches the plugin (the CLI's own ping, the create, the start come first), but the
   * agent may read both in one turn of its event loop (busy meanwhile) and handle the request
   * first: so one that finds the ping out lets what was read with it be handled before it is
   * taken as the restore's (afterReads: two turns, well under a millisecond on an idle agent).
   */
  async fromRestore(): Promise<boolean> {
    if (!this.restoring()) return false;
    if (!this.ping) return true;
    await (this.out ? afterReads() : this.pingNow());
    return this.restoring();
  }

  /** Sends the restore's ping unless it is out, and again after each failure while the restore lasts. */
  private pingNow(): Promise<boolean> {
    if (this.out) return this.out;
    clearTimeout(this.next);
    const since = this.since;
    const sent = monotonicMs();
    const ping = this.ping!;
    const out = Promise.resolve().then(ping).catch(() => false).then((up) => {
      this.out = undefined;
      // a later Activate (the dockerd restarted again while the ping was out) starts a new restore
      if (up && this.since === since) this.since = undefined;
      else if (this.restoring() && !this.closed) this.again(sent);
      return up;
    });
    this.out = out;
    return out;
  }

  private again(sent: number): void {
    this.next = setTimeout(() => { if (this.restoring() && !this.closed) void this.pingNow(); }, Math.max(0, sent + RESTORE_PING_GAP_MS - monotonicMs()));
    this.next.unref?.();
  }
}

/**
 * Resolves once the event loop has read the sockets again: a setImmediate runs before the next
 * poll for I/O, the one queued from it after that poll, with whatever it read handled (the
 * promises its answers settle included).
 */
function afterReads(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
