// What the kernel here can do (probeCapabilities in node.ts makes and deletes a link of each
// kind), probed again when the answer may have changed: on another underlay interface, and now
// and then while a capability is missing (an admin may load 8021q or macvlan under a running
// agent). A probe costs two `ip` runs, so a host that has everything probes once per interface.
import { monotonicMs } from '../runtime/clock.js';

/** How often a missing capability is probed for again. */
export const CAPABILITY_REPROBE_MS = 60_000;
/**
 * How soon a probe that gave no answer (a timeout: a loaded host) is made again. It says nothing
 * about the kernel, and until an answer the Node reports no capability (a MacvlanNet's node part
 * waits for one): a minute of that for one slow `ip` was too long.
 */
export const CAPABILITY_FAILED_REPROBE_MS = 5_000;

export type Capabilities = Record<string, boolean>;

export interface CapabilityRead { found: Capabilities; changed: boolean }

export class NodeCapabilities {
  private last?: { iface: string | undefined; found: Capabilities; at: number; failed: boolean };

  constructor(
    private readonly probe: (iface: string | undefined) => Promise<Capabilities>,
    private readonly reprobeMs = CAPABILITY_REPROBE_MS,
    private readonly now: () => number = monotonicMs,
    private readonly failedReprobeMs = CAPABILITY_FAILED_REPROBE_MS,
  ) {}

  /**
   * The capabilities on `iface`, probed when due (never yet, another interface, one missing for
   * reprobeMs, the last probe without an answer for failedReprobeMs); `changed` when they differ
   * from the last known.
   * On the same interface a capability once found stays: only the missing ones are asked about
   * again (a later probe can fail for a passing reason, e.g. a passthru macvlan holding the
   * parent). A probe that throws (no answer: a timeout) keeps what was known.
   */
  async read(iface: string | undefined): Promise<CapabilityRead> {
    const last = this.last;
    if (last && !this.due(last, iface)) return { found: last.found, changed: false };
    const known = last && last.iface === iface ? last.found : {};
    let found: Capabilities;
    let failed = false;
    try {
      found = keepFound(known, await this.probe(iface));
    } catch {
      found = known;
      failed = true;
    }
    this.last = { iface, found, at: this.now(), failed };
    return { found, changed: last !== undefined && !sameCapabilities(last.found, found) };
  }

  private due(last: { iface: string | undefined; found: Capabilities; at: number; failed: boolean }, iface: string | undefined): boolean {
    if (last.iface !== iface) return true;
    const waited = this.now() - last.at;
    if (last.failed) return waited >= Math.min(this.failedReprobeMs, this.reprobeMs);
    return Object.values(last.found).some((v) => !v) && waited >= this.reprobeMs;
  }
}

/** The probe's answer, with what was found before on the same interface kept. */
function keepFound(known: Capabilities, probed: Capabilities): Capabilities {
  const out = { ...probed };
  for (const [k, v] of Object.entries(known)) if (v) out[k] = true;
  return out;
}

export function sameCapabilities(a: Capabilities, b: Capabilities): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}
