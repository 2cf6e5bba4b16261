// Probes this node's `external` marks again once their quarantine is over (./external-marks.ts):
// a host that was on the segment for a while (a laptop, a device being set up) no longer takes
// the address away for as long as the Node exists. Bounded: a few marks a pass, one probe at a
// time, each with a deadline; a pass never overlaps the one before.
import type { Logger } from '../log.js';
import { externalReprobes } from '../metrics/metrics.js';
import { monotonicMs } from '../runtime/clock.js';
import { withTimeout } from '../runtime/watch-wait.js';
import type { ProbeResult } from './arp.js';
import type { ExternalMarks } from './external-marks.js';

/** Most marks probed again in one pass, over all MacvlanNets: a segment full of marks is looked at a few at a time. */
export const RECHECKS_PER_PASS = 8;
/** Longest one probe may take: arping -D -c 2 -w 2 under its own 4 s timeout, and nsenter. */
export const RECHECK_PROBE_MS = 6000;

/** How often due marks are looked for: a quarter of the quarantine, between 250 ms and 30 s. */
export function recheckTickMs(quarantineMs: number): number {
  return Math.min(30_000, Math.max(250, Math.floor(quarantineMs / 4)));
}

export interface ExternalRecheckOptions {
  marks: ExternalMarks;
  /** the ARP probe of ip on the MacvlanNet's parent here (../agent/ipam-host.ts) */
  probe(mvn: string, ip: string): Promise<ProbeResult>;
  /** mvn's report changed (a mark found free): written to etcd */
  changed(mvn: string): void;
  log: Logger;
  tickMs: number;
  perPass?: number;
}

export class ExternalRecheck {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private closed = false;

  constructor(private readonly o: ExternalRecheckOptions) {}

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => { void this.pass(); }, this.o.tickMs);
    this.timer.unref();
  }

  /** No pass begins after this; a probe in flight ends, and its outcome is dropped. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  /** One pass: at most perPass marks due now, the longest due first; returns how many were probed. */
  async pass(): Promise<number> {
    if (this.running || this.closed) return 0;
    this.running = true;
    let done = 0;
    try {
      const max = this.o.perPass ?? RECHECKS_PER_PASS;
      for (const mvn of this.o.marks.networks()) {
        for (const ip of this.o.marks.dueNow(mvn, monotonicMs(), max - done)) {
          if (this.closed) return done;
          await this.recheck(mvn, ip);
          done++;
        }
      }
      return done;
    } finally {
      this.running = false;
    }
  }

  private async recheck(mvn: string, ip: string): Promise<void> {
    const r: ProbeResult = await withTimeout(this.o.probe(mvn, ip), RECHECK_PROBE_MS, `ARP probe of ${ip}`).catch(() => 'unavailable' as const);
    externalReprobes.inc({ result: r });
    if (this.closed) return;
    if (r === 'free' && this.o.marks.clear(mvn, ip)) {
      this.o.log.info('address marked external no longer answers an ARP probe; reported free to the controller', { macvlanNet: mvn, ip });
      this.o.changed(mvn);
      return;
    }
    // still answered, or no look was possible (no arping, the parent not there): another quarantine
    this.o.marks.rearm(mvn, ip, monotonicMs());
  }
}
