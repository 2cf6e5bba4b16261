// When each address claim went, for the address cooldown (address-cooldown.ts): from the
// deletes this controller saw (its own and the watch's, also while standing by), and from the
// release marks (ipam/release-mark.ts) of releases it did not see, written by the leader that
// did. The leader marks what it sees go (release-marks.ts: onRelease, cooling).
import type { ClaimRole, PoolType } from '../ipam/keys.js';
import { markAge, type ReleaseMark } from '../ipam/release-mark.js';
import { monotonicMs } from '../runtime/clock.js';

/** A claim that went, as the address cooldown's rule asks about it (address-cooldown.ts coolsFor). */
export interface ReleasedClaim { role: ClaimRole; nodeGone?: boolean; node?: string }

/** A release to mark: the address, and the mark's value. */
export interface Release extends ReleaseMark { type: PoolType; pool: string; ip: number }

type Record = { at: number } & ReleasedClaim;

export class ReleasedIndex {
  /** "<type>/<pool>/<ip>" -> when that address claim went (monotonic ms) and what it was */
  private readonly released = new Map<string, Record>();
  /** "<type>/<pool>" -> the addresses of that pool in `released`: a pool's status counts its own (coolingIn), not every pool's */
  private readonly byPool = new Map<string, Set<number>>();
  private readonly listeners = new Set<(r: Release) => void>();
  /** the map's size after its last sweep of cooled records (sweepIfGrown) */
  private sweptAt = 0;

  /** `cooldownMs`: the controller's --address-cooldown, after which a record is as none */
  constructor(private readonly cooldownMs: number) {}

  /** An address claim of the pool put (its address is taken: nothing cools) or deleted at monotonic `at`. */
  fileClaim(type: PoolType, pool: string, ip: number, gone: ReleasedClaim | undefined, at: number): void {
    const id = `${type}/${pool}/${ip}`;
    if (!gone) { this.drop(id); return; }
    this.put(id, { at, ...gone });
    this.sweepIfGrown();
    if (!this.listeners.size) return;
    const release: Release = { type, pool, ip, ...markOf(gone, Date.now() - (monotonicMs() - at)) };
    for (const fn of this.listeners) fn(release);
  }

  /**
   * A release mark read (a put, decoded). Its address claimed again since: nothing to learn. A
   * record this controller has of the address that still cools and is not older than the mark
   * stays (its own sight of the release, or a later one); else the mark's time counts: a later
   * release this controller missed (a relist after a compaction lost its claim's put and delete),
   * or the same release by a wall clock ahead of this one's (a longer cooldown, never a shorter).
   */
  fileMark(type: PoolType, pool: string, ip: number, mark: ReleaseMark, claimed: boolean): void {
    const id = `${type}/${pool}/${ip}`;
    const now = monotonicMs();
    const at = now - markAge(mark, Date.now());
    const known = this.released.get(id);
    if (claimed || (known && known.at >= at && now - known.at < this.cooldownMs)) return;
    const claim: ReleasedClaim = { role: mark.role, ...(mark.nodeGone && mark.node ? { nodeGone: true, node: mark.node } : {}) };
    this.put(id, { at, ...claim });
    this.sweepIfGrown();
  }

  /**
   * Drops the records that have cooled once the map doubled since the last sweep: only the
   * addresses a scan passes were dropped before (coolingUntil), so a deleted pool's stayed.
   */
  private sweepIfGrown(): void {
    if (this.released.size < 2 * this.sweptAt + 1024) return;
    const now = monotonicMs();
    for (const [id, r] of this.released) if (now - r.at >= this.cooldownMs) this.drop(id);
    this.sweptAt = this.released.size;
  }

  /**
   * Until when the address stays out of use after its claim went (monotonic ms), and what that
   * claim was, or undefined when it is free; who must wait it out is address-cooldown.ts's rule.
   */
  coolingUntil(type: PoolType, pool: string, ip: number, cooldownMs: number): ({ until: number } & ReleasedClaim) | undefined {
    // asked for every address a scan passes: nothing released, nothing to look up
    if (this.released.size === 0) return undefined;
    const id = `${type}/${pool}/${ip}`;
    const r = this.released.get(id);
    if (r === undefined) return undefined;
    if (monotonicMs() - r.at >= cooldownMs) { this.drop(id); return undefined; }
    return { until: r.at + cooldownMs, role: r.role, ...(r.nodeGone ? { nodeGone: true, node: r.node } : {}) };
  }

  /** The addresses of one pool still cooling down, and until when (monotonic ms) with what their claim was. */
  *coolingIn(type: PoolType, pool: string, cooldownMs: number): Iterable<{ ip: number; until: number } & ReleasedClaim> {
    const mono = monotonicMs();
    for (const ip of [...this.byPool.get(`${type}/${pool}`) ?? []]) {
      const r = this.released.get(`${type}/${pool}/${ip}`);
      if (r && mono - r.at < cooldownMs) yield { ip, until: r.at + cooldownMs, role: r.role, ...(r.nodeGone ? { nodeGone: true, node: r.node } : {}) };
    }
  }

  private put(id: string, r: Record): void {
    this.released.set(id, r);
    const [type, pool, ip] = splitId(id);
    const k = `${type}/${pool}`;
    this.byPool.set(k, (this.byPool.get(k) ?? new Set()).add(ip));
  }

  private drop(id: string): void {
    if (!this.released.delete(id)) return;
    const [type, pool, ip] = splitId(id);
    const k = `${type}/${pool}`;
    const ips = this.byPool.get(k);
    if (ips?.delete(ip) && !ips.size) this.byPool.delete(k);
  }

  /** The releases still cooling down, as marks (what a new leader marks that nobody may have). */
  *cooling(cooldownMs: number): Iterable<Release> {
    const mono = monotonicMs();
    const wall = Date.now();
    for (const [id, r] of this.released) {
      if (mono - r.at >= cooldownMs) { this.drop(id); continue; }
      const [type, pool, ip] = splitId(id);
      yield { type, pool, ip, ...markOf(r, wall - (mono - r.at)) };
    }
  }

  /** Calls `fn` for every claim seen to go from now on; returns what stops it. */
  onRelease(fn: (r: Release) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

function markOf(c: ReleasedClaim, releasedAtMs: number): ReleaseMark {
  return { role: c.role, releasedAtMs: Math.max(0, Math.round(releasedAtMs)), ...(c.node ? { node: c.node } : {}), ...(c.nodeGone ? { nodeGone: true } : {}) };
}

/** "<type>/<pool>/<ip>": a pool's name has no '/' (the key layout splits on it). */
function splitId(id: string): [PoolType, string, number] {
  const a = id.indexOf('/');
  const b = id.lastIndexOf('/');
  return [id.slice(0, a) as PoolType, id.slice(a + 1, b), Number(id.slice(b + 1))];
}
