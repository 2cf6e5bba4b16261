// A real multi-host lab for tests: namespaces on a shared underlay, one dockerd each, the
// busybox image, optionally etcd + controllers + agents. One lab per test file (beforeAll),
// torn down in afterAll whether the tests passed or not; when a test fails, the agents' last
// log lines and every host's `ip` state are printed so the failure explains itself.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';
import { workerCacheDir } from './worker-cache.js';
import { useBuilt } from './built.js';
import {
  createHost, createUnderlay, destroyLab, ensureBusyboxImage, hostDocker, hostExec, killLabProcess, labDirFor,
  labEndpoints, labUp, programPath, startAgent, startDockerd, stopLabProcess,
  type ExecResult, type Lab, type LabHost,
} from '../../pkg/lab/index.js';
import { run } from '../../pkg/lab/run.js';
import { xctlInTest, type XctlCallOptions } from './xctl-in-process.js';
import { HEAL_TEST_RESYNC_S } from './heal.js';
import { addLabHostIdentity, hostCredentials, labTlsArgs } from '../../pkg/lab/auth.js';
import { readRecord } from '../../pkg/lab/record.js';
import { assertProgramsBuilt } from './built-fresh.js';
import type { LabAuth, LabIdentity } from '../../pkg/lab/types.js';

/** dist/cmd/xctl.js next to the agent and controller the lab starts */
export function xctlPath(): string {
  assertProgramsBuilt();
  return join(dirname(programPath('xnet-agent')), 'xctl.js');
}

export interface TestLabOptions {
  hosts: number;
  /** start a dockerd per host (default true) */
  docker?: boolean;
  /** import xnet/busybox:latest on each host (default true; needs docker) */
  image?: boolean;
  /** start etcd, controllers and one agent per host like `xctl lab up` (default false); needs `npm run build` */
  agents?: boolean;
  /** number of controllers when agents is true (default 1) */
  controllers?: number;
}

export interface PingResult {
  ok: boolean;
  /** average round trip in ms when ok */
  rttMs?: number;
  output: string;
}

export interface TestLab {
  id: string;
  lab: Lab;
  hosts: LabHost[];
  /** by name (host-1) or index (1) */
  host(which: string | number): LabHost;
  exec(host: LabHost | string | number, argv: string[], opts?: { check?: boolean; timeoutMs?: number }): Promise<ExecResult>;
  docker(host: LabHost | string | number, args: string[], opts?: { check?: boolean; timeoutMs?: number }): Promise<ExecResult>;
  /** busybox ping from the host's namespace (the machine has no other ping) */
  ping(from: LabHost | string | number, address: string, opts?: { count?: number; timeoutS?: number }): Promise<PingResult>;
  /** adds host-<index> (default: next free) with dockerd and image as the lab was built */
  addHost(index?: number): Promise<LabHost>;
  /** `ip -d addr`, `ip route` and `ip neigh` of a host */
  ipState(host: LabHost | string | number): Promise<string>;
  /** last lines of a host's agent log (empty when it has none) */
  agentLog(host: LabHost | string | number, lines?: number): string;
  /** agents' logs and ip state of every host */
  dump(): Promise<string>;
  down(): Promise<void>;
  /** etcd endpoints of the lab (agents: true only) */
  endpoints(): string[];
  /** TLS files of the lab's etcd (agents: true only): CA, root, controller and admin identities */
  auth(): LabAuth;
  /** a host's own etcd identity (what its agent uses) */
  credentials(host: LabHost | string | number): LabIdentity;
  /**
   * xctl against the lab's etcd, as the lab's admin: the program's code (runXctl) run in the test's
   * process, as each spawned xctl cost about a CPU second of module loading (docs/contributing.md)
   */
  xctl(args: string[], opts?: XctlCallOptions): Promise<ExecResult>;
  /** the same through the built program (dist/cmd/xctl.js), for what only a process shows */
  xctlBinary(args: string[], opts?: XctlCallOptions): Promise<ExecResult>;
  /** agents by host: stop (SIGTERM, waits), kill (SIGKILL) and start again */
  stopAgent(host: LabHost | string | number): Promise<void>;
  /** true when a running agent was killed */
  killAgent(host: LabHost | string | number): Promise<boolean>;
  startAgent(host: LabHost | string | number): Promise<void>;
}

export function randomLabId(prefix = 't'): string {
  return prefix + randomBytes(3).toString('hex');
}

export async function pingFrom(exec: (argv: string[]) => Promise<ExecResult>, address: string, count = 1, timeoutS = 2): Promise<PingResult> {
  const r = await exec(['busybox', 'ping', '-c', String(count), '-W', String(timeoutS), address]);
  const m = /min\/avg\/max = [\d.]+\/([\d.]+)\//.exec(r.stdout);
  return { ok: r.exitCode === 0, rttMs: m ? Number(m[1]) : undefined, output: (r.stdout + r.stderr).trim() };
}

export async function buildTestLab(opts: TestLabOptions): Promise<TestLab> {
  const id = randomLabId();
  const withDocker = opts.docker !== false;
  const withImage = withDocker && opts.image !== false;
  const hosts: LabHost[] = [];
  let tl: TestLab | undefined;
  let lab: Lab;
  const prepare = async (index: number) => {
    const h = await createHost(lab, index);
    hosts.push(h);
    hosts.sort((a, b) => a.index - b.index);
    if (withDocker) await startDockerd(h);
    if (withImage) await ensureBusyboxImage(h, { cacheDir: workerCacheDir() });
    if (opts.agents) {
      await addLabHostIdentity(lab, h);
      await startAgent(lab, h);
    }
    return h;
  };
  // the agents and controllers started here are the built programs
  if (opts.agents) assertProgramsBuilt();
  try {
    if (opts.agents) {
      // the same path as `xctl lab up`, under a lab id of its own
      // agents whose periodic resync is an hour away: what heals within a test's wait, heals by events
      const up = await labUp({ id, hosts: opts.hosts, controllers: opts.controllers ?? 1, agentResyncS: HEAL_TEST_RESYNC_S, imageCacheDir: workerCacheDir() });
      lab = up.lab;
      hosts.push(...up.hosts);
    } else {
      lab = await createUnderlay(id);
      await Promise.all(Array.from({ length: opts.hosts }, (_, i) => prepare(i + 1)));
    }
  } catch (e) {
    await destroyLab(labDirFor(id)).catch(() => {});
    throw e;
  }
  const resolve = (w: LabHost | string | number): LabHost => {
    if (typeof w === 'object') return w;
    const h = hosts.find((x) => (typeof w === 'number' ? x.index === w : x.name === w));
    if (!h) throw new Error(`no host ${w} in lab ${id} (hosts: ${hosts.map((x) => x.name).join(', ')})`);
    return h;
  };
  const adminArgs = () => {
    const rec = readRecord(lab.dir);
    return ['--endpoints', labEndpoints(lab).join(','), ...labTlsArgs(rec, rec?.auth?.admin)];
  };
  tl = {
    id, lab, hosts,
    host: resolve,
    exec: (h, argv, o) => hostExec(resolve(h), argv, o),
    docker: (h, args, o) => hostDocker(resolve(h), args, o),
    ping: (h, address, o) => pingFrom((argv) => hostExec(resolve(h), argv, { timeoutMs: 30_000 }), address, o?.count ?? 1, o?.timeoutS ?? 2),
    addHost: (index) => prepare(index ?? Math.max(0, ...hosts.map((h) => h.index)) + 1),
    async ipState(h) {
      const host = resolve(h);
      const addr = await hostExec(host, ['ip', '-d', 'addr']);
      const route = await hostExec(host, ['ip', 'route', 'show']);
      const neigh = await hostExec(host, ['ip', 'neigh', 'show']);
      return [
        `--- ${host.name} (${host.netns}) ip -d addr\n${addr.stdout}${addr.stderr}`,
        `--- ${host.name} ip route\n${route.stdout}${route.stderr}`,
        `--- ${host.name} ip neigh\n${neigh.stdout}${neigh.stderr}`,
      ].join('\n');
    },
    agentLog(h, lines = 60) {
      const f = `${resolve(h).dir}/agent.log`;
      if (!existsSync(f)) return '';
      return readFileSync(f, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    },
    async dump() {
      const parts: string[] = [];
      for (const h of hosts) {
        const log = tl!.agentLog(h);
        if (log) parts.push(`--- ${h.name} agent log (last lines)\n${log}`);
        parts.push(await tl!.ipState(h).catch((e) => `--- ${h.name}: ${(e as Error).message}`));
      }
      return parts.join('\n');
    },
    down: () => destroyLab(lab.dir).then(() => undefined),
    endpoints: () => labEndpoints(lab),
    auth: () => {
      const a = readRecord(lab.dir)?.auth;
      if (!a) throw new Error(`lab ${id} has no etcd auth (built without agents?)`);
      return a;
    },
    credentials: (h) => hostCredentials(readRecord(lab.dir)!, resolve(h))!,
    xctl: (args, o) => xctlInTest([...adminArgs(), ...args], o),
    xctlBinary: (args, o) => run([process.execPath, xctlPath(), ...adminArgs(), ...args], { reject: false, input: o?.input, timeoutMs: o?.timeoutMs ?? 60_000 }),
    stopAgent: async (h) => { await stopLabProcess(lab, `agent/${resolve(h).name}`); },
    killAgent: (h) => killLabProcess(lab, `agent/${resolve(h).name}`),
    startAgent: async (h) => { await startAgent(lab, resolve(h)); },
  };
  return tl;
}

/**
 * One lab for the whole test file: `const lab = useTestLab({hosts: 2}); ... lab().exec(...)`.
 * Failing tests print the lab's state; the lab is removed in afterAll even after failures.
 */
export function useTestLab(opts: TestLabOptions): () => TestLab {
  // a build that outlives beforeAll's timeout is still taken down (built.ts)
  const lab = useBuilt(() => buildTestLab(opts), (tl) => tl.down(), { buildMs: 180_000, downMs: 120_000 }, 'lab');
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    let tl: TestLab;
    try { tl = lab(); } catch { return; }
    console.error(`lab ${tl.id} state after failed test "${ctx.task.name}":\n${await tl.dump()}`);
  });
  return lab;
}
