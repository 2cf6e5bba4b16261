// Which kept address a request without --ip comes back for (AddressBook.guess): pure, over
// the book's entries as they are now.
import type { NetBook } from './journal.js';

/**
 * While a dockerd restores, the kept address of a container whose restart policy is not learnt
 * yet goes to a request only if released this recently (the dockerd's own release at its start).
 * Outside a restore there is no window: a kept address goes only to its own container, and
 * stays kept until that container is removed or taken off the network (./kept-owner.ts).
 */
export const RESTART_WINDOW_MS = 60_000;

export interface KeptCandidate {
  ip: string;
  entry: NetBook['assigned'][string];
  /** the entry's revision (AddressBook): the later change wins a tie */
  rev: number;
  /** still in this node's pool: one the controller moved or shrank away is not handed out */
  inPool: boolean;
}

/**
 * Restoring: addresses of containers Docker's restart policy starts again, whenever released,
 * then of containers not learnt yet released within the window; otherwise only one kept for a
 * container Docker is starting now (`starting`), whenever released: never one of a stopped
 * container to a new one. Never a pinned one. Among equals, the one released last, and of
 * those released in the same millisecond the one changed last: never the book's order.
 */
export function guessKept(candidates: Iterable<KeptCandidate>, restoring: boolean, now: number, starting?: ReadonlySet<string>): string | undefined {
  const rank = (a: KeptCandidate['entry']): number | undefined => {
    const recent = now - a.released! <= RESTART_WINDOW_MS;
    if (!restoring) return a.container !== undefined && starting?.has(a.container) ? 0 : undefined;
    return a.restarts === true ? 0 : a.restarts === undefined && recent ? 1 : undefined;
  };
  let best: { ip: string; rank: number; released: number; rev: number } | undefined;
  for (const { ip, entry: a, rev, inPool } of candidates) {
    if (a.released === undefined || a.pinned || !inPool) continue;
    const r = rank(a);
    if (r === undefined || (best && (r > best.rank || (r === best.rank && (a.released < best.released
      || (a.released === best.released && rev < best.rev)))))) continue;
    best = { ip, rank: r, released: a.released, rev };
  }
  return best?.ip;
}
