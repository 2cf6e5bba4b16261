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

/**
 * The key under which the refusals hold the controller's word on a request without --ip (any
 * address): the pool is used up (status.poolUsedUp for a part marked usedUp, ./used-up.ts). Never an address.
 */
export const ANY_ADDRESS = '*';

/** The controller's refusals per MacvlanNet: address (or ANY_ADDRESS) -> why it will not be granted to this node. */
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

/**
 * A refusal as a request waiting for the controller reads it. One already there when the
 * request comes may be an earlier request's, made before things changed (the address freed, a
 * container gone): it counts once the controller has looked again (it went and came back), or
 * at the request's deadline as the reason. One that comes while the request waits counts at once.
 */
export class RefusalWatch {
  private fresh: boolean;

  constructor(private readonly read: () => string | undefined) { this.fresh = read() === undefined; }

  /** The refusal that counts now, if any. */
  counts(): string | undefined {
    const why = this.read();
    if (why === undefined) this.fresh = true;
    return this.fresh ? why : undefined;
  }

  /** What the controller says now, whether it counts or not: the reason given at the deadline. */
  last(): string | undefined { return this.read(); }
}

/**
 * Requests waiting for a MacvlanNet's pool to change (a new address, a refusal), woken all at
 * once. A wait that times out leaves the list at once: a request retried for minutes against a
 * pool that never changes would otherwise leave a resolver behind per attempt.
 */
export class PoolChanges {
  private readonly waiting = new Map<string, Set<() => void>>();

  /** Resolves at the next wake(mvn), or after `ms`. */
  next(mvn: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiting.get(mvn) ?? new Set<() => void>();
      this.waiting.set(mvn, set);
      const done = () => { clearTimeout(timer); this.leave(mvn, done); resolve(); };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  wake(mvn: string): void {
    for (const done of [...this.waiting.get(mvn) ?? []]) done();
  }

  /** requests waiting on `mvn` now (tests) */
  count(mvn: string): number { return this.waiting.get(mvn)?.size ?? 0; }

  private leave(mvn: string, done: () => void): void {
    const set = this.waiting.get(mvn);
    if (set?.delete(done) && !set.size) this.waiting.delete(mvn);
  }
}
