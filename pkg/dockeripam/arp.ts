// Look before use on a shared L2 (RFC 5227): before an address goes to a container, an ARP
// probe (sender 0.0.0.0) asks whether anyone answers for it; after a container got it, a
// gratuitous ARP tells the segment where it lives now. Both use `arping` from iputils
// (Debian iputils-arping) inside the managed host's (or the container's) network namespace.
import { execa } from 'execa';
import { inNetns, type NetTarget } from '../netlink/target.js';

export type ProbeResult = 'free' | 'answered' | 'unavailable';

/** arping -D: exit 0 when nobody answered, 1 when someone did. */
export async function arpProbe(target: NetTarget, dev: string, ip: string, timeoutMs = 4000): Promise<ProbeResult> {
  const [cmd, args] = inNetns(target, 'arping', ['-D', '-q', '-c', '2', '-w', '2', '-I', dev, ip]);
  try {
    const r = await execa(cmd, args, { reject: false, timeout: timeoutMs });
    if (r.exitCode === 0) return 'free';
    if (r.exitCode === 1 && !r.stderr.trim()) return 'answered';
    return 'unavailable';
  } catch {
    return 'unavailable';
  }
}

/** Unsolicited ARP (-U) from the interface that now holds ip. Best effort. */
export async function gratuitousArp(target: NetTarget, dev: string, ip: string, timeoutMs = 3000): Promise<boolean> {
  const [cmd, args] = inNetns(target, 'arping', ['-U', '-q', '-c', '1', '-w', '1', '-I', dev, '-s', ip, ip]);
  const r = await execa(cmd, args, { reject: false, timeout: timeoutMs }).catch(() => undefined);
  return r?.exitCode === 0;
}
