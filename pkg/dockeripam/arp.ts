// Look before use on a shared L2 (RFC 5227): before an address goes to a container, an ARP
// probe (sender 0.0.0.0) asks whether anyone answers for it; after a container got it, a
// gratuitous ARP tells the segment where it lives now. Both use `arping` from iputils
// (Debian iputils-arping) inside the managed host's (or the container's) network namespace.
import { execa } from 'execa';
import type { Logger } from '../log.js';
import { arpProbes } from '../metrics/metrics.js';
import { inNetns, type NetTarget } from '../netlink/target.js';

export type ProbeResult = 'free' | 'answered' | 'unavailable';

/**
 * What arping says on stdout about an interface it cannot probe on, and says only without -q
 * (iputils 20221126): `Interface "eth1" is down` (exit 2), `Interface "lo" is not ARPable`
 * (exit 0, as if nobody had answered: nothing was asked).
 */
const CANNOT_PROBE_ON = /^Interface "[^"]*" is (?:down|not ARPable)$/m;

/**
 * arping -D: exit 0 when nobody answered, 1 when someone did. Anything else (no arping, no
 * packet socket: `RestrictAddressFamilies` without AF_PACKET, which nsenter's children inherit;
 * no such device; an interface down, or one without ARP, which exits 0 having sent nothing) is
 * 'unavailable', and onUnavailable hears why. Every probe is counted by result. Without -q, so
 * that arping says why it sent nothing; its other chatter on stdout is not read.
 */
export async function arpProbe(target: NetTarget, dev: string, ip: string,
  opts: { timeoutMs?: number; onUnavailable?: (why: string) => void } = {}): Promise<ProbeResult> {
  const [cmd, args] = inNetns(target, 'arping', ['-D', '-c', '2', '-w', '2', '-I', dev, ip]);
  // reject: false resolves every outcome (a failed spawn too: no exitCode); the catch is for the unforeseen
  const r = await execa(cmd, args, { reject: false, timeout: opts.timeoutMs ?? 4000 })
    .catch((e: Error) => ({ exitCode: undefined, stdout: '', stderr: '', shortMessage: e.message }));
  const cannot = CANNOT_PROBE_ON.exec(typeof r.stdout === 'string' ? r.stdout : '')?.[0];
  const result: ProbeResult = cannot ? 'unavailable' : r.exitCode === 0 ? 'free' : r.exitCode === 1 && !r.stderr.trim() ? 'answered' : 'unavailable';
  arpProbes.inc({ result });
  if (result === 'unavailable') opts.onUnavailable?.(r.stderr.trim() || cannot || r.shortMessage || `exit ${r.exitCode}`);
  return result;
}

/**
 * arping's words for an interface that does not exist in the namespace it looks in (iputils
 * 2022: "Device eth1.40 not available."; older ones: "unknown iface eth1.40"; ENODEV).
 */
const NO_SUCH_DEVICE = /Device \S+ not available|unknown iface|No such device/i;
/** what arping says of an interface that exists but cannot be probed on (CANNOT_PROBE_ON) */
const NOT_PROBEABLE = /^Interface "[^"]*" is (?:down|not ARPable)$/;

/**
 * The agent's probe: arpProbe, and the first probe that cannot look is logged (once: every
 * later one is only counted, xnet_arp_probes_total{result="unavailable"}). Such an address is
 * not held back: it goes to its container without a look at the segment. A parent that does
 * not exist (yet: a VLAN link the agent has not made, e.g. the journal's at start), is down or
 * has no ARP is no broken arping: said naming it and its state, once until a probe there looks,
 * and the warning about arping is kept for arping.
 */
export function arpProber(log: Logger): (target: NetTarget, dev: string, ip: string) => Promise<ProbeResult> {
  let warned = false;
  const missing = new Set<string>();
  return async (target, dev, ip) => {
    const r = await arpProbe(target, dev, ip, {
      onUnavailable: (why) => {
        const state = NO_SUCH_DEVICE.test(why) ? 'does not exist (yet)' : NOT_PROBEABLE.test(why) ? why.replace(/^Interface "[^"]*" /, '') : undefined;
        if (state) {
          if (!missing.has(dev)) log.info(`ARP probe cannot look: interface ${dev} ${state}; addresses of the MacvlanNets on it go to `
            + 'containers without a look at the segment until a probe there can look; said once until then, counted in xnet_arp_probes_total', { dev, ip, why });
          missing.add(dev);
          return;
        }
        if (warned) return;
        warned = true;
        log.warn('ARP probe unavailable: addresses go to containers without a look at the segment (needs arping from iputils-arping, '
          + 'and AF_PACKET sockets: RestrictAddressFamilies in the unit); logged once, counted in xnet_arp_probes_total', { dev, ip, why });
      },
    });
    if (r !== 'unavailable') missing.delete(dev);
    return r;
  };
}

/** Unsolicited ARP (-U) from the interface that now holds ip. Best effort. */
export async function gratuitousArp(target: NetTarget, dev: string, ip: string, timeoutMs = 3000): Promise<boolean> {
  const [cmd, args] = inNetns(target, 'arping', ['-U', '-q', '-c', '1', '-w', '1', '-I', dev, '-s', ip, ip]);
  const r = await execa(cmd, args, { reject: false, timeout: timeoutMs }).catch(() => undefined);
  return r?.exitCode === 0;
}
