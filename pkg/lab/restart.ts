// `lab up` on a lab that is already up. An agent or a controller killed to see what happens
// (the README invites breaking things), or a host's dockerd that crashed, used to leave the user
// one way back: `lab down` and a new lab. Now `up` starts again what died, as `docker compose
// up` starts a stopped service: a host's dockerd in its namespace with its recorded command line
// and data root (dockerd.ts restartDockerd, the chaos runner's own), then the agents and
// controllers, each with the command line it was first started with (the lab's record). etcd
// first, on its own data dir and ports (etcd-restart.ts): the cluster's state is in it.
import { LabError } from './errors.js';
import { isAlive, readPidFile } from './proc.js';
import { restartRecorded, type Started } from './services.js';
import { dockerAnswers, restartDockerd } from './dockerd.js';
import { openLab } from './hosts.js';
import { readRecord } from './record.js';
import { restartLabEtcd } from './etcd-restart.js';
import type { LabRecord, ProcessEntry } from './types.js';

/** Not running: by its recorded pid, or (a dockerd whose pid was never recorded) its own pid file. */
function dead(p: ProcessEntry): boolean {
  if (p.pid) return !isAlive(p.pid, p.startTime);
  const fromFile = p.pidfile ? readPidFile(p.pidfile) : undefined;
  return !(fromFile && isAlive(fromFile));
}
const XNET_DAEMONS: ReadonlySet<ProcessEntry['role']> = new Set(['agent', 'controller']);
/** how long a daemon started again may take to serve its metrics (loading its modules, reading its flags) */
const READY_WITHIN_MS = 20_000;
/** what `up` on a lab that is up looks at: etcd, which it does not remake, and what it starts again */
const WATCHED: ReadonlySet<ProcessEntry['role']> = new Set(['etcd', 'dockerd', ...XNET_DAEMONS]);

/**
 * Starts again what is not running in a complete lab: the hosts' dockerds first, then the
 * agents (which need them) and controllers, etcd before all. Throws LabExists when every process
 * runs (nothing to do: the lab is up), when the lab never finished coming up, or when etcd died
 * with its data gone (started nothing); RestartIncomplete, after starting all it could, when a dockerd could not be started
 * again or a daemon ended at once.
 */
export async function restartDeadDaemons(rec: LabRecord, say: (line: string) => void): Promise<Started[]> {
  const hint = 'see `xctl lab status`, or remove it with `xctl lab down`';
  if (!rec.complete) throw new LabError('LabExists', `a lab that did not finish coming up is in ${rec.dir}`, hint);
  const hung = await unansweredDockerds(rec);
  const gone = rec.processes.filter((p) => WATCHED.has(p.role) && dead(p));
  const etcd = await restartEtcdIfGone(rec, gone, say);
  const hangs = hung.length ? [`${hung.join(', ')} running but not answering after ${SETTLE_MS / 1000} s (kill it by its pid, then \`xctl lab up\` again)`] : [];
  if (!gone.length && hangs.length) throw new LabError('RestartIncomplete', hangs[0], hint);
  if (!gone.length) throw new LabError('LabExists', `a lab is already up in ${rec.dir}, every process running`, hint);
  const dockerds = await restartDockerds(rec, gone.filter((p) => p.role === 'dockerd'), say);
  const lab = openLab(rec.dir)!;
  const started: Started[] = [];
  for (const p of gone.filter((p) => XNET_DAEMONS.has(p.role))) {
    const s = await restartRecorded(lab, p);
    say(s.missing ? `${p.id}: not built (${s.missing} missing), not started` : `${p.id} was not running: started again (pid ${s.pid})`);
    started.push(s);
  }
  const ended = await endedAtOnce(rec.dir, started);
  const problems = [...hangs, ...dockerds.problems, ...(ended.length ? [`started again but ended at once: ${ended.map((o) => `${o.id} (log ${o.log})`).join(', ')}`] : [])];
  const all = [...etcd, ...dockerds.started, ...started];
  if (problems.length) {
    const done = all.filter((s) => !s.missing && !s.adopted && !ended.some((o) => o.id === s.id)).map((s) => s.id).join(', ');
    throw new LabError('RestartIncomplete', `${problems.join('; ')}${done ? `; started again: ${done}` : ''}`, 'see `xctl lab status` and the logs named; `xctl lab down` then `xctl lab up` builds a new lab');
  }
  return all;
}

/** etcd first, when it died: everything else talks to it. */
async function restartEtcdIfGone(rec: LabRecord, gone: ProcessEntry[], say: (line: string) => void): Promise<Started[]> {
  const etcd = gone.find((p) => p.role === 'etcd');
  if (!etcd) return [];
  const pid = await restartLabEtcd(openLab(rec.dir)!, rec, etcd);
  say(`etcd was not running: started again on its data (pid ${pid})`);
  return [{ id: 'etcd', pid }];
}

/** How long `up` waits for a dockerd that runs but does not answer to answer or end. */
const SETTLE_MS = 20_000;

/**
 * The dockerds that run but do not answer, once each has had SETTLE_MS to answer or end: one
 * told to stop (SIGTERM) stops its containers first, for seconds, and looked running to `up`,
 * which then started nothing and left it dead (trial). Waited for, it ends and is started again.
 */
async function unansweredDockerds(rec: LabRecord): Promise<string[]> {
  const hung: string[] = [];
  await Promise.all(rec.processes.filter((p) => p.role === 'dockerd' && !dead(p)).map(async (p) => {
    const host = rec.hosts.find((h) => h.name === p.host);
    const end = Date.now() + SETTLE_MS;
    while (host && !dead(p) && !(await dockerAnswers(host))) {
      if (Date.now() > end) { hung.push(p.id); return; }
      await new Promise((r) => setTimeout(r, 250));
    }
  }));
  return hung;
}

/** The dead hosts' dockerds started again (in parallel: each waits for its daemon to answer); what stopped one, as a line. */
async function restartDockerds(rec: LabRecord, gone: ProcessEntry[], say: (line: string) => void): Promise<{ started: Started[]; problems: string[] }> {
  const out = { started: [] as Started[], problems: [] as string[] };
  await Promise.all(gone.map(async (p) => {
    const host = rec.hosts.find((h) => h.name === p.host);
    try {
      if (!host) throw new Error(`no host ${p.host} in the record`);
      const d = await restartDockerd(host);
      say(d.adopted ? `${p.id} runs under another pid, started outside the lab: recorded (pid ${d.pid})` : `${p.id} was not running: started again (pid ${d.pid})`);
      out.started.push({ id: p.id, pid: d.pid, ...(d.adopted ? { adopted: true } : {}) });
    } catch (e) {
      say(`${p.id} was not running and could not be started again`);
      out.problems.push(`${p.id} could not be started again: ${(e as Error).message}`);
    }
  }));
  return out;
}

/**
 * Waits until each daemon started again serves its metrics (it parsed its flags and runs) or
 * ends; one that ends (a flag it no longer takes, etcd refusing it) is named with its log. A
 * fixed wait would not do: on a loaded machine a daemon takes seconds to load its modules
 * before it even reads its flags.
 */
async function endedAtOnce(dir: string, started: Started[]): Promise<{ id: string; log?: string }[]> {
  const entries = readRecord(dir)?.processes ?? [];
  const outcome = await Promise.all(started.filter((s) => s.pid).map(async (s) => {
    const e = entries.find((x) => x.id === s.id);
    return { id: s.id, log: e?.log, up: await readyOrGone(s.pid!, e?.metrics) };
  }));
  return outcome.filter((o) => !o.up);
}

/** true once the daemon answers on its metrics URL (or, without one, is alive after a while); false once it ended. */
async function readyOrGone(pid: number, metrics: string | undefined): Promise<boolean> {
  const until = Date.now() + READY_WITHIN_MS;
  while (Date.now() < until) {
    if (!isAlive(pid)) return false;
    if (!metrics) { await sleep(1000); return isAlive(pid); }
    const ok = await fetch(metrics, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
    if (ok) return true;
    await sleep(100);
  }
  return isAlive(pid);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
