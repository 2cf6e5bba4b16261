// What the suite checks once a fault is over: traffic flowing on every flow, no difference
// between etcd and the hosts (`xctl lab verify`'s code, pkg/verify), no IPAM problem
// (`xctl ipam check`'s code, pkg/ipam/check), no address held by two containers.
import { hostDocker, hostExec } from '../../pkg/lab/index.js';
import { run } from '../../pkg/lab/run.js';
import { labIpamPlugin } from '../../pkg/lab/services.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { verifyHost, type Difference } from '../../pkg/verify/verify.js';
import type { ChaosLab } from './lab.js';
import { readStatus, silentFlows } from './prober.js';
import { sleep } from './workload.js';

export interface Settled {
  /** ms from the fault's end to the first moment every check held; undefined: not within the limit */
  convergeMs?: number;
  silent: string[];
  diffs: Difference[];
  ipamProblems: number;
  ipamText: string;
  extra?: string;
}

export async function verifyAll(c: ChaosLab): Promise<Difference[]> {
  const out: Difference[] = [];
  for (const h of c.hosts) {
    out.push(...await verifyHost({ node: h.name, netns: h.netns, dockerHost: h.dockerHost, ipamPlugin: labIpamPlugin(h), store: c.store }).catch((e) => [
      { host: h.name, what: 'verify', expected: 'a readable host', found: (e as Error).message },
    ]));
  }
  return out;
}

/**
 * Polls until every flow carries traffic, verify finds no difference, ipam check no problem
 * and the fault's own condition (`extra` returns why not yet, or undefined) holds.
 */
export async function waitSettled(c: ChaosLab, flows: string[], end: number, limitMs: number, extra?: () => Promise<string | undefined>): Promise<Settled> {
  let last: Settled = { silent: [], diffs: [], ipamProblems: 0, ipamText: '' };
  while (Date.now() - end < limitMs) {
    const silent = silentFlows(readStatus(c.lab, c.hosts), flows, Date.now());
    if (silent.length === 0) {
      const [diffs, ipam, why] = await Promise.all([verifyAll(c), ipamCheck(c.admin).catch((e) => ({ problems: 1, text: (e as Error).message })), extra?.()]);
      const t = Date.now();
      last = { silent, diffs, ipamProblems: ipam.problems, ipamText: ipam.text, extra: why };
      if (!diffs.length && !ipam.problems && !why) return { ...last, convergeMs: Math.max(0, t - end) };
    } else {
      last = { ...last, silent };
    }
    await sleep(250);
  }
  return last;
}

/** Every IPv4 address inside every running container of every host; those held twice. */
export async function duplicateAddresses(c: ChaosLab): Promise<string[]> {
  const seen = new Map<string, string[]>();
  for (const h of c.hosts) {
    const ps = await hostDocker(h, ['ps', '-q'], { timeoutMs: 20_000 });
    for (const id of ps.stdout.split('\n').filter(Boolean)) {
      const pid = (await hostDocker(h, ['inspect', '-f', '{{.State.Pid}}', id], { timeoutMs: 10_000 })).stdout.trim();
      if (!pid || pid === '0') continue;
      const r = await run(['nsenter', '-t', pid, '-n', 'ip', '-o', '-4', 'addr', 'show'], { reject: false, timeoutMs: 10_000 });
      for (const m of r.stdout.matchAll(/ inet (\d+\.\d+\.\d+\.\d+)\//g)) {
        if (m[1].startsWith('127.')) continue;
        seen.set(m[1], [...(seen.get(m[1]) ?? []), `${h.name}/${id.slice(0, 12)}`]);
      }
    }
  }
  return [...seen].filter(([, holders]) => holders.length > 1).map(([ip, holders]) => `${ip} (${holders.join(', ')})`);
}

/** `ip route` of a host, for a fault that must prove its break happened. */
export async function hostRoutes(c: ChaosLab, host: string): Promise<string> {
  const h = c.hosts.find((x) => x.name === host)!;
  return (await hostExec(h, ['ip', 'route', 'show'], { timeoutMs: 10_000 })).stdout;
}
