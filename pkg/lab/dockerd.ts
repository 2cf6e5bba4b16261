// One Docker daemon per lab host, run inside the host's namespace. `nsenter --net` rather
// than `ip netns exec`, which remounts /sys and makes dockerd fail ("Devices cgroup isn't
// mounted"). dockerd only ever rewrites the iptables of the namespace it runs in.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { dockerPing, runningContainerIds } from './docker-api.js';
import { LabError } from './errors.js';
import { unmountUnder } from './mounts.js';
import { isAlive, killAndWait, pidsInCgroup, pidsInNetns, processStartTime, readPidFile, spawnDetached, stopProcess } from './proc.js';
import { readRecord, updateRecord } from './record.js';
import { run } from './run.js';
import type { LabHost, ProcessEntry } from './types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DockerDaemon {
  host: string;
  pid: number;
  dockerHost: string;
  log: string;
}

/** The lab directory a host belongs to (hosts live in <labDir>/<host>). */
export function labDirOf(host: LabHost): string {
  return dirname(host.dir);
}

export function dockerdEntryId(host: LabHost): string {
  return `dockerd/${host.name}`;
}

/** `docker` CLI arguments that talk to this host's daemon. */
export function dockerArgv(host: LabHost, args: string[]): string[] {
  return ['docker', '-H', host.dockerHost, ...args];
}

/** The daemon answers its API (GET /_ping, from this process rather than a `docker` CLI per look). */
export async function dockerAnswers(host: LabHost): Promise<boolean> {
  if (!existsSync(host.dockerSocket)) return false;
  return dockerPing(host.dockerSocket, 5000);
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** How the host's dockerd is run (its config file written here), as the lab's record keeps it. */
function dockerdEntry(host: LabHost): ProcessEntry {
  const config = join(host.dir, 'daemon.json');
  // dockerd 20.10 otherwise writes /etc/docker/key.json, a file outside the lab (the key is
  // only settable in the config file: the flag is not registered in this build)
  writeFileSync(config, JSON.stringify({ 'deprecated-key-path': join(host.dir, 'key.json') }) + '\n');
  return {
    id: dockerdEntryId(host), role: 'dockerd', host: host.name,
    argv: [
      'nsenter', `--net=${host.netnsPath}`, 'dockerd',
      '--data-root', join(host.dir, 'data'),
      '--exec-root', join(host.dir, 'exec'),
      '--pidfile', join(host.dir, 'dockerd.pid'),
      '-H', host.dockerHost,
      '--config-file', config,
      '--cgroup-parent', host.netns,
    ],
    log: join(host.dir, 'dockerd.log'),
    pidfile: join(host.dir, 'dockerd.pid'),
  };
}

/**
 * Starts the host's dockerd (which runs its own containerd under the exec root) and waits
 * until `docker info` answers. Data root, exec root, socket, pid file and log all live in the
 * host's directory; containers go under the cgroup parent <netns> so that `down` can find
 * them even if the daemon crashed.
 */
export async function startDockerd(host: LabHost, opts: { timeoutMs?: number } = {}): Promise<DockerDaemon> {
  const labDir = labDirOf(host);
  const id = dockerdEntryId(host);
  const old = readRecord(labDir)?.processes.find((p) => p.id === id);
  if (old?.pid && isAlive(old.pid, old.startTime)) {
    throw new LabError('DockerdRunning', `dockerd of ${host.name} is already running (pid ${old.pid})`);
  }
  const entry = dockerdEntry(host);
  updateRecord(labDir, (r) => {
    r.processes = r.processes.filter((p) => p.id !== id);
    r.processes.push(entry);
    if (!r.cgroupParents.includes(host.netns)) r.cgroupParents.push(host.netns);
  });
  // dockerd starts its containerd before it points TMPDIR at its own data root, so containerd
  // would write what it leaves in the temporary directory (the stack dump that dockerd asks
  // for with SIGUSR1 before it kills a containerd that is slow to stop) to /tmp: keep it here.
  const tmp = join(host.dir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  // nsenter execs dockerd in place, so the PID spawned is dockerd's own
  const proc = spawnDetached(entry.argv, entry.log, { TMPDIR: tmp });
  updateRecord(labDir, (r) => {
    const e = r.processes.find((p) => p.id === id);
    if (e) { e.pid = proc.pid; e.startTime = proc.startTime; }
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (await dockerAnswers(host)) break;
    if (!isAlive(proc.pid, proc.startTime)) {
      throw new LabError('DockerdExited', `dockerd of ${host.name} exited during start-up; last log lines (${entry.log}):\n${tail(entry.log)}`);
    }
    if (Date.now() > deadline) {
      throw new LabError('DockerdNotReady', `dockerd of ${host.name} did not answer on ${host.dockerHost} within ${opts.timeoutMs ?? 60_000} ms; last log lines:\n${tail(entry.log)}`);
    }
    await sleep(200);
  }
  return { host: host.name, pid: proc.pid, dockerHost: host.dockerHost, log: entry.log };
}

/**
 * Stops the host's dockerd by its recorded PID and waits for it, then ends whatever it left:
 * containers (found by cgroup), containerd and shims (found by network namespace), mounts
 * under the host's directory. Works whether the daemon is healthy, hung or already dead.
 */
export async function stopDockerd(host: LabHost): Promise<void> {
  const labDir = labDirOf(host);
  const entry = readRecord(labDir)?.processes.find((p) => p.id === dockerdEntryId(host));
  if (await dockerAnswers(host)) {
    // killing the containers first spares the daemon's 10 s per container stop timeout
    const ids = await runningContainerIds(host.dockerSocket).catch(() => []);
    if (ids.length) await run(dockerArgv(host, ['kill', ...ids]), { reject: false, timeoutMs: 20_000 });
  }
  const pid = entry?.pid ?? (entry?.pidfile ? readPidFile(entry.pidfile) : undefined);
  if (pid) await stopProcess(pid, entry?.pid ? entry.startTime : undefined, 15_000);
  await sweepHost(host, { everything: false });
}

function isContainerdProcess(pid: number): boolean {
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    return /containerd|dockerd|docker-proxy/.test(argv0);
  } catch {
    return false;
  }
}

/**
 * Ends what a daemon left in the host's namespace (containerd, shims, docker-proxy) and its
 * containers' cgroup, then unmounts the host's dirs. With everything: true (lab down) also any
 * other process in the namespace, e.g. a `lab exec` shell; otherwise those are left alone so a
 * test can restart dockerd with its own probes still running.
 */
export async function sweepHost(host: LabHost, opts: { everything: boolean }): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const inNs = pidsInNetns(host.netnsPath).filter((p) => opts.everything || isContainerdProcess(p));
    const pids = [...new Set([...inNs, ...pidsInCgroup(host.netns)])];
    if (pids.length === 0) break;
    await killAndWait(pids);
  }
  await unmountUnder(host.dir);
}

async function waitGone(pid: number, startTime: number | undefined, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid, startTime) && Date.now() < deadline) await sleep(50);
  return !isAlive(pid, startTime);
}

/**
 * dockerd kills its containerd when it dies (parent-death signal); on this machine PID 1 does not
 * reap orphans, so that containerd stays a zombie, its pid file names a "running" process and the
 * new dockerd waits for its socket until it gives up. A host's init would have reaped it: the
 * stale pid file goes once the process is dead (a zombie counts as dead).
 */
export async function clearDeadContainerd(host: LabHost): Promise<void> {
  const pidfile = join(host.dir, 'exec', 'containerd', 'containerd.pid');
  const pid = readPidFile(pidfile);
  if (pid !== undefined && (await waitGone(pid, undefined, 15_000))) rmSync(pidfile, { force: true });
}

/**
 * The dockerd that the record's pid file names, when it is one of this host's running (a
 * dockerd started by hand with the recorded command line, after a crash): not started twice.
 */
function dockerdOfPidFile(e: ProcessEntry): number | undefined {
  const pid = e.pidfile ? readPidFile(e.pidfile) : undefined;
  if (pid === undefined || !isAlive(pid)) return undefined;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    // `--pidfile PATH`, `-p PATH` or `--pidfile=PATH`; a dockerd of another pid file took a dead one's PID
    const ours = argv.includes(e.pidfile!) || argv.includes(`--pidfile=${e.pidfile}`);
    return /(^|\/)dockerd$/.test(argv[0]) && ours ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a host's dockerd that is not running (it crashed, or was killed) again, as a host's
 * init would: in the host's namespace, with the command line, data root and exec root it was
 * first started with, its new PID recorded; containers with a restart policy come back. One
 * already running under the recorded pid file (started by hand) is recorded instead
 * (`adopted`). What stops it: the host's namespace gone (nothing to run it in: `lab down`,
 * then `lab up`), or dockerd itself failing (its log's last lines). The chaos runner (through
 * crashAndRestartDockerd) and `lab up` on a lab that is up (restart.ts) both use it.
 */
export async function restartDockerd(host: LabHost): Promise<DockerDaemon & { adopted?: boolean }> {
  const labDir = labDirOf(host);
  const id = dockerdEntryId(host);
  if (!existsSync(host.netnsPath)) {
    throw new LabError('NamespaceGone', `the namespace ${host.netns} of ${host.name} is gone, so its dockerd has nowhere to run`, 'remove the lab with `xctl lab down`, then `xctl lab up`');
  }
  const e = readRecord(labDir)?.processes.find((p) => p.id === id);
  const running = e && dockerdOfPidFile(e);
  if (e && running !== undefined) {
    updateRecord(labDir, (r) => {
      const x = r.processes.find((p) => p.id === id);
      if (x) { x.pid = running; x.startTime = processStartTime(running); }
    });
    return { host: host.name, pid: running, dockerHost: host.dockerHost, log: e.log, adopted: true };
  }
  // dockerd refuses to start while its pid file names a process in /proc, a zombie included
  // (or a process that took the dead one's PID): none of them is a dockerd of this host
  if (e?.pidfile) rmSync(e.pidfile, { force: true });
  await clearDeadContainerd(host);
  return startDockerd(host);
}

/**
 * The host's dockerd crashes (SIGKILL, by its recorded PID) and is started again, as a host's
 * init would; containers with a restart policy come back. Returns the PID that was killed.
 */
export async function crashAndRestartDockerd(host: LabHost): Promise<number> {
  const e = readRecord(labDirOf(host))?.processes.find((p) => p.id === dockerdEntryId(host));
  if (!e?.pid || !isAlive(e.pid, e.startTime)) throw new LabError('DockerdNotRunning', `dockerd of ${host.name} is not running`);
  process.kill(e.pid, 'SIGKILL');
  if (!(await waitGone(e.pid, e.startTime, 15_000))) throw new LabError('DockerdNotReady', `dockerd of ${host.name} (pid ${e.pid}) outlived SIGKILL by 15 s`);
  await restartDockerd(host);
  return e.pid;
}
