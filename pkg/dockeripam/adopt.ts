// Adopting what Docker has. The journal is the plugin's only memory of the addresses it gave
// Docker; lost or cut short (disk loss, a .bad file after a parse error, an old copy), the
// endpoints Docker still has on this node are unknown to the book, whose free list would hand
// their addresses to new containers. So at start the plugin reads Docker's own view (its
// networks using this IPAM driver and their containers' endpoints) and records each address
// in use, journaled, before it answers any RequestAddress (./node-ipam.ts waits for it).
//
// An adopted address outside the node's pool stays recorded as in use: never handed out
// here (it is not free, and a kept one outside the pool is not lent, see ./book.ts), listed in
// the node's report as assigned (so `xctl ipam check` names it as unclaimed, or as a
// duplicate when another node holds it), and named in the node's MacvlanNet status message
// (../agent/reconcilers/macvlan.ts). The controller is not asked to claim it: a human decides.
import { isIPv4 } from '../ip/ipv4.js';
import type { Logger } from '../log.js';
import { sleep } from '../runtime/backoff.js';
import { withTimeout } from '../runtime/watch-wait.js';
import type { AddressBook, Assigned } from './book.js';
import { monotonicMs } from '../runtime/clock.js';

/**
 * An address Docker shows on a container attached to a network of this plugin. `detached`: the
 * endpoint is in no container's sandbox (a container starting or stopping), and `container` is
 * Docker's `ep-<endpoint ID>`, no container's ID (../docker/types.ts detachedEndpoint).
 */
export interface SeenEndpoint { mvn: string; ip: string; container: string; name: string; detached?: boolean }

/**
 * The endpoints to record as in use: every one with an IPv4 address the book does not hold
 * live for that very container (unknown, handed out but not identified yet, kept for another
 * container or lent). An address shown twice is adopted once, for the first container.
 */
export function planAdoption(seen: SeenEndpoint[], assigned: (mvn: string) => Assigned[]): SeenEndpoint[] {
  const books = new Map<string, Map<string, Assigned>>();
  const bookOf = (mvn: string) => {
    let b = books.get(mvn);
    if (!b) books.set(mvn, b = new Map(assigned(mvn).map((a) => [a.ip, a])));
    return b;
  };
  const out = new Map<string, SeenEndpoint>();
  for (const e of seen) {
    const key = `${e.mvn} ${e.ip}`;
    if (!e.mvn || !isIPv4(e.ip) || out.has(key)) continue;
    const a = bookOf(e.mvn).get(e.ip);
    const who = e.detached ? sameNamed(a, e) : e;
    if (a && a.container === who.container && a.released === undefined) continue;
    out.set(key, who);
  }
  return [...out.values()];
}

/**
 * A detached endpoint stands for no container ID: the container the book has on that address
 * under the same name is the one (taken for `ep-...`, the address was freed at the next sync as
 * that of a removed container, and handed out while its stopped container kept it). One the
 * book does not know is left as Docker lists it: in use, by whom Docker will say.
 */
function sameNamed(a: Assigned | undefined, e: SeenEndpoint): SeenEndpoint {
  if (a?.container && a.name === e.name) return { ...e, container: a.container };
  if (a?.lentFrom && a.lentFrom.name === e.name) return { ...e, container: a.lentFrom.container };
  return e;
}

/**
 * Addresses Docker shows on two or more containers of one network ("<mvn> <ip>: a, b"): what a
 * lost journal may already have caused. Adoption keeps one; a person must move the other.
 */
export function sharedAddresses(seen: SeenEndpoint[]): string[] {
  const holders = new Map<string, string[]>();
  for (const e of seen) {
    if (!e.mvn || !isIPv4(e.ip)) continue;
    const key = `${e.mvn} ${e.ip}`;
    const who = e.name || e.container.slice(0, 12);
    const list = holders.get(key);
    if (!list) holders.set(key, [who]); else if (!list.includes(who)) list.push(who);
  }
  return [...holders].filter(([, who]) => who.length > 1).map(([key, who]) => `${key}: ${who.join(', ')}`);
}

/**
 * The journal had e's address for e's container: kept for it (a dockerd that restarted
 * released every address, then started its containers again) or lent away from it meanwhile,
 * handed out to a container it had not learnt yet (the agent stopped in between), or kept for
 * another container restarted along with it that has its own kept address (swapped by the
 * restoring dockerd; the agent moves each home, ../agent/reconcilers/docker-ipam.ts). Normal
 * after a restart; not a lost journal.
 */
function journalHad(book: AddressBook, e: SeenEndpoint): boolean {
  const a = book.entry(e.mvn, e.ip);
  if (!a) return false;
  if (a.container === e.container || a.lentFrom?.container === e.container) return true;
  if (a.container === undefined && !a.lentFrom) return true;
  return (a.released !== undefined || a.lentFrom !== undefined) && book.homeOf(e.mvn, e.container, e.ip) !== undefined;
}

export interface AdoptionOptions {
  book: AddressBook;
  /** Docker's endpoints on this plugin's networks (each Docker call has its own timeout) */
  list(): Promise<SeenEndpoint[]>;
  log: Logger;
  /** tries per run and the pause between them; one try's bound */
  retry?: { attempts?: number; everyMs?: number; tryMs?: number };
}

/**
 * One adoption per plugin start: a run is a bounded number of tries; another run starts
 * whenever asked (a request that must wait for it, Docker's API answering again) until one
 * succeeds.
 */
export class Adoption {
  private done = false;
  private running: Promise<void> | undefined;
  private readonly waiters: Array<() => void> = [];
  /**
   * Addresses Docker released since the list being read was asked for: that list is older,
   * and would make a stopped container's kept address live again.
   */
  private releasedMeanwhile: Set<string> | undefined;

  constructor(private readonly o: AdoptionOptions) {}

  get adopted(): boolean { return this.done; }

  /** Docker released ip (ReleaseAddress): a list read before now must not make it live again. */
  noteReleased(mvn: string, ip: string): void { this.releasedMeanwhile?.add(`${mvn} ${ip}`); }

  private closed = false;

  /** The plugin stops: no further try, and a list still on its way is not recorded. */
  close(): void { this.closed = true; }

  /** Reads Docker and records what its containers hold; one run at a time, none once adopted. */
  run(): Promise<void> {
    if (this.done || this.closed) return Promise.resolve();
    this.running ??= this.tries().finally(() => { this.running = undefined; });
    return this.running;
  }

  /** true once adopted, false if still not at the deadline. */
  wait(deadline: number): Promise<boolean> {
    if (this.done) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = () => { clearTimeout(t); resolve(true); };
      // A request refused at its deadline leaves no waiter behind (Docker may stay unreadable for long).
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(this.done);
      }, Math.max(0, deadline - monotonicMs()));
      this.waiters.push(waiter);
    });
  }

  private async tries(): Promise<void> {
    const { attempts = 5, everyMs = 2000, tryMs = 15_000 } = this.o.retry ?? {};
    for (let i = 1; i <= attempts && !this.closed; i++) {
      this.releasedMeanwhile = new Set();
      try {
        this.record(await withTimeout(this.o.list(), tryMs, "reading Docker's endpoints"));
        return;
      } catch (e) {
        this.o.log.warn("IPAM: could not read from Docker which addresses its containers hold; no address is handed out until it is read",
          { attempt: i, of: attempts, error: (e as Error).message });
      } finally {
        this.releasedMeanwhile = undefined;
      }
      if (i < attempts) await sleep(everyMs);
    }
  }

  private record(seen: SeenEndpoint[]): void {
    if (this.closed) return;
    const { book, log } = this.o;
    const gone = this.releasedMeanwhile;
    const current = gone?.size ? seen.filter((e) => !gone.has(`${e.mvn} ${e.ip}`)) : seen;
    const adopt = planAdoption(current, (mvn) => book.assigned(mvn));
    const known = adopt.filter((e) => journalHad(book, e));
    const unknown = adopt.filter((e) => !known.includes(e));
    for (const e of adopt) book.adopt(e.mvn, e.ip, e.container, e.name);
    const named = (list: SeenEndpoint[]) => ({ addresses: list.map((e) => `${e.mvn} ${e.ip} ${e.name || e.container.slice(0, 12)}`) });
    if (unknown.length) log.warn('IPAM: adopted addresses Docker\'s containers hold that the journal did not have as theirs (journal lost or stale?)', named(unknown));
    if (known.length) log.info('IPAM: addresses the journal kept for containers restarted here (or handed out before it learnt to whom) are in use again', named(known));
    const shared = sharedAddresses(current);
    if (shared.length) log.error('IPAM: Docker shows one address on several containers; one keeps it, move the others (docker network disconnect/connect)', { shared });
    this.done = true;
    for (const w of this.waiters.splice(0)) w();
  }
}
