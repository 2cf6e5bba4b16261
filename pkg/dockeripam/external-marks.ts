// This node's `external` marks on each MacvlanNet (addresses that answered its ARP probe, which
// the controller then holds for no one: status.nodes[].external) and when each is looked at
// again. As a DHCP server treats an address a client declined (RFC 2131 DHCPDECLINE: held
// back, then offered again), a mark is not for good: after a quarantine the agent probes it
// again (./external-recheck.ts); no answer, and the node's report lists it as `cleared`, which
// the controller takes as the end of the mark; an answer, and the quarantine starts again.
// Pure and in memory, but a mark's quarantine is counted from when the controller made it
// (status.nodes[].externalMarkedAt, read as its age: markAges), so an agent started again
// probes at once what was marked a quarantine ago; a mark without a time that can be trusted
// is counted from when this agent first sees it.
import { MAX_CLEARED } from '../api/ipam-report.js';

/** Default quarantine of a mark before it is probed again (xnet-agent --external-quarantine). */
export const EXTERNAL_QUARANTINE_MS = 10 * 60_000;
/**
 * Each quarantine is lengthened by up to this fraction of it, at random: marks made in one
 * burst (a foreign host that answered for many addresses) are not all probed in one burst again.
 */
export const QUARANTINE_JITTER = 0.2;

/** When a mark seen (or found answering) at `now` is due for its next probe; `rand` in [0, 1). */
export function recheckAt(now: number, quarantineMs: number, rand: number): number {
  return now + quarantineMs + Math.floor(quarantineMs * QUARANTINE_JITTER * Math.min(Math.max(rand, 0), 1));
}

/**
 * How long ago each mark was made, by address, from the times the controller listed next to
 * them (Unix seconds, in their order). Untrusted: a time ahead of `wallNowMs` (clock skew, a
 * forged value) is as now, one that is no positive count (0: a mark of a controller before the
 * field) gives no age, and a list that does not pair with the marks gives none at all.
 */
export function markAges(marks: readonly string[], markedAt: readonly unknown[] | undefined, wallNowMs: number): Map<string, number> {
  const out = new Map<string, number>();
  if (!markedAt || markedAt.length !== marks.length) return out;
  marks.forEach((ip, i) => {
    const t = markedAt[i];
    if (typeof t === 'number' && Number.isSafeInteger(t) && t > 0) out.set(ip, Math.max(0, wallNowMs - t * 1000));
  });
  return out;
}

export class ExternalMarks {
  /** mvn -> mark -> when it is next probed (monotonic ms) */
  private readonly due = new Map<string, Map<string, number>>();
  /** mvn -> marks a probe found free, listed in the report until the controller drops them */
  private readonly freed = new Map<string, Set<string>>();

  constructor(private readonly quarantineMs = EXTERNAL_QUARANTINE_MS, private readonly rand: () => number = Math.random) {}

  /**
   * The controller's list of this node's marks on mvn, as it is now: a new one is due a
   * quarantine after it was made (`ages`: markAges; now when unknown), one no longer listed
   * (freed, taken back as a container's address, its Node deleted) is forgotten, and so is its
   * `cleared` entry. True when the cleared list changed.
   */
  follow(mvn: string, marks: readonly string[], now: number, ages: ReadonlyMap<string, number> = new Map()): boolean {
    const listed = new Set(marks);
    const due = this.due.get(mvn) ?? new Map<string, number>();
    for (const ip of [...due.keys()]) if (!listed.has(ip)) due.delete(ip);
    for (const ip of listed) if (!due.has(ip)) due.set(ip, recheckAt(now - (ages.get(ip) ?? 0), this.quarantineMs, this.rand()));
    if (due.size) this.due.set(mvn, due); else this.due.delete(mvn);
    const freed = this.freed.get(mvn);
    if (!freed) return false;
    const before = freed.size;
    for (const ip of [...freed]) if (!listed.has(ip)) freed.delete(ip);
    if (!freed.size) this.freed.delete(mvn);
    return freed.size !== before;
  }

  /** Marks due for a probe at `now`, the longest due first, at most `max` (none already found free). */
  dueNow(mvn: string, now: number, max: number): string[] {
    const freed = this.freed.get(mvn);
    // no more probes than the report has room to list as cleared (a pass begun at 250 probed 8)
    const room = MAX_CLEARED - (freed?.size ?? 0);
    if (room <= 0) return [];
    const out = [...(this.due.get(mvn) ?? [])].filter(([ip, at]) => at <= now && !freed?.has(ip)).sort((a, b) => a[1] - b[1]);
    return out.slice(0, Math.max(0, Math.min(max, room))).map(([ip]) => ip);
  }

  /** The probe was answered, or could not look: the mark stays, and its quarantine starts again. */
  rearm(mvn: string, ip: string, now: number): void {
    const due = this.due.get(mvn);
    if (due?.has(ip)) due.set(ip, recheckAt(now, this.quarantineMs, this.rand()));
  }

  /**
   * Nobody answered: the report lists ip as cleared. False when it is no mark of this node any
   * more, or the report lists MAX_CLEARED already (past it the report does not decode and the
   * controller ignores the node's whole report): the mark stays, probed again later.
   */
  clear(mvn: string, ip: string): boolean {
    if (!this.due.get(mvn)?.has(ip)) return false;
    const freed = this.freed.get(mvn) ?? new Set<string>();
    if (!freed.has(ip) && freed.size >= MAX_CLEARED) return false;
    freed.add(ip);
    this.freed.set(mvn, freed);
    return true;
  }

  /** What the report lists as cleared. */
  cleared(mvn: string): string[] { return [...this.freed.get(mvn) ?? []]; }

  networks(): string[] { return [...this.due.keys()]; }

  forget(mvn: string): void { this.due.delete(mvn); this.freed.delete(mvn); }
}
