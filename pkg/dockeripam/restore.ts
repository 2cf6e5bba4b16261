// Whether a dockerd is restoring its containers (./node-ipam.ts): from its Plugin.Activate
// while its API does not answer until the agent reaches that API again, and whether one
// request without --ip comes from that restore (guessed by restart policy: ./guess.ts) or from
// a container run through an API that answers already (its kept addresses are not for it).
import { monotonicMs } from '../runtime/clock.js';

/** Longest a dockerd's restore is taken to last when the agent never sees its API come back. */
export const RESTORE_MAX_MS = 10 * 60_000;

export class RestoreWatch {
  private dockerUp = false;
  private since: number | undefined;

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
    if (this.dockerUp) return;
    // The agent may not have heard from Docker yet (it just started): ask, rather than take
    // its silence for a restore that would let requests skip the adoption.
    if (this.ping && await this.ping().catch(() => false)) return;
    // the event stream may have connected while the ping was out: Docker answers, no restore
    if (this.dockerUp) return;
    this.since = monotonicMs();
  }

  /** The agent's view of Docker's API: answering (restore over) or gone. */
  dockerAnswers(up: boolean): void {
    this.dockerUp = up;
    if (up) { this.since = undefined; this.answered(); }
  }

  restoring(): boolean {
    return this.since !== undefined && monotonicMs() - this.since < RESTORE_MAX_MS;
  }

  /**
   * Whether a request without --ip, arriving now, comes from the restore. The agent hears that
   * Docker's API answers again only when its event stream connects again (1 s, 2 s, 4 s... after
   * the break): meanwhile a container run through that API asked as a restoring one, and got
   * the kept address of a container the restore did not start (a finished on-failure job) or of
   * one it had not started yet. A dockerd serves its API only once its restore is done, and a
   * container is run through the API: so a ping sent after the request arrived that answers
   * proves the restore over (for every request from then on); one that does not (within its
   * bound) is the restore's.
   */
  async fromRestore(): Promise<boolean> {
    if (!this.restoring()) return false;
    if (!this.ping) return true;
    const since = this.since;
    if (!(await this.ping().catch(() => false))) return this.restoring();
    // a later Activate (the dockerd restarted again while the ping was out) starts a new restore
    if (this.since === since) this.since = undefined;
    return this.restoring();
  }
}
