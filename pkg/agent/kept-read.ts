// The rule of every read of the host the agent keeps between its passes (host-reads.ts: links,
// addresses, routes; nat-reads.ts: iptables, ip_forward): when a kept read is still good.
//
// A read is kept only while every watcher it depends on has subscribed to the kernel's events
// (a watcher prints nothing when it starts, and a change before its subscription is never told),
// and only until anything says what it read may have changed (changed(): a watcher's event, the
// agent's own changes, Docker's events, a watcher stopping, a resync). A read that was under way
// when such a word came is used by its caller but not kept: it may predate the change. Callers
// that ask while a read of the same generation is under way share it.

/** The host's watchers whose subscription a kept read may depend on (agent.ts, followKernel). */
export const IP_MONITOR = 'ip monitor';
export const NFT_MONITOR = 'nft monitor';

/** Where an answer came from: a program run (`kernel`) or the last read (`kept`). */
export type ReadFrom = 'kernel' | 'kept';

export class KeptRead<T> {
  private generation = 0;
  private readonly subscribed = new Set<string>();
  private kept?: T;
  private inFlight?: { generation: number; read: Promise<T> };
  /** reads answered by the kernel and from what was kept (the agent's metrics, tests) */
  readonly counts = { read: 0, kept: 0 };

  /**
   * `read`: the read itself (its answer is kept as it is: freeze it). `watchers`: the names of
   * the watchers that must all be subscribed for a read to be kept. `count`: each answer's origin.
   */
  constructor(
    private readonly read: () => Promise<T>,
    private readonly watchers: readonly string[],
    private readonly count?: (from: ReadFrom) => void,
  ) {}

  /** something the read covers may have changed: the next read goes to the kernel */
  changed(): void {
    this.generation++;
    this.kept = undefined;
  }

  /** watcher `name` has subscribed (true) or stopped (false); either way what was kept goes */
  watching(name: string, on: boolean): void {
    if (on) this.subscribed.add(name); else this.subscribed.delete(name);
    this.changed();
  }

  private keeping(): boolean {
    return this.watchers.every((w) => this.subscribed.has(w));
  }

  async get(): Promise<T> {
    if (this.kept !== undefined) { this.counts.kept++; this.count?.('kept'); return this.kept; }
    const generation = this.generation;
    // a read of this generation under way answers this caller too
    if (this.inFlight?.generation === generation) return this.inFlight.read;
    const read = this.read().then((v) => {
      if (this.keeping() && generation === this.generation) this.kept = v;
      return v;
    });
    this.inFlight = { generation, read };
    this.counts.read++;
    this.count?.('kernel');
    try { return await read; } finally { if (this.inFlight?.read === read) this.inFlight = undefined; }
  }
}
