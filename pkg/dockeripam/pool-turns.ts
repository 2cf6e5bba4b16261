// Which turn in this node's pool an address is in: a new one begins each time the controller
// gives the address to the node (again). An ARP probe's outcome holds only for the turn it
// began in: one that ends after its address left the pool says nothing of the address when it
// comes back, as another node may have handed it to a container meanwhile (a Node deleted and
// made again gives its addresses to whichever node asks first). Nor does an address seen free
// stay so for ever: past PROBE_FRESH_MS it is looked at again before it goes out (RFC 5227
// probes right before use; a host outside xnet may have taken it since). In memory: a probe in
// flight dies with its process, and an agent started again probes afresh (AddressBook's constructor).
import { monotonicMs } from '../runtime/clock.js';

/**
 * How long an address seen free counts as looked at for a request. The background pass looks
 * again at what is older than half of it, every half of it: a look takes its seconds, and one
 * made just after a pass began would otherwise be a little short of stale at the next.
 */
export const PROBE_FRESH_MS = 5 * 60_000;

export class PoolTurns {
  private readonly turns = new Map<string, number>();
  /** the turn of every address of a MacvlanNet not in `turns`: 0, or when the MacvlanNet was forgotten */
  private readonly since = new Map<string, number>();
  private last = 0;

  /** when each address was last seen free (monotonic ms) */
  private readonly seenFree = new Map<string, number>();

  /** ip entered the pool of mvn, or was handed out or freed: outcomes of probes begun before count for nothing. */
  began(mvn: string, ip: string): void {
    this.turns.set(`${mvn} ${ip}`, ++this.last);
    this.seenFree.delete(`${mvn} ${ip}`);
  }

  /** A probe of ip in its current turn saw it free, now. */
  sawFree(mvn: string, ip: string): void { this.seenFree.set(`${mvn} ${ip}`, monotonicMs()); }

  /** ip was seen free within maxAgeMs (PROBE_FRESH_MS for a request). */
  fresh(mvn: string, ip: string, maxAgeMs = PROBE_FRESH_MS): boolean {
    const at = this.seenFree.get(`${mvn} ${ip}`);
    return at !== undefined && monotonicMs() - at < maxAgeMs;
  }

  /** ip's current turn (0: in the pool since the journal was read). */
  of(mvn: string, ip: string): number { return this.turns.get(`${mvn} ${ip}`) ?? this.since.get(mvn) ?? 0; }

  /** mvn is no longer served: its turns go, and every one begun before has ended. */
  forget(mvn: string): void {
    for (const m of [this.turns, this.seenFree]) for (const k of m.keys()) if (k.startsWith(`${mvn} `)) m.delete(k);
    this.since.set(mvn, ++this.last);
  }
}
