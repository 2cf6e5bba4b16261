// The host's links, addresses and IPv4 main table as the agent's passes read them: one `ip` per
// read, and none while nothing changed. Every pass used to read the host anew (two forks each,
// hundreds a minute on a busy host); most found what the pass before it had found.
//
// A read is kept only while the kernel monitor of the host (agent.ts, followKernel) has
// subscribed to its link, address and route events, and only until anything says the host may
// have changed: any event of that monitor, any Docker event (Docker changes the host before it
// tells), the agent's own changes (Dataplane.execute), the monitor exiting or overflowing, a
// resync. A read that was under way when such a word came is used by its caller but not kept.
// The kept state is frozen: a caller that changed it would change every later pass's view.
import type { HostState, IpRunner } from '../netlink/ip.js';
import type { Addr, Link, Route } from '../netlink/types.js';
import { hostReads } from '../metrics/metrics.js';

/** What tells HostReads that what it keeps may be stale (the agent, the dataplane). */
export interface HostChanges {
  /** something on the host may have changed: the next read goes to the kernel */
  changed(): void;
  /** the host's kernel monitor has subscribed (true) or stopped (false): reads are kept only while it runs */
  watching(on: boolean): void;
}

function frozen(s: HostState): HostState {
  for (const list of [s.links, s.addrs, s.routes] as object[][]) { for (const x of list) Object.freeze(x); Object.freeze(list); }
  return Object.freeze(s);
}

export class HostReads implements HostChanges {
  private generation = 0;
  private watched = false;
  private kept?: HostState;
  private inFlight?: { generation: number; read: Promise<HostState> };
  /** reads answered by the kernel and from what was kept (the agent's metrics, tests) */
  readonly counts = { read: 0, kept: 0 };

  constructor(private readonly runner: Pick<IpRunner, 'state' | 'routes'>) {}

  changed(): void {
    this.generation++;
    this.kept = undefined;
  }

  watching(on: boolean): void {
    this.watched = on;
    this.changed();
  }

  async state(): Promise<HostState> {
    if (this.kept) { this.counts.kept++; hostReads.inc({ from: 'kept' }); return this.kept; }
    const generation = this.generation;
    // a read of this generation under way answers this caller too
    if (this.inFlight?.generation === generation) return this.inFlight.read;
    const read = this.runner.state().then((s) => {
      const state = frozen(s);
      if (this.watched && generation === this.generation) this.kept = state;
      return state;
    });
    this.inFlight = { generation, read };
    this.counts.read++;
    hostReads.inc({ from: 'kernel' });
    try { return await read; } finally { if (this.inFlight?.read === read) this.inFlight = undefined; }
  }

  async linksAndAddrs(): Promise<{ links: Link[]; addrs: Addr[] }> {
    const { links, addrs } = await this.state();
    return { links, addrs };
  }

  async links(): Promise<Link[]> { return (await this.state()).links; }

  async addrs(): Promise<Addr[]> { return (await this.state()).addrs; }

  /** the main table as kept; another table is read from the kernel */
  async routes(table = 'main'): Promise<Route[]> {
    return table === 'main' ? (await this.state()).routes : this.runner.routes(table);
  }
}
