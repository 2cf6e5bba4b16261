// Which turn in this node's pool an address is in: a new one begins each time the controller
// gives the address to the node (again). An ARP probe's outcome holds only for the turn it
// began in: one that ends after its address left the pool says nothing of the address when it
// comes back, as another node may have handed it to a container meanwhile (a Node deleted and
// made again gives its addresses to whichever node asks first). In memory: a probe in flight
// dies with its process, and an agent started again probes afresh (AddressBook's constructor).

export class PoolTurns {
  private readonly turns = new Map<string, number>();
  /** the turn of every address of a MacvlanNet not in `turns`: 0, or when the MacvlanNet was forgotten */
  private readonly since = new Map<string, number>();
  private last = 0;

  /** ip entered the pool of mvn: outcomes of probes begun before count for nothing. */
  began(mvn: string, ip: string): void { this.turns.set(`${mvn} ${ip}`, ++this.last); }

  /** ip's current turn (0: in the pool since the journal was read). */
  of(mvn: string, ip: string): number { return this.turns.get(`${mvn} ${ip}`) ?? this.since.get(mvn) ?? 0; }

  /** mvn is no longer served: its turns go, and every one begun before has ended. */
  forget(mvn: string): void {
    for (const k of this.turns.keys()) if (k.startsWith(`${mvn} `)) this.turns.delete(k);
    this.since.set(mvn, ++this.last);
  }
}
