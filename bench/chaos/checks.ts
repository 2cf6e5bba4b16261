// What the suite checks once a fault is over: traffic flowing on every flow, no difference
// between etcd and the hosts (`xctl lab verify`'s code, pkg/verify), no IPAM problem
// (`xctl ipam check`'s code, pkg/ipam/check), no address held by two containers.
import { hostDocker, hostExec } from '../../pkg/lab/index.js';
import { run } from '../../pkg/lab/run.js';
import { labIpamPlugin } from '../../pkg/lab/services.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { verifyHost, type Difference } from '../../pkg/verify/verify.js';
import type { ChaosLab } from './lab.js';
import { staleNicsReady } from './nic-lives.js';
import { readStatus, silentFlows } from './prober.js';
import { sleep } from './workload.js';
import type { AnyObject } from '../../pkg/api/index.js';
import { getCondition, isReady } from '../../pkg/api/conditions.js';
import type { Condition } from '../../pkg/api/fields.js';

export interface Settled {
  /** ms from the fault's end to the first moment every check held; undefined: not within the limit */
  convergeMs?: number;
  silent: string[];
  diffs: Difference[];
  ipamProblems: number;
  ipamText: string;
  /** what the last poll before convergence still waited for (why converging took this long) */
  waitedOn?: string;
  /** how long the final verify of every host took */
  checkMs?: number;
  /** every poll: seconds after the fault's end and what it waited for (runs of one answer merged) */
  polls: string[];
}

/** Appends one poll's answer, merging it into the previous line when it is the same answer. */
function recordPoll(polls: { from: number; to: number; n: number; why: string }[], atMs: number, why: string): void {
  const last = polls[polls.length - 1];
  if (last && last.why === why) { last.to = atMs; last.n++; return; }
  polls.push({ from: atMs, to: atMs, n: 1, why });
}

const fmtPoll = (p: { from: number; to: number; n: number; why: string }) =>
  `${(p.from / 1000).toFixed(1)}${p.n > 1 ? `..${(p.to / 1000).toFixed(1)}` : ''} s${p.n > 1 ? ` (${p.n} polls)` : ''}: ${p.why}`;


export async function verifyAll(c: ChaosLab): Promise<Difference[]> {
  const per = await Promise.all(c.hosts.map((h) => verifyHost({ node: h.name, netns: h.netns, dockerHost: h.dockerHost, ipamPlugin: labIpamPlugin(h), store: c.store })
    .catch((e): Difference[] => [{ host: h.name, what: 'verify', expected: 'a readable host', found: (e as Error).message }])));
  return per.flat();
}

const labNode = (c: ChaosLab) => new Set(c.hosts.map((h) => h.name));

/**
 * Every lab host's objects Ready as their agents last wrote it: the Nodes, their HostSubnets and
 * ContainerNics, the MacvlanNets; a ContainerNic's Ready only if written for its container as it
 * runs now (nic-lives.ts: one `docker inspect` per host). Cheap enough to poll; a full verify
 * reads every host's kernel and Docker (10-20 s a host on a loaded 2-core machine) and runs once after.
 */
export async function objectsReady(c: ChaosLab): Promise<string | undefined> {
  const nodes = labNode(c);
  const mine = (o: AnyObject) => nodes.has(o.metadata.name) || nodes.has((o.spec as { node?: string }).node ?? '');
  let nics: AnyObject[] = [];
  for (const kind of ['Node', 'HostSubnet', 'ContainerNic'] as const) {
    const items = (await c.store.list(kind)).items.filter(mine);
    const bad = items.find((o) => !isReady(o as never));
    if (bad) {
      const cond = getCondition((bad.status as { conditions?: Condition[] } | undefined)?.conditions, 'Ready');
      return `${kind} ${bad.metadata.name} not Ready${cond ? ` (${cond.reason}: ${cond.message})` : ''}`;
    }
    if (kind === 'ContainerNic') nics = items;
  }
  const stale = await staleNicsReady(c.hosts, nics);
  if (stale) return stale;
  // a MacvlanNet spans fault 3's agentless Node too: only the lab hosts' parts count
  for (const m of (await c.store.list('MacvlanNet')).items) {
    const parts = ((m.status as { nodes?: { name: string; ready?: boolean; message?: string }[] } | undefined)?.nodes ?? []);
    for (const n of nodes) {
      const p = parts.find((x) => x.name === n);
      if (!p?.ready) return `MacvlanNet ${m.metadata.name} not ready on ${n}${p?.message ? ` (${p.message})` : ''}`;
    }
  }
  return undefined;
}

/**
 * Polls until every flow carries traffic, every object of the lab's hosts is Ready, ipam check
 * finds no problem and the fault's own condition (`extra`: why not yet, or undefined) holds;
 * then runs verify against every host once.
 */
export async function waitSettled(c: ChaosLab, flows: string[], end: number, limitMs: number, extra?: () => Promise<string | undefined>): Promise<Settled> {
  let waitedOn: string | undefined;
  let ipam = { problems: 0, text: '' };
  let silent: string[] = [];
  let convergeMs: number | undefined;
  const polls: { from: number; to: number; n: number; why: string }[] = [];
  while (Date.now() - end < limitMs) {
    silent = silentFlows(readStatus(c.lab, c.hosts), flows, Date.now());
    const t0 = Date.now();
    const notReady = silent.length ? undefined : await objectsReady(c).catch((e) => (e as Error).message);
    if (!silent.length && !notReady) ipam = await ipamCheck(c.admin).catch((e) => ({ problems: 1, text: (e as Error).message }));
    const why = silent.length || notReady || ipam.problems ? undefined : await extra?.();
    waitedOn = silent.length ? `${silent.length} flow(s) silent, e.g. ${silent[0]}` : notReady ?? (ipam.problems ? `ipam check: ${ipam.text.trim().split('\n')[0]}` : why);
    recordPoll(polls, t0 - end, waitedOn ?? 'settled');
    if (!waitedOn) { convergeMs = Math.max(0, t0 - end); break; }
    await sleep(250);
  }
  const t = Date.now();
  const diffs = await verifyAll(c);
  return { convergeMs, silent, diffs, ipamProblems: ipam.problems, ipamText: ipam.text, waitedOn, checkMs: Date.now() - t, polls: polls.map(fmtPoll) };
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
