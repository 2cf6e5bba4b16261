// `down`: undoes everything the record names, in an order that leaves nothing half-alive
// (agents first so they stop reacting, then daemons, then mounts, cgroups and namespaces).
// Idempotent: each step skips what is already gone, and the record is deleted last.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stopDockerd, sweepHost } from './dockerd.js';
import { LabError } from './errors.js';
import { netnsPath } from './hosts.js';
import { mountsUnder, unmountUnder } from './mounts.js';
import { isAlive, killAndWait, labProgramsMentioning, removeCgroup, stopProcess } from './proc.js';
import { readRecord } from './record.js';
import { labIpamPlugin } from './services.js';
import { run } from './run.js';
import type { LabRecord, ProcessEntry } from './types.js';

/** Where the lab's agents serve Docker's IPAM plugin (the agent's default, shared by every dockerd). */
export const PLUGIN_DIR = '/run/docker/plugins';

export interface DownReport {
  labId?: string;
  /** what was found running or present and removed */
  stopped: string[];
  netns: string[];
}

async function stopEntries(entries: ProcessEntry[], graceMs: number, stopped: string[]): Promise<void> {
  await Promise.all(entries.map(async (e) => {
    if (e.pid && isAlive(e.pid, e.startTime)) {
      stopped.push(`${e.id} (pid ${e.pid})`);
      await stopProcess(e.pid, e.startTime, graceMs);
    }
  }));
}

/** What of a recorded lab is still there: namespaces, live processes, mounts. Empty = gone. */
export async function labLeftovers(rec: LabRecord): Promise<string[]> {
  const left: string[] = [];
  for (const ns of rec.netns) if (existsSync(netnsPath(ns))) left.push(`namespace ${ns}`);
  for (const p of rec.processes) if (p.pid && isAlive(p.pid, p.startTime)) left.push(`process ${p.id} (pid ${p.pid})`);
  for (const m of await mountsUnder(rec.dir)) left.push(`mount ${m}`);
  for (const p of labProgramsMentioning(rec.dir)) left.push(`process pid ${p}`);
  return left;
}

/** Each host's dockerd and what it left (containers, shims), and its agent's plugin socket. */
async function stopDockerds(rec: LabRecord, stopped: string[]): Promise<void> {
  await Promise.all(rec.hosts.map(async (h) => {
    const d = rec.processes.find((p) => p.id === `dockerd/${h.name}`);
    if (d?.pid && isAlive(d.pid, d.startTime)) stopped.push(`${d.id} (pid ${d.pid})`);
    if (d) await stopDockerd(h);
    await sweepHost(h, { everything: true });
  }));
  // an agent that was killed (not stopped) left its IPAM plugin's socket in the directory all
  // dockerds share; the name is this lab's own (labIpamPlugin)
  for (const h of rec.hosts) rmSync(join(PLUGIN_DIR, `${labIpamPlugin(h)}.sock`), { force: true });
}

export async function destroyLab(dir: string, opts: { keepDir?: boolean; progress?: (line: string) => void } = {}): Promise<DownReport> {
  const say = opts.progress ?? (() => {});
  const rec = readRecord(dir);
  const stopped: string[] = [];
  if (!rec) return { stopped, netns: [] };
  const byRole = (role: ProcessEntry['role']) => rec.processes.filter((p) => p.role === role);

  say('stopping agents and controllers');
  await stopEntries(byRole('agent'), 5000, stopped);
  await stopEntries([...byRole('controller'), ...byRole('other')], 5000, stopped);

  // e.g. an etcd still starting when `up` was killed: its PID never made it to the record.
  // containerd and shims are left to the per-host sweep, after their dockerd has stopped.
  const recorded = new Set(rec.processes.map((p) => p.pid));
  const strays = labProgramsMentioning(rec.dir, /(^|\/)(etcd|dockerd|node)$/).filter((p) => !recorded.has(p));
  if (strays.length) {
    stopped.push(...strays.map((p) => `unrecorded lab process (pid ${p})`));
    await killAndWait(strays);
  }

  say('stopping Docker daemons');
  await stopDockerds(rec, stopped);

  say('stopping etcd');
  await stopEntries(byRole('etcd'), 5000, stopped);

  say('removing mounts, cgroups and namespaces');
  const stuck = await unmountUnder(rec.dir);
  const stuckCgroups = rec.cgroupParents.flatMap((cg) => removeCgroup(cg));
  const removedNs: string[] = [];
  for (const ns of [...rec.netns].reverse()) {
    if (!existsSync(netnsPath(ns))) continue;
    const r = await run(['ip', 'netns', 'delete', ns], { reject: false });
    if (r.exitCode === 0) removedNs.push(ns);
  }

  const left = [...(await labLeftovers(rec)), ...stuck.map((m) => `mount ${m}`), ...stuckCgroups.map((c) => `cgroup ${c}`)];
  if (left.length) {
    // the record stays so that another `down` can finish the job
    throw new LabError('DownIncomplete', `lab ${rec.labId} could not be removed completely: ${[...new Set(left)].join(', ')}`, 'run `xctl lab down` again; if it persists, remove these by hand');
  }
  if (!opts.keepDir) rmSync(rec.dir, { recursive: true, force: true });
  return { labId: rec.labId, stopped, netns: removedNs };
}
