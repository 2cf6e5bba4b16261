// dockerIPAM xnet: this node's `external` marks as its part of the MacvlanNet's status lists
// them (status.nodes[].external), with when the controller made each (externalMarkedAt, Unix
// seconds in the same order), and the IPAM book following them: each is probed again a
// quarantine after it was made, also by an agent started since (../dockeripam/external-marks.ts).
import type { AddressBook } from '../dockeripam/book.js';
import { markAges } from '../dockeripam/external-marks.js';
import { FIELD } from './status-fields.js';
import { monotonicMs } from '../runtime/clock.js';

/** The most of this node's external marks read from its part: more are probed again once the first ones are cleared. */
const MAX_EXTERNAL_READ = 4096;

/**
 * The part's marks and their times, paired before anything is dropped: an entry that is no
 * address goes with its time; times that do not pair with the marks (another length, no list)
 * are dropped whole, and the marks are then counted from when the agent first sees them.
 */
export function readMarks(ns: Record<string, unknown>): { external?: string[]; externalMarkedAt?: number[] } {
  if (!Array.isArray(ns.external)) return {};
  const ips = (ns.external as unknown[]).slice(0, MAX_EXTERNAL_READ);
  const raw = ns.externalMarkedAt;
  const times = Array.isArray(raw) && raw.length === (ns.external as unknown[]).length ? (raw as unknown[]) : undefined;
  const external: string[] = [];
  const at: number[] = [];
  ips.forEach((a, i) => {
    if (typeof a !== 'string' || !FIELD.ipv4.safeParse(a).success) return;
    external.push(a);
    const t = times?.[i];
    at.push(typeof t === 'number' && Number.isSafeInteger(t) && t > 0 ? t : 0);
  });
  return times ? { external, externalMarkedAt: at } : { external };
}

/** The book follows the node's marks on mvn (ExternalMarks.follow); true when its cleared list changed. */
export function followMarks(book: Pick<AddressBook, 'marks'>, mvn: string, part: { external?: string[]; externalMarkedAt?: number[] } | undefined, wallNowMs = Date.now()): boolean {
  const marks = part?.external ?? [];
  return book.marks.follow(mvn, marks, monotonicMs(), markAges(marks, part?.externalMarkedAt, wallNowMs));
}
