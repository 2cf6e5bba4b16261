// What the kernel here can do (probeCapabilities in node.ts makes and deletes a link of each
// kind), probed again when the answer may have changed: on another underlay interface, and now
// and then while a capability is missing (an admin may load 8021q or macvlan under a running
// agent). A probe costs two `ip` runs, so a host that has everything probes once per interface.
import { monotonicMs } from '../runtime/clock.js';

/** How often a missing capability is probed for again. */
export const CAPABILITY_REPROBE_MS = 60_000;

export type Capabilities = Record<string, boolean>;

export interface CapabilityRead { found: Capabilities; changed: boolean }

export class NodeCapabilities {
  private last?: { iface: string | undefined; found: Capabilities; at: number };

  constructor(
    private readonly probe: (iface: string | undefined) => Promise<Capabilities>,
    private readonly reprobeMs = CAPABILITY_REPROBE_MS,
    private readonly now: () => number = monotonicMs,
  ) {}

  /**
   * The capabilities on `iface`, probed when due (never yet, another interface, or one missing
   * for reprobeMs); `changed` when they differ from the last known. A probe that throws keeps
   * the last answer (nothing, before the first).
   */
  async read(iface: string | undefined): Promise<CapabilityRead> {
    const last = this.last;
    if (last && !this.due(last, iface)) return { found: last.found, changed: false };
    let found: Capabilities;
    try {
      found = await this.probe(iface);
    } catch {
      found = last?.found ?? {};
    }
    this.last = { iface, found, at: this.now() };
    return { found, changed: last !== undefined && !sameCapabilities(last.found, found) };
  }

  private due(last: { iface: string | undefined; found: Capabilities; at: number }, iface: string | undefined): boolean {
    if (last.iface !== iface) return true;
    return Object.values(last.found).some((v) => !v) && this.now() - last.at >= this.reprobeMs;
  }
}

export function sameCapabilities(a: Capabilities, b: Capabilities): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}
