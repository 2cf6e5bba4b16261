// What the kernel here can do (probeCapabilities in node.ts makes and deletes a link of each
// kind), probed again when the answer may have changed: on another underlay interface, and now
// and then while a capability is missing (an admin may load 8021q or macvlan under a running
// agent). A probe costs two `ip` runs, so a host that has everything probes once per interface.
import { monotonicMs } from '../runtime/clock.js';

/** How often a missing capability is probed for again. */
export const CAPABILITY_REPROBE_MS = 60_000;
/**
 * How soon a probe that gave no answer (a timeout: a loaded host) is made again, doubling with
 * each such probe in a row up to CAPABILITY_REPROBE_MS. It says nothing about the kernel, and
 * until an answer the Node reports no capability (a MacvlanNet's node part waits for one): a
 * minute of that for one slow `ip` was too long, and a probe every 5 s on a host whose `ip`
 * stays slow too many (the heartbeat waits for it).
 */
export const CAPABILITY_FAILED_REPROBE_MS = 5_000;

export type Capabilities = Record<string, boolean>;

export interface CapabilityRead { found: Capabilities; changed: boolean }

/** The last probe: where, what is known there, when, and how many probes in a row gave no answer. */
interface LastProbe { iface: string | undefined; found: Capabilities; at: number; failures: number }

export class NodeCapabilities {
  private last?: LastProbe;

  constructor(
    private readonly probe: (iface: string | undefined) => Promise<Capabilities>,
    private readonly reprobeMs = CAPABILITY_REPROBE_MS,
    private readonly now: () => number = monotonicMs,
    private readonly failedReprobeMs = CAPABILITY_FAILED_REPROBE_MS,
  ) {}

  /**
   * The capabilities on `iface`, probed when due (never yet, another interface, or one missing or
   * none known: after reprobeMs, or after failedReprobeMs doubling while probes give no answer);
   * `changed` when they differ from the last known.
   * On the same interface a capability once found stays: only the missing ones are asked about
   * again (a later probe can fail for a passing reason, e.g. a passthru macvlan holding the
   * parent). A probe that throws (no answer: a timeout) keeps what was known.
   */
  async read(iface: string | undefined): Promise<CapabilityRead> {
    const last = this.last;
    if (last && !this.due(last, iface)) return { found: last.found, changed: false };
    const known = last && last.iface === iface ? last.found : {};
    let found: Capabilities;
    let failures = 0;
    try {
      found = keepFound(known, await this.probe(iface));
    } catch {
      found = known;
      failures = (last && last.iface === iface ? last.failures : 0) + 1;
    }
    this.last = { iface, found, at: this.now(), failures };
    return { found, changed: last !== undefined && !sameCapabilities(last.found, found) };
  }

  private due(last: LastProbe, iface: string | undefined): boolean {
    if (last.iface !== iface) return true;
    // every capability found: found stays found, whatever a probe without an answer says
    const found = Object.values(last.found);
    if (found.length && found.every((v) => v)) return false;
    const wait = last.failures ? Math.min(this.reprobeMs, this.failedReprobeMs * 2 ** (last.failures - 1)) : this.reprobeMs;
    return this.now() - last.at >= wait;
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
