// A container that came back on another address while the address kept for it (its home) is
// not in this node's pool: the agent asks the controller for the home by name, as a
// `docker run --ip` request does (the node report's `requested`; the controller grants it into
// the pool, asks another node holding it idle to give it back, or refuses it in
// status.nodes[].refusedRequests), while the container stays on the address it has. It is moved
// only once the home is granted (./kept-home.ts homeStep). Moving first took it off the network
// and the plugin asked then: a refusal left it on any address, and the next sync tried again.
//
// The asks live in memory, one per container, each given up after HOME_ASK_MS, with the moves
// home tried (a move that failed twice ends the keeping: ./kept-home.ts); both go with their
// MacvlanNet when it leaves this node (forget), as the address book's pool does. The report's
// `requested` is journalled, so whatever this node asks for by name that neither an ask here
// nor a --ip request in flight waits for (an agent stopped mid-ask or mid-request) is dropped.
import type { AddressBook } from '../../dockeripam/book.js';
import { RefusalWatch } from '../../dockeripam/requests.js';
import { dropStaleAsks } from '../../dockeripam/stale-asks.js';
import { monotonicMs } from '../../runtime/clock.js';
import type { HomeFacts } from './kept-home.js';

/** The most homes asked for at once per MacvlanNet: `requested` (at most 256 in a report) keeps room for --ip requests. */
export const MAX_HOME_ASKS = 32;

interface Ask { home: string; since: number; refusal: RefusalWatch }

export class HomeAsks {
  /** `${mvn} ${container}` -> its ask */
  private readonly asks = new Map<string, Ask>();
  /** `${mvn} ${container}` -> the moves home tried that did not end (a move that succeeded, or a home given up, is forgotten) */
  private readonly moves = new Map<string, number>();

  /** The moves home tried for the container. */
  tries(mvn: string, container: string): number { return this.moves.get(key(mvn, container)) ?? 0; }
  /** A move home is tried now. */
  tried(mvn: string, container: string): void { this.moves.set(key(mvn, container), this.tries(mvn, container) + 1); }
  /** The container is home, or keeps where it is: no move counts any more. */
  moved(mvn: string, container: string): void { this.moves.delete(key(mvn, container)); }

  /** What the controller said so far of the container's ask for `home` (none: not asked). */
  heard(mvn: string, container: string, home: string): Pick<HomeFacts, 'askedFor' | 'refused' | 'lastWord'> {
    const a = this.asks.get(key(mvn, container));
    if (!a || a.home !== home) return {};
    return { askedFor: monotonicMs() - a.since, refused: a.refusal.counts(), lastWord: a.refusal.last() };
  }

  /**
   * Asks for the container's home: 'first' (a new ask), 'again' (the report may have lost it), or
   * 'full' when too many are asked already (not asked: its turn comes at a later sync).
   */
  ask(book: AddressBook, mvn: string, container: string, home: string): 'first' | 'again' | 'full' {
    const k = key(mvn, container);
    const a = this.asks.get(k);
    const first = a?.home !== home;
    if (first) {
      if (a) this.done(book, mvn, container);
      if (this.count(mvn) >= MAX_HOME_ASKS) return 'full';
      this.asks.set(k, { home, since: monotonicMs(), refusal: new RefusalWatch(() => book.refusal(mvn, home)) });
    }
    book.ask(mvn, { ip: home, home: true });
    return first ? 'first' : 'again';
  }

  /** The container's ask is over (granted, refused, given up, the container moved or gone). */
  done(book: AddressBook, mvn: string, container: string): void {
    const k = key(mvn, container);
    const a = this.asks.get(k);
    if (!a) return;
    this.asks.delete(k);
    if (book.askedUnawaited(mvn).includes(a.home)) book.unask(mvn, a.home);
  }

  /**
   * After a sync of `mvn`: the asks of containers it did not ask for (`asking`) are over (the
   * container is gone, stopped, or back home), and no address is left asked for by name that
   * neither an ask here nor a --ip request in flight waits for (../../dockeripam/stale-asks.ts):
   * those are returned.
   */
  sweep(book: AddressBook, mvn: string, asking: ReadonlySet<string>): string[] {
    for (const k of [...this.asks.keys()]) {
      const [net, container] = k.split(' ');
      if (net === mvn && !asking.has(container)) this.done(book, mvn, container);
    }
    const wanted = new Set([...this.asks].filter(([k]) => k.startsWith(`${mvn} `)).map(([, a]) => a.home));
    return dropStaleAsks(book, mvn, wanted);
  }

  /**
   * The MacvlanNet left this node (deleted, or no longer selecting it): its asks and moves go,
   * as the book forgets its pool (book.ts forget), which holds what they asked for.
   */
  forget(mvn: string): void {
    for (const m of [this.asks, this.moves]) for (const k of [...m.keys()]) if (k.startsWith(`${mvn} `)) m.delete(k);
  }

  /** How many asks and counted moves are held for `mvn`. */
  held(mvn: string): { asks: number; moves: number } {
    return { asks: this.count(mvn), moves: [...this.moves.keys()].filter((k) => k.startsWith(`${mvn} `)).length };
  }

  private count(mvn: string): number { return [...this.asks.keys()].filter((k) => k.startsWith(`${mvn} `)).length; }
}

function key(mvn: string, container: string): string { return `${mvn} ${container}`; }
