// The revision of each entry of the address book (./book.ts), in memory only: a new number at
// every change of the entry (handed out, identified, learnt, kept, lent, dropped), so whoever
// read it and then waited (on Docker) can tell whether it is still the same entry. 0: untouched
// since the journal was read.

export class EntryRevisions {
  private readonly revs = new Map<string, number>();
  private last = 0;

  /** ip's entry on mvn as of now. */
  of(mvn: string, ip: string): number { return this.revs.get(`${mvn} ${ip}`) ?? 0; }

  /** ip's entry on mvn changed (or went): every older read of it is stale. */
  bump(mvn: string, ip: string): void { this.revs.set(`${mvn} ${ip}`, ++this.last); }
}
