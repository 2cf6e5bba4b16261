// `lab up` on a lab that is already up. An agent or a controller killed to see what happens
// (the README invites breaking things) used to leave the user one way back: `lab down` and a new
// lab. Now `up` starts the xnet daemons that died again, each with the command line it was first
// started with (the lab's record), as `docker compose up` starts a stopped service; what the lab
// itself provides (etcd, the dockerds, the namespaces) is not remade: with one of those gone the
// lab is not whole, and `down` then `up` is the way.
import { LabError } from './errors.js';
import { isAlive, readPidFile } from './proc.js';
import { restartRecorded, type Started } from './services.js';
import { openLab } from './hosts.js';
import { readRecord } from './record.js';
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
/** what the lab itself provides: with one of these gone it is not whole */
const LAB_PARTS: ReadonlySet<ProcessEntry['role']> = new Set(['etcd', 'dockerd']);

/**
 * Starts again the agents and controllers of a complete lab that are not running; throws
 * LabExists when every process runs (nothing to do: the lab is up), when the lab never finished
 * coming up, or when etcd or a dockerd died (the lab is not whole).
 */
export async function restartDeadDaemons(rec: LabRecord, say: (line: string) => void): Promise<Started[]> {
  const hint = 'see `xctl lab status`, or remove it with `xctl lab down`';
  if (!rec.complete) throw new LabError('LabExists', `a lab that did not finish coming up is in ${rec.dir}`, hint);
  const gone = rec.processes.filter((p) => (XNET_DAEMONS.has(p.role) || LAB_PARTS.has(p.role)) && dead(p));
  const notOurs = gone.filter((p) => LAB_PARTS.has(p.role));
  if (notOurs.length) {
    throw new LabError('LabExists', `the lab in ${rec.dir} is up but ${notOurs.map((p) => p.id).join(', ')} ${notOurs.length === 1 ? 'is' : 'are'} not running, which \`up\` does not start again`, 'remove it with `xctl lab down`, then `xctl lab up`');
  }
  if (!gone.length) throw new LabError('LabExists', `a lab is already up in ${rec.dir}, every process running`, hint);
  const lab = openLab(rec.dir)!;
  const started: Started[] = [];
  for (const p of gone) {
    const s = await restartRecorded(lab, p);
    say(s.missing ? `${p.id}: not built (${s.missing} missing), not started` : `${p.id} was not running: started again (pid ${s.pid})`);
    started.push(s);
  }
  await stillRunning(rec.dir, started);
  return started;
}

/**
 * Waits until each daemon started again serves its metrics (it parsed its flags and runs) or
 * ends; one that ends (a flag it no longer takes, etcd refusing it) is named with its log. A
 * fixed wait would not do: on a loaded machine a daemon takes seconds to load its modules
 * before it even reads its flags.
 */
async function stillRunning(dir: string, started: Started[]): Promise<void> {
  const entries = readRecord(dir)?.processes ?? [];
  const outcome = await Promise.all(started.filter((s) => s.pid).map(async (s) => {
    const e = entries.find((x) => x.id === s.id);
    return { id: s.id, log: e?.log, up: await readyOrGone(s.pid!, e?.metrics) };
  }));
  const died = outcome.filter((o) => !o.up);
  if (!died.length) return;
  const logs = died.map((o) => `${o.id} (log ${o.log})`).join(', ');
  throw new LabError('UpFailed', `started again but ended at once: ${logs}`, 'see the log; `xctl lab down` then `xctl lab up` builds a new lab');
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
