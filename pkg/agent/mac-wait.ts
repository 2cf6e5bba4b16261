// A macvlan NIC whose declared MAC the kernel refuses (another macvlan on the same parent has
// it: typically the NIC's own link in a restarted container's previous namespace, which the
// kernel destroys in the background) carries traffic on the MAC the kernel gave it meanwhile.
// The declared MAC is tried again on a short backoff of its own (MAC_WAIT_BACKOFF), not the work
// queue's (which grows to 10 s): the MAC is taken within 2 s of being freed. A retry changes the
// MAC of the working link live (a macvlan accepts that while up), so retrying never interrupts
// the NIC's traffic. Bounded: after its attempts the queue's backoff takes over.
import { backoffDelay, MAC_WAIT_BACKOFF, mayRetry, type BackoffPolicy } from '../runtime/backoff.js';

/** Per NIC, how many times in a row its declared MAC was refused. */
export class MacWaits {
  private readonly refused = new Map<string, number>();

  constructor(private readonly policy: BackoffPolicy = MAC_WAIT_BACKOFF) {}

  /**
   * Counts one more refusal of NIC `nic`'s MAC; returns when to try again, or undefined once
   * the attempts are spent (the caller then fails the reconcile: the queue's backoff).
   */
  refusedAgain(nic: string): number | undefined {
    const n = (this.refused.get(nic) ?? 0) + 1;
    this.refused.set(nic, n);
    return mayRetry(n, this.policy) ? backoffDelay(n, this.policy) : undefined;
  }

  /**
   * Whether to search the host's namespaces for the NIC's own stale link (stale-nic.ts, one
   * `nsenter` per namespace) at this refusal: at the first, then every 8th. A holder the first
   * search could not reach is a namespace being destroyed, which does not become reachable;
   * the retries in between are a single live MAC change.
   */
  searchDue(nic: string): boolean {
    return (this.refused.get(nic) ?? 0) % 8 === 0;
  }

  /** The NIC has its declared MAC, or is gone. */
  clear(nic: string): void {
    this.refused.delete(nic);
  }
}
