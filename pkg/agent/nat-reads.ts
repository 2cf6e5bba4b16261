// The NAT pass's reads of its host: the nat and filter tables (two `iptables-save`) and
// net.ipv4.ip_forward (one `sysctl`), each through nsenter. Every pass used to run all three,
// also a pass an etcd change started that found what the pass before it had found.
//
// Each is kept by kept-read.ts's rule, under its own watcher: the tables while the host's
// `nft monitor rules` has subscribed (iptables here is iptables-nft, so any rule added or
// deleted, by iptables, iptables-restore, nft or dockerd, prints a line; measured in a lab
// namespace), ip_forward while the host's `ip monitor ... netconf` has (a write of ip_forward in
// the namespace prints `[NETCONF]inet all forwarding on|off`, measured too). Both are dropped by
// any Docker event (dockerd rewrites its chains as networks and containers come and go), by the
// agent's own changes (Dataplane.execute: a Docker network it makes brings Docker's rules), by
// a watcher stopping and by every resync, which so always reads anew; the tables by every line of
// the nft monitor, ip_forward by a forwarding line of the ip monitor. Not told, so found at the
// resync only (as before these reads were kept: no pass ran for them): a user chain made or
// deleted with no rule in it (`nft monitor rules` prints rules only). Without nft the tables are
// never kept. The kept dumps are frozen: no pass can change another's view.
import type { ChainDump } from '../netlink/iptables.js';
import type { MonitorEvent } from '../netlink/monitor.js';
import { natReads } from '../metrics/metrics.js';
import { isHostForwardingLine } from './events.js';
import { IP_MONITOR, KeptRead, NFT_MONITOR } from './kept-read.js';

export interface NatTables { nat: ChainDump; filter: ChainDump }

/** What tells NatReads that what it keeps may be stale (the agent, the dataplane). */
export interface NatChanges {
  /** iptables or forwarding may have changed (a Docker event, the agent's own change, a resync) */
  changed(): void;
  /** a line of the host's `ip monitor`: a change of its IPv4 forwarding drops the kept ip_forward */
  kernelEvent(e: MonitorEvent): void;
  /** a line of the host's `nft monitor rules`: a rule changed, the kept tables go */
  rulesChanged(): void;
  /** the host's `ip monitor` or `nft monitor` has subscribed (true) or stopped (false) */
  watching(watcher: typeof IP_MONITOR | typeof NFT_MONITOR, on: boolean): void;
}

function frozen(d: ChainDump): ChainDump {
  for (const rules of Object.values(d.rules)) Object.freeze(rules);
  Object.freeze(d.rules);
  Object.freeze(d.chains);
  return Object.freeze(d);
}

export class NatReads implements NatChanges {
  private readonly tablesRead: KeptRead<NatTables>;
  private readonly forwardRead: KeptRead<string>;

  /** `save`: one table's dump (`iptables-save -t`); `ipForward`: net.ipv4.ip_forward's value */
  constructor(save: (table: string) => Promise<ChainDump>, ipForward: () => Promise<string>) {
    this.tablesRead = new KeptRead(async () => {
      const [nat, filter] = await Promise.all([save('nat'), save('filter')]);
      return Object.freeze({ nat: frozen(nat), filter: frozen(filter) });
    }, [NFT_MONITOR], (from) => natReads.inc({ read: 'iptables', from }));
    this.forwardRead = new KeptRead(ipForward, [IP_MONITOR], (from) => natReads.inc({ read: 'ip_forward', from }));
  }

  /** reads answered by the kernel and from what was kept (tests) */
  get counts(): { tables: { read: number; kept: number }; ipForward: { read: number; kept: number } } {
    return { tables: this.tablesRead.counts, ipForward: this.forwardRead.counts };
  }

  tables(): Promise<NatTables> { return this.tablesRead.get(); }

  ipForward(): Promise<string> { return this.forwardRead.get(); }

  changed(): void {
    this.tablesRead.changed();
    this.forwardRead.changed();
  }

  kernelEvent(e: MonitorEvent): void {
    if (e.object === 'netconf' && isHostForwardingLine(e.text)) this.forwardRead.changed();
  }

  rulesChanged(): void { this.tablesRead.changed(); }

  watching(watcher: typeof IP_MONITOR | typeof NFT_MONITOR, on: boolean): void {
    (watcher === IP_MONITOR ? this.forwardRead : this.tablesRead).watching(watcher, on);
  }
}
