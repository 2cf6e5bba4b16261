// What the end-to-end tests do as a user would: xctl against the lab's etcd, docker against a
// host's daemon, ping from inside containers. Failures carry the object's `describe` output.
import { HEAL_WAIT_MS } from '../harness/heal.js';
import type { TestLab } from '../harness/lab.js';
import { pollPause } from '../harness/poll.js';
import { xctlInTest } from '../harness/xctl-in-process.js';
import { dockerApi } from '../../pkg/lab/docker-api.js';
import { hostEnv, type ExecResult } from '../../pkg/lab/exec.js';
import { run } from '../../pkg/lab/run.js';

export type Kind = 'clusternetwork' | 'node' | 'hostsubnet' | 'containernic' | 'macvlannet';


export async function apply(tl: TestLab, yaml: string): Promise<string> {
  const r = await tl.xctl(['apply', '-f', '-'], { input: yaml });
  if (r.exitCode !== 0) throw new Error(`xctl apply failed (exit ${r.exitCode}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export async function xdelete(tl: TestLab, kind: Kind, name: string): Promise<void> {
  const r = await tl.xctl(['delete', kind, name]);
  if (r.exitCode !== 0) throw new Error(`xctl delete ${kind} ${name} failed: ${r.stderr}`);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function getObject(tl: TestLab, kind: Kind, name: string): Promise<any | undefined> {
  const r = await tl.xctl(['get', kind, name, '-o', 'json']);
  if (r.exitCode === 4) return undefined;
  if (r.exitCode !== 0) throw new Error(`xctl get ${kind} ${name}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** xctl wait --for condition=Ready; on timeout the error shows `xctl describe`. */
export async function waitReady(tl: TestLab, kind: Kind, name: string, timeoutS = 60): Promise<void> {
  const r = await tl.xctl(['wait', kind, name, '--for', 'condition=Ready', '--timeout', `${timeoutS}s`], { timeoutMs: (timeoutS + 15) * 1000 });
  if (r.exitCode !== 0) {
    const d = await tl.xctl(['describe', kind, name]);
    throw new Error(`${kind}/${name} not Ready within ${timeoutS}s: ${r.stderr.trim()}\n${d.stdout}${d.stderr}`);
  }
}

/**
 * Polls until check() gives a value; returns it with the time it took. The default wait is well
 * under any periodic resync (docs/contributing.md, "Tests"): what it sees came from events.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = HEAL_WAIT_MS, everyMs = 50): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  let last: unknown;
  for (let attempt = 0; ; attempt++) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return { value: v, ms: Date.now() - t0 };
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    // a look here is docker exec or nsenter: the pause grows from everyMs (harness/poll.ts)
    await pollPause(attempt, everyMs, Math.max(everyMs, 250));
  }
}

export async function runContainer(tl: TestLab, host: string, name: string, network: string): Promise<void> {
  await tl.docker(host, ['run', '-d', '--name', name, '--net', network, 'xnet/busybox:latest', 'sleep', '1d'], { check: true });
}

/**
 * `docker inspect NAME` as the Engine API gives it, asked from this process over the host's socket
 * (a `docker` CLI process per look cost a fork of the worker and 50-80 ms of CPU); what the
 * tests claim of a container (its address, that it runs) is Docker's answer either way.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function inspectContainer(tl: TestLab, host: string, name: string): Promise<any> {
  return dockerInspect(tl, host, `/containers/${encodeURIComponent(name)}/json`);
}

/** `docker network inspect NAME`, asked the same way */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function inspectNetwork(tl: TestLab, host: string, name: string): Promise<any> {
  return dockerInspect(tl, host, `/networks/${encodeURIComponent(name)}`);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function dockerInspect(tl: TestLab, host: string, path: string): Promise<any> {
  const r = await dockerApi(tl.host(host).dockerSocket, 'GET', path, { timeoutMs: 30_000 });
  if (r.status !== 200) throw new Error(`Docker API GET ${path} on ${host}: ${r.status} ${r.body.trim()}`);
  return JSON.parse(r.body);
}

export async function containerIp(tl: TestLab, host: string, name: string, network: string): Promise<string> {
  const c = await inspectContainer(tl, host, name);
  return String(c?.NetworkSettings?.Networks?.[network]?.IPAddress ?? '');
}

export async function containerPid(tl: TestLab, host: string, name: string): Promise<number> {
  const pid = Number((await inspectContainer(tl, host, name))?.State?.Pid);
  if (!(pid > 0)) throw new Error(`container ${name} on ${host} is not running`);
  return pid;
}

/**
 * Runs a command with the machine's tools (and the lab's busybox) inside a container's network
 * namespace: one `nsenter` into the namespace its process holds.
 */
export async function inContainerNetns(tl: TestLab, host: string, name: string, argv: string[], timeoutMs = 30_000): Promise<ExecResult> {
  const pid = await containerPid(tl, host, name);
  return run(['nsenter', `--net=/proc/${pid}/ns/net`, ...argv], { env: hostEnv(tl.host(host)), reject: false, timeoutMs });
}

/** IPv4 addresses of an interface inside a container (none when the interface is absent). */
export async function containerIfAddrs(tl: TestLab, host: string, name: string, ifName: string): Promise<string[]> {
  const r = await inContainerNetns(tl, host, name, ['ip', '-4', '-json', 'addr', 'show', 'dev', ifName]);
  if (r.exitCode !== 0) return [];
  const links = JSON.parse(r.stdout || '[]') as { addr_info?: { local: string }[] }[];
  return links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local));
}

export interface PingReport {
  ok: boolean;
  rttMs?: number;
  ttl?: number;
  output: string;
}

/**
 * busybox ping from a container: its network namespace (addresses, routes, neighbours), entered
 * with nsenter rather than `docker exec`, which cost a `docker` CLI, a runc and a shim's work per
 * ping. `docker exec` itself is still what seed000's receiver test runs.
 */
export async function pingFromContainer(tl: TestLab, host: string, name: string, address: string, count = 1): Promise<PingReport> {
  const r = await inContainerNetns(tl, host, name, ['busybox', 'ping', '-c', String(count), '-W', '2', address]);
  const rtt = /min\/avg\/max = [\d.]+\/([\d.]+)\//.exec(r.stdout);
  const ttl = /ttl=(\d+)/.exec(r.stdout);
  return { ok: r.exitCode === 0, rttMs: rtt ? Number(rtt[1]) : undefined, ttl: ttl ? Number(ttl[1]) : undefined, output: (r.stdout + r.stderr).trim() };
}

/** Pings each address once from a container; returns the ones that did not answer. */
export async function unreachableFrom(tl: TestLab, host: string, name: string, addresses: string[]): Promise<string[]> {
  const failed: string[] = [];
  for (const a of addresses) {
    let p = await pingFromContainer(tl, host, name, a);
    // a first packet can be spent on ARP on a freshly made path: one retry, not a loop
    if (!p.ok) p = await pingFromContainer(tl, host, name, a, 2);
    if (!p.ok) failed.push(`${a} (${p.output.split('\n').pop()})`);
  }
  return failed;
}

/**
 * Waits until every address answers from a container: after a heal the path can need a moment
 * more than the NIC itself (neighbour caches along the way). Returns the time it took.
 */
export async function waitReachable(tl: TestLab, host: string, name: string, addresses: string[], timeoutMs = 20_000): Promise<number> {
  let left = addresses;
  const { ms } = await waitFor(`${addresses.join(', ')} reachable from ${host}/${name}`, async () => {
    left = (await Promise.all(left.map(async (a) => ((await pingFromContainer(tl, host, name, a)).ok ? undefined : a)))).filter((a): a is string => !!a);
    return left.length === 0;
  }, timeoutMs, 100);
  return ms;
}

export function printHeal(what: string, ms: number): void {
  console.log(`healed: ${what.padEnd(48)} ${String(ms).padStart(6)} ms`);
}

/** `ip -json route show` of a host */
export async function hostRoutes(tl: TestLab, host: string): Promise<{ dst: string; gateway?: string; dev?: string; protocol?: string }[]> {
  const r = await tl.exec(host, ['ip', '-json', 'route', 'show'], { check: true });
  return JSON.parse(r.stdout || '[]');
}

/**
 * Every e2e scenario ends here: `xctl lab verify` (each host's kernel and Docker against what
 * etcd declares) exits 0. It polls because the last step may still be converging; on timeout
 * the error carries verify's own difference table.
 */
export async function expectLabVerifyClean(tl: TestLab, args: string[] = [], timeoutMs = 60_000): Promise<void> {
  const verify = () => labXctl(tl, ['verify', ...args]);
  await waitFor('xctl lab verify clean', async () => ((await verify()).exitCode === 0 ? true : undefined), timeoutMs, 2000)
    .catch(async (e) => { const v = await verify(); throw new Error(`${(e as Error).message}\n${v.stdout}${v.stderr}`); });
}

/**
 * `xctl lab ARGS` on this test's lab, run in the test's process (a spawned xctl costs about a CPU
 * second of module loading; `lab verify` more): the lab commands find their lab by
 * XNET_LAB_DIR, set for the call and restored after it. The built program's own `xctl lab`
 * runs in test/integration/lab-command.test.ts.
 */
export async function labXctl(tl: TestLab, args: string[], timeoutMs = 120_000): Promise<ExecResult> {
  const was = process.env.XNET_LAB_DIR;
  process.env.XNET_LAB_DIR = tl.lab.dir;
  try {
    return await xctlInTest(['lab', ...args], { timeoutMs });
  } finally {
    if (was === undefined) delete process.env.XNET_LAB_DIR; else process.env.XNET_LAB_DIR = was;
  }
}
