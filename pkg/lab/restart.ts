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
import type { LabRecord, ProcessEntry } from './types.js';

/** Not running: by its recorded pid, or (a dockerd whose pid was never recorded) its own pid file. */
function dead(p: ProcessEntry): boolean {
  if (p.pid) return !isAlive(p.pid, p.startTime);
  const fromFile = p.pidfile ? readPidFile(p.pidfile) : undefined;
  return !(fromFile && isAlive(fromFile));
}
const XNET_DAEMONS: ReadonlySet<ProcessEntry['role']> = new Set(['agent', 'controller']);
/** how long a daemon started again must stay up to count as started (a bad flag ends it sooner) */
const STAY_UP_MS = 500;
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
  await stillRunning(started, gone);
  return started;
}

/** A daemon that ends at once (a flag it no longer takes, etcd refusing it) is named with its log. */
async function stillRunning(started: Started[], entries: ProcessEntry[]): Promise<void> {
  await new Promise((r) => setTimeout(r, STAY_UP_MS));
  const died = started.filter((s) => s.pid && !isAlive(s.pid));
  if (!died.length) return;
  const logs = died.map((s) => `${s.id} (log ${entries.find((e) => e.id === s.id)?.log})`).join(', ');
  throw new LabError('UpFailed', `started again but ended at once: ${logs}`, 'see the log; `xctl lab down` then `xctl lab up` builds a new lab');
}
