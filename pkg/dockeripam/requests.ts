// What the agent's address book keeps in memory about `docker run --ip` requests, per
// MacvlanNet: the addresses live requests wait for, and the controller's refusals of them
// (status.nodes[].refusedRequests). Neither is journalled: a request dies with the process,
// and the refusals are read again from the status at every start.

/** Addresses per MacvlanNet that --ip requests in flight wait for (asked, not yet handed out nor given up on). */
export class AwaitedAddresses {
  private readonly byNet = new Map<string, Set<string>>();

  of(mvn: string): ReadonlySet<string> { return this.byNet.get(mvn) ?? new Set(); }

  add(mvn: string, ip: string): void {
    const s = this.byNet.get(mvn) ?? new Set<string>();
    this.byNet.set(mvn, s.add(ip));
  }

  delete(mvn: string, ip: string): void {
    const s = this.byNet.get(mvn);
    if (s?.delete(ip) && !s.size) this.byNet.delete(mvn);
  }
}

/** The controller's refusals per MacvlanNet: address -> why it will not be granted to this node. */
export class Refusals {
  private readonly byNet = new Map<string, ReadonlyMap<string, string>>();

  /** Sets them; whether they changed (a request waiting for its address then looks again). */
  set(mvn: string, refused: ReadonlyMap<string, string> | undefined): boolean {
    const before = this.byNet.get(mvn);
    const same = (before?.size ?? 0) === (refused?.size ?? 0) && [...(refused ?? [])].every(([ip, why]) => before?.get(ip) === why);
    if (refused?.size) this.byNet.set(mvn, refused); else this.byNet.delete(mvn);
    return !same;
  }

  get(mvn: string, ip: string): string | undefined { return this.byNet.get(mvn)?.get(ip); }
}
