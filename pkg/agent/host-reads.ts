// The host's links, addresses and IPv4 main table as the agent's passes read them: one `ip` per
// read, and none while nothing changed. Every pass used to read the host anew (two forks each,
// hundreds a minute on a busy host); most found what the pass before it had found.
//
// A read is kept only while the kernel monitor of the host (agent.ts, followKernel) has
// subscribed to its link, address and route events, and only until anything says the host may
// have changed: any event of that monitor, any Docker event (Docker changes the host before it
// tells), the agent's own changes (Dataplane.execute), the monitor exiting or overflowing, a
// resync. A read that was under way when such a word came is used by its caller but not kept.
// The kept state is frozen: a caller that changed it would change every later pass's view. When a
// kept read is still good is kept-read.ts's rule, which the NAT pass's reads share (nat-reads.ts).
import type { HostState, IpRunner } from '../netlink/ip.js';
import type { Addr, Link, Route } from '../netlink/types.js';
import { hostReads } from '../metrics/metrics.js';
import { IP_MONITOR, KeptRead } from './kept-read.js';

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
  private readonly read: KeptRead<HostState>;

  constructor(private readonly runner: Pick<IpRunner, 'state' | 'routes'>) {
    this.read = new KeptRead(async () => frozen(await runner.state()), [IP_MONITOR], (from) => hostReads.inc({ from }));
  }

  /** reads answered by the kernel and from what was kept (the agent's metrics, tests) */
  get counts(): { read: number; kept: number } { return this.read.counts; }

  changed(): void { this.read.changed(); }

  watching(on: boolean): void { this.read.watching(IP_MONITOR, on); }

  state(): Promise<HostState> { return this.read.get(); }

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
