// Which stopped container a request without --ip comes from (AddressBook.guess): Docker's
// RequestAddress never says, but Docker holds a container's lock while it starts it, and its
// inspect of that container waits for the same lock (docs/design.md, "A request's 20 s bound").
// So, while a request is answered, the stopped containers this node keeps addresses for are
// inspected at once, and Docker is pinged with them: one whose inspect is still unanswered
// STARTING_PROBE_MS after the ping answered (or as long as the ping took, if longer) is the one
// Docker is starting (`docker start`, a restart policy), and only such a one gets its kept
// address back. A slow Docker (loaded, just restored) answers every inspect late, and the ping
// as late: measured from the ping's answer, an inspect answered about as late as it is no
// start. A ping not answered within STARTING_PING_MS says Docker is too slow to tell: no kept
// address goes out (the container started gets a free one: the agent moves it home later). A brand-new container (`docker
// run`: Docker holds the new container's lock, not theirs) never gets a kept address, however
// soon after the stop it asks; a kept address stays kept until its container is removed (Docker's `destroy` event) or taken off the
// network (`docker network disconnect`: ../agent/reconcilers/docker-ipam.ts, leftNetwork),
// however long it waits.
import type { AddressBook } from './book.js';
import { monotonicMs } from '../runtime/clock.js';
import { XnetIpamError } from './errors.js';
import { usedUpError } from './used-up.js';

/** How long the inspect of a stopped container may stay unanswered after Docker answered a ping sent with it (at least: as long as the ping took). */
export const STARTING_PROBE_MS = 1000;

/**
 * How long the ping the starting check measures against may take. Past it, Docker is too slow
 * for any inspect to tell (a `docker start` gets a free address, moved home later); within it,
 * a `docker start` waits up to twice the ping's time for its own address.
 */
export const STARTING_PING_MS = 5000;

/** Whether Docker is starting this container now (its inspect waits on the container's lock). */
export type StartingCheck = (container: string) => Promise<boolean>;

/** The stopped containers with an address kept in this node's pool that Docker is starting now. */
export async function startingOwners(book: AddressBook, mvn: string, starting: StartingCheck | undefined): Promise<Set<string>> {
  const owners = new Set<string>();
  if (!starting) return owners;
  const kept = book.assigned(mvn).filter((a) => a.released !== undefined && a.container && !a.pinned && book.inPool(mvn, a.ip));
  const ids = [...new Set(kept.map((a) => a.container!))];
  // every check starts here, in one go: they share one ping of Docker (inspectWaits)
  const seen = await Promise.all(ids.map((id) => starting(id).catch(() => false)));
  ids.forEach((id, i) => { if (seen[i]) owners.add(id); });
  return owners;
}

/**
 * An inspect still unanswered `ms` (or as long as the ping took, if longer) after Docker
 * answered a ping sent with it: Docker holds the container (it is starting it; the lock is held
 * until this plugin answers). Whatever else slows Docker slows the ping too: an inspect
 * answered late but within that slack of the ping did not wait on the lock, and a ping not
 * answered within `pingMs` says Docker is too slow to tell: no inspect counts then. Checks
 * begun in one go (startingOwners) share one ping.
 */
export function inspectWaits(inspect: (id: string) => Promise<unknown>, ping: () => Promise<unknown>, ms = STARTING_PROBE_MS, pingMs = STARTING_PING_MS): StartingCheck {
  let shared: Promise<number | undefined> | undefined;
  const reference = () => {
    if (!shared) {
      shared = answerTime(ping, pingMs);
      queueMicrotask(() => { shared = undefined; });
    }
    return shared;
  };
  return (id) => new Promise<boolean>((resolve) => {
    let answered = false;
    const done = () => { answered = true; resolve(false); };
    inspect(id).then(done, done);
    void reference().then((took) => {
      if (took === undefined) { resolve(false); return; }
      const timer = setTimeout(() => resolve(!answered), Math.max(ms, took));
      timer.unref?.();
    });
  });
}

/** How long f's promise took to fulfil, if within ms (a rejection, or none in time: undefined). */
function answerTime(f: () => Promise<unknown>, ms: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const t0 = monotonicMs();
    const timer = setTimeout(() => resolve(undefined), ms);
    timer.unref?.();
    const end = (up: boolean) => { clearTimeout(timer); resolve(up ? monotonicMs() - t0 : undefined); };
    Promise.resolve().then(f).then(() => end(true), () => end(false));
  });
}

/** Whether Docker no longer has this container (`docker rm`: the agent's sync frees its kept address in a moment). */
export type GoneCheck = (container: string) => Promise<boolean>;

/**
 * Whether a container this node keeps an address for is gone already: its address is about to
 * be freed (the agent's sync, on Docker's destroy event), so the controller's word that the pool
 * is used up (ANY_ADDRESS) does not hold here: `docker rm` then `docker run` at once was
 * refused, the address freed a moment later. Asked only when that word would refuse a request.
 */
export async function keptOwnerGone(book: AddressBook, mvn: string, gone: GoneCheck | undefined): Promise<boolean> {
  if (!gone) return false;
  const kept = book.assigned(mvn).filter((a) => a.released !== undefined && a.container && book.inPool(mvn, a.ip));
  const seen = await Promise.all([...new Set(kept.map((a) => a.container!))].map((id) => gone(id).catch(() => false)));
  return seen.some(Boolean);
}

/** Addresses of this node's pool kept for stopped containers, named for a refusal. */
export function keptInPool(book: AddressBook, mvn: string): string[] {
  return book.assigned(mvn).filter((a) => a.released !== undefined && book.inPool(mvn, a.ip))
    .map((a) => `${a.ip} (${a.name ?? a.container?.slice(0, 12) ?? 'a container'})`);
}

/**
 * Why a request without --ip got no address within its bound, as it happened: only a pool
 * with nothing left to try is exhausted. One whose addresses kept leaving (or being taken)
 * while looked at, up to the last, changed under the request (it said "is ipRange used up?"
 * of a pool with room); one whose addresses could not be looked at in time was busy probing.
 * One whose pool is held by stopped containers' kept addresses says so, not "ipRange used up".
 * One the controller said is used up (`usedUp`, a word there when the request came: ./requests.ts
 * RefusalWatch) gives that as the reason.
 */
export function outOfTime(mvn: string, waitMs: number, why: { left: number; last: boolean; unchecked: boolean; kept: string[]; usedUp?: string }): XnetIpamError {
  const within = `within ${waitMs} ms of the request`;
  if (why.last) {
    return new XnetIpamError('PoolChanging', `no address on MacvlanNet ${mvn} stayed in this node's pool long enough to be handed out: `
      + `${why.left} it looked at ${within}, the last one too, left the pool or were taken while their ARP probe ran `
      + '(the controller was moving addresses between nodes); the pool is not used up: try again');
  }
  if (why.unchecked) return new XnetIpamError('Busy', `no address on MacvlanNet ${mvn} could be checked by ARP ${within}; try again`);
  if (why.usedUp) return usedUpError(mvn, why.usedUp, why.kept);
  const note = why.left ? `; ${why.left} it had given left again while looked at` : '';
  if (why.kept.length) {
    return new XnetIpamError('PoolExhausted', `no free address on MacvlanNet ${mvn} for this node (the controller gave none in time${note}; `
      + `${why.kept.length} of this node's addresses are kept for stopped containers, each until it is removed: ${why.kept.join(', ')}; `
      + `docker rm one to free its address, or xctl describe mvn ${mvn})`);
  }
  return new XnetIpamError('PoolExhausted', `no free address on MacvlanNet ${mvn} for this node (the controller gave none in time${note}; is ipRange used up? xctl describe mvn ${mvn} says why)`);
}
