// The host's two watchers, `ip monitor` (links, addresses, routes, IP settings) and
// `nft monitor rules`, and what each of their words does to the reads the agent keeps of the
// host between passes (host-reads.ts, nat-reads.ts: kept only while the watchers they depend on
// are subscribed, dropped at a word of a change). What the words wake is the agent's (hooks).
import type { Logger } from '../log.js';
import { monitor, rulesMonitor, type MonitorEvent } from '../netlink/monitor.js';
import type { AgentDataplane } from './dataplane.js';
import { IP_MONITOR, NFT_MONITOR } from './kept-read.js';

export interface HostWatchHooks {
  log: Logger;
  /** a line of the `ip monitor` (what was kept is dropped first) */
  kernelEvent(e: MonitorEvent): void;
  /** a line of the `nft monitor`, or the monitor running again after it exited: iptables may have changed */
  rulesChanged(): void;
  /** look at everything again: the `ip monitor` restarted or lost events */
  resyncAll(): void;
}

/** Starts both watchers; returns their closers. */
export function watchHost(dp: Pick<AgentDataplane, 'target' | 'hostChanges' | 'natChanges'>, hooks: HostWatchHooks): Array<() => Promise<void>> {
  return [watchKernel(dp, hooks), watchRules(dp, hooks)];
}

function watchKernel(dp: Pick<AgentDataplane, 'target' | 'hostChanges' | 'natChanges'>, { log, kernelEvent, resyncAll }: HostWatchHooks): () => Promise<void> {
  const watching = (on: boolean) => { dp.hostChanges?.watching(on); dp.natChanges?.watching(IP_MONITOR, on); };
  const m = monitor(dp.target, (e) => {
    dp.hostChanges?.changed();
    dp.natChanges?.kernelEvent(e);
    kernelEvent(e);
  }, {
    netconf: true,
    // the host's reads (and the kept ip_forward) are kept only while this monitor is subscribed
    onSubscribed: () => watching(true),
    onExit: () => watching(false),
    onRestart: (why) => { log.warn('kernel monitor restarted', { why }); resyncAll(); },
    onLineError: (err, line) => log.error('kernel monitor line not handled', { line, error: err.message }),
    onLost: (why) => { log.warn('kernel events lost (ip monitor overflowed): looking at everything again', { why }); resyncAll(); },
  });
  return () => { watching(false); return m.close(); };
}

/** iptables here is iptables-nft: a rule removed by hand (or re-ordered by Docker) shows up. */
function watchRules(dp: Pick<AgentDataplane, 'target' | 'natChanges'>, { log, rulesChanged }: HostWatchHooks): () => Promise<void> {
  const nat = dp.natChanges;
  const r = rulesMonitor(dp.target, () => { nat?.rulesChanged(); rulesChanged(); }, {
    // the NAT pass's iptables reads are kept only while this monitor is subscribed; a pass then
    // sees what changed between its start and its subscription, which no line tells
    onSubscribed: () => { nat?.watching(NFT_MONITOR, true); rulesChanged(); },
    onExit: () => nat?.watching(NFT_MONITOR, false),
    onMissing: (why) => log.warn('nft not available; iptables drift heals at the periodic resync only', { why }),
    // it shows changes only: what changed while none ran is found by a look now
    onRestart: (why) => { log.warn('nft monitor restarted', { why }); nat?.rulesChanged(); rulesChanged(); },
    onLineError: (err, line) => log.error('nft monitor line not handled', { line, error: err.message }),
  });
  return () => { nat?.watching(NFT_MONITOR, false); return r.close(); };
}
