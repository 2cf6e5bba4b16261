// The lab's control plane and agents: a local etcd (unless endpoints are given), controllers,
// and one xnet-agent per host, each started detached with its log in the lab directory and its
// PID in the record. A program not built yet is recorded as missing rather than failing the lab,
// so a partly built tree still gives a usable lab and `status` says what is absent.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startEtcdServer } from '../etcd/server.js';
import { ETCD_DEFAULT_LIMITS } from '../etcd/limits.js';
import { DEFAULT_LEADER_TTL_SECONDS } from '../runtime/leader.js';
import { DEFAULT_WORKERS } from '../controller/options.js';
import { LabError } from './errors.js';
import { enableLabAuth, hostCredentials, labTlsArgs, prepareLabAuth } from './auth.js';
import { isAlive, processStartTime, spawnDetached, stopProcess } from './proc.js';
import { readRecord, updateRecord } from './record.js';
import type { Lab, LabHost, ProcessEntry } from './types.js';

export type Program = 'xnet-controller' | 'xnet-agent';

/**
 * The built programs (dist/cmd/*.js). Inside xctl's bundle (scripts/bundle.mjs) this code runs
 * from dist/cmd itself; from dist/pkg/lab they are ../../cmd (a checkout or an installed package
 * alike); from the sources under vitest, dist/cmd of the package root above. XNET_BIN_DIR
 * overrides all three.
 */
export function programPath(program: Program): string {
  if (process.env.XNET_BIN_DIR) return join(process.env.XNET_BIN_DIR, `${program}.js`);
  const here = dirname(fileURLToPath(import.meta.url));
  if (here.endsWith(join('dist', 'cmd'))) return join(here, `${program}.js`);
  const sibling = resolve(here, '..', '..', 'cmd', `${program}.js`);
  if (here.endsWith(join('dist', 'pkg', 'lab')) || existsSync(sibling)) return sibling;
  let dir = here;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'pkg'))) return join(dir, 'dist', 'cmd', `${program}.js`);
    dir = resolve(dir, '..');
  }
  return sibling;
}

export interface Started {
  id: string;
  pid?: number;
  /** the program is not built: nothing was started */
  missing?: string;
  /** it was running already, started outside the lab (a dockerd by hand): its pid only recorded */
  adopted?: boolean;
}

function startRecorded(lab: Lab, entry: ProcessEntry, env?: Record<string, string>): Started {
  const script = entry.argv[1];
  if (entry.argv[0] === process.execPath && script && !existsSync(script)) {
    updateRecord(lab.dir, (r) => {
      r.processes = r.processes.filter((p) => p.id !== entry.id);
      r.processes.push({ ...entry, pid: undefined, startTime: undefined });
    });
    return { id: entry.id, missing: script };
  }
  const old = readRecord(lab.dir)?.processes.find((p) => p.id === entry.id);
  if (old?.pid && isAlive(old.pid, old.startTime)) {
    throw new LabError('AlreadyRunning', `${entry.id} is already running (pid ${old.pid})`);
  }
  updateRecord(lab.dir, (r) => {
    r.processes = r.processes.filter((p) => p.id !== entry.id);
    r.processes.push(entry);
  });
  const p = spawnDetached(entry.argv, entry.log, env);
  updateRecord(lab.dir, (r) => {
    const e = r.processes.find((x) => x.id === entry.id);
    if (e) { e.pid = p.pid; e.startTime = p.startTime; }
  });
  return { id: entry.id, pid: p.pid };
}

/**
 * Starts the lab's own etcd on free loopback ports, serving TLS and admitting only clients
 * with a certificate of the lab's CA; records its endpoints, then creates the users and
 * roles and enables auth.
 */
export async function startLabEtcd(lab: Lab): Promise<string[]> {
  const dataDir = join(lab.dir, 'etcd');
  const log = join(lab.dir, 'etcd.log');
  updateRecord(lab.dir, (r) => {
    r.processes = r.processes.filter((p) => p.id !== 'etcd');
    r.processes.push({ id: 'etcd', role: 'etcd', argv: ['etcd', '--data-dir', dataDir], log });
  });
  let server;
  try {
    const tls = await prepareLabAuth(lab);
    server = await startEtcdServer({ dataDir, name: 'lab', logFile: log, detached: true, tls });
  } catch (e) {
    throw new LabError('EtcdNotStarted', `the lab's etcd did not start: ${(e as Error).message}`, `see ${log}`);
  }
  updateRecord(lab.dir, (r) => {
    const e = r.processes.find((p) => p.id === 'etcd');
    if (e) { e.pid = server.pid; e.startTime = processStartTime(server.pid); e.ports = { client: server.clientPort, peer: server.peerPort }; }
    r.endpoints = server.endpoints;
  });
  try {
    await enableLabAuth(lab);
  } catch (e) {
    throw new LabError('EtcdAuthFailed', `enabling auth on the lab's etcd failed: ${(e as Error).message}`, `see ${log}`);
  }
  return server.endpoints;
}

export function setLabEndpoints(lab: Lab, endpoints: string[]): void {
  updateRecord(lab.dir, (r) => { r.endpoints = endpoints; });
}

export function labEndpoints(lab: Lab): string[] {
  const eps = readRecord(lab.dir)?.endpoints;
  if (!eps?.length) throw new LabError('NoEndpoints', `lab ${lab.id} has no etcd`, 'start the control plane first (startControlPlane)');
  return eps;
}

/** A loopback address for a daemon's --metrics-addr, and the URL the lab lists for it. */
async function metricsAddress(): Promise<{ flag: string[]; url: string }> {
  const addr = `127.0.0.1:${await freePort()}`;
  return { flag: ['--metrics-addr', addr], url: `http://${addr}/metrics` };
}

/**
 * Tuning flags are passed explicitly, so they do not depend on how defaults are parsed. The
 * lab's etcd, like a stock one, keeps etcd's default request limits. `env` is added to the
 * controller's environment (the chaos suite preloads libfaketime to jump its clock).
 */
export async function startController(lab: Lab, n: number, endpoints = labEndpoints(lab), env?: Record<string, string>): Promise<Started> {
  // the program's own defaults, written out (the lab runs what users run)
  const tuning = ['--lease-ttl', String(DEFAULT_LEADER_TTL_SECONDS), '--workers', String(DEFAULT_WORKERS), '--max-txn-ops', String(ETCD_DEFAULT_LIMITS.maxTxnOps)];
  const m = await metricsAddress();
  const rec = readRecord(lab.dir);
  return startRecorded(lab, {
    id: `controller/${n}`, role: 'controller',
    argv: [process.execPath, programPath('xnet-controller'), '--endpoints', endpoints.join(','), ...labTlsArgs(rec, rec?.auth?.controller), ...tuning, ...m.flag],
    log: join(lab.dir, `controller-${n}.log`), metrics: m.url,
  }, env);
}

/** The IPAM plugin name of a lab host's agent: unique per lab and host (dockerds share the plugin directory). */
export function labIpamPlugin(host: LabHost): string {
  return `xnet-${host.netns}`;
}

/**
 * xnet-agent for one host: it manages the host's namespace and Docker daemon from outside,
 * with the host's own etcd identity (addLabHostIdentity issues it).
 */
export async function startAgent(lab: Lab, host: LabHost, endpoints = labEndpoints(lab)): Promise<Started> {
  const m = await metricsAddress();
  const rec = readRecord(lab.dir);
  const resync = rec?.agentResyncS;
  return startRecorded(lab, {
    id: `agent/${host.name}`, role: 'agent', host: host.name,
    argv: [
      process.execPath, programPath('xnet-agent'),
      '--node', host.name, '--netns', host.netns, '--docker-host', host.dockerHost,
      // All lab dockerds share /run/docker/plugins: each host's plugin gets the host's own name.
      '--ipam-plugin', labIpamPlugin(host), '--state-dir', host.dir,
      '--endpoints', endpoints.join(','), ...labTlsArgs(rec, rec && hostCredentials(rec, host)), ...m.flag,
      ...(resync !== undefined ? ['--resync', String(resync)] : []),
    ],
    log: join(host.dir, 'agent.log'), metrics: m.url,
  });
}

/** etcd (local unless endpoints are given) and the controllers. */
export async function startControlPlane(lab: Lab, opts: { controllers?: number; endpoints?: string[] } = {}): Promise<{ endpoints: string[]; started: Started[] }> {
  let endpoints = opts.endpoints;
  if (endpoints?.length) setLabEndpoints(lab, endpoints);
  else endpoints = await startLabEtcd(lab);
  const started: Started[] = [];
  for (let n = 1; n <= (opts.controllers ?? 2); n++) started.push(await startController(lab, n, endpoints));
  return { endpoints, started };
}

/**
 * Starts a recorded daemon again with the command line it was started with (lab up on a running
 * lab), on a metrics port free now: the old one may have been taken since.
 */
export async function restartRecorded(lab: Lab, entry: ProcessEntry): Promise<Started> {
  const at = entry.argv.indexOf('--metrics-addr');
  if (at < 0) return startRecorded(lab, { ...entry, pid: undefined, startTime: undefined });
  const m = await metricsAddress();
  const argv = [...entry.argv.slice(0, at), ...m.flag, ...entry.argv.slice(at + 2)];
  return startRecorded(lab, { ...entry, argv, metrics: m.url, pid: undefined, startTime: undefined });
}

/** Stops one recorded process (e.g. an agent, to test a restart) and waits until it is gone. */
export async function stopLabProcess(lab: Lab, id: string, graceMs = 5000): Promise<boolean> {
  const e = readRecord(lab.dir)?.processes.find((p) => p.id === id);
  if (!e?.pid || !isAlive(e.pid, e.startTime)) return false;
  await stopProcess(e.pid, e.startTime, graceMs);
  return true;
}

/** SIGKILL, as a crash would; resolves once the process is gone. */
export async function killLabProcess(lab: Lab, id: string): Promise<boolean> {
  const e = readRecord(lab.dir)?.processes.find((p) => p.id === id);
  if (!e?.pid || !isAlive(e.pid, e.startTime)) return false;
  process.kill(e.pid, 'SIGKILL');
  await stopProcess(e.pid, e.startTime, 5000);
  return true;
}
