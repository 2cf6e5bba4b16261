// Processes the lab started, found and ended by recorded PID (checked against the process's
// start time, so a recycled PID is never touched), plus the sweeps that find what a crashed
// daemon left behind inside the lab's own namespaces and cgroups.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from './errors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Field 22 of /proc/PID/stat; undefined when the process is gone. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may contain spaces and parentheses: fields start after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[19]);
  } catch {
    return undefined;
  }
}

function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/**
 * A zombie counts as dead: its parent may be an init that never reaps (these machines' PID 1
 * does not), and a zombie holds nothing the lab cares about.
 */
export function isAlive(pid: number, startTime?: number): boolean {
  const st = processState(pid);
  if (st === undefined || st === 'Z' || st === 'X') return false;
  if (startTime !== undefined && processStartTime(pid) !== startTime) return false;
  return true;
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
export async function stopProcess(pid: number, startTime: number | undefined, graceMs = 5000): Promise<void> {
  if (!isAlive(pid, startTime)) return;
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid, startTime) && Date.now() < deadline) await sleep(50);
  if (!isAlive(pid, startTime)) return;
  try { process.kill(pid, 'SIGKILL'); } catch { return; }
  const hard = Date.now() + 5000;
  while (isAlive(pid, startTime) && Date.now() < hard) await sleep(50);
}

export async function killAndWait(pids: number[]): Promise<void> {
  const targets = pids.map((pid) => ({ pid, startTime: processStartTime(pid) }));
  for (const t of targets) {
    try { process.kill(t.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  const deadline = Date.now() + 5000;
  while (targets.some((t) => isAlive(t.pid, t.startTime)) && Date.now() < deadline) await sleep(50);
}

function allPids(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}

/** Processes whose network namespace is the named one (dockerd, containerd, shims, execs). */
export function pidsInNetns(netnsPath: string): number[] {
  let target: { dev: number; ino: number };
  try {
    const s = statSync(netnsPath);
    target = { dev: s.dev, ino: s.ino };
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    try {
      const s = statSync(`/proc/${pid}/ns/net`);
      if (s.ino === target.ino && s.dev === target.dev && isAlive(pid)) out.push(pid);
    } catch { /* gone or not ours to read */ }
  }
  return out;
}

/** cgroup v1 hierarchies (and the v2 root, when mounted) a Docker --cgroup-parent shows up in. */
export function cgroupDirs(parent: string): string[] {
  const root = '/sys/fs/cgroup';
  const dirs: string[] = [];
  if (existsSync(join(root, parent))) dirs.push(join(root, parent));
  let entries: string[] = [];
  try { entries = readdirSync(root); } catch { return dirs; }
  for (const e of entries) {
    const d = join(root, e, parent);
    if (existsSync(d)) dirs.push(d);
  }
  return dirs;
}

/** Every process inside a cgroup subtree: containers whose Docker daemon crashed. */
export function pidsInCgroup(parent: string): number[] {
  const pids = new Set<number>();
  const walk = (d: string) => {
    try {
      for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (line.trim()) pids.add(Number(line));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch { /* raced with removal */ }
  };
  for (const d of cgroupDirs(parent)) walk(d);
  return [...pids].filter((p) => isAlive(p));
}

/** Removes the cgroup subtree (deepest first); a cgroup directory goes with rmdir only. */
export function removeCgroup(parent: string): string[] {
  const left: string[] = [];
  const rm = (d: string) => {
    try {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rm(join(d, e.name));
    } catch { /* gone */ }
    try {
      rmdirSync(d);
    } catch { if (existsSync(d)) left.push(d); }
  };
  for (const d of cgroupDirs(parent)) rm(d);
  return left;
}

export interface Detached {
  pid: number;
  startTime: number | undefined;
}

/**
 * Starts a program that outlives the caller: its own session, output appended to a log file,
 * no handle kept on it.
 */
export function spawnDetached(argv: string[], logFile: string, env?: Record<string, string>): Detached {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env: env ? { ...process.env, ...env } : process.env });
    if (child.pid === undefined) throw new LabError('SpawnFailed', `cannot start ${argv[0]}`, 'check that it is installed and on PATH');
    child.on('error', () => { /* reported through the log file and liveness checks */ });
    child.unref();
    return { pid: child.pid, startTime: processStartTime(child.pid) };
  } finally {
    closeSync(fd);
  }
}

export function readPidFile(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

// Programs the lab runs; only these are ended by the sweep below, never e.g. a user's
// `tail -f` of a lab log.
export const LAB_PROGRAMS = /(^|\/)(etcd|dockerd|containerd|containerd-shim[\w-]*|docker-proxy|node)$/;

/**
 * Lab programs whose command line names a path inside the lab directory: an etcd whose PID was
 * never recorded because `up` died while it started, a dockerd or agent of a crashed run.
 */
export function labProgramsMentioning(dir: string, programs: RegExp = LAB_PROGRAMS): number[] {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  const out: number[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!programs.test(argv[0])) continue;
      if (argv.some((a) => a.includes(prefix)) && isAlive(pid)) out.push(pid);
    } catch { /* gone */ }
  }
  return out;
}
