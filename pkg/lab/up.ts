// `lab up`: the whole lab in one call (used by `xctl lab up`, the demo and the e2e tests).
import { createHost, createUnderlay, openLab } from './hosts.js';
import { startDockerd } from './dockerd.js';
import { ensureBusyboxImage } from './image.js';
import { DEFAULT_LAB_ID, labDirFor, readRecord, updateRecord } from './record.js';
import { startAgent, startControlPlane, type Started } from './services.js';
import { LabError } from './errors.js';
import { addLabHostIdentity } from './auth.js';
import { destroyLab, labLeftovers } from './down.js';
import { restartDeadDaemons } from './restart.js';
import type { Lab, LabHost } from './types.js';

export interface LabUpOptions {
  id?: string;
  dir?: string;
  hosts?: number;
  controllers?: number;
  /** an existing etcd; a local one is started when absent */
  endpoints?: string[];
  /** start one agent per host (default true) */
  agents?: boolean;
  /** the agents' periodic resync in seconds (default: the agent's own); kept for agents started later */
  agentResyncS?: number;
  progress?: (line: string) => void;
  /** where the busybox image's root filesystem tar is built and kept (default: the lab's directory) */
  imageCacheDir?: string;
}

export interface LabUp {
  lab: Lab;
  hosts: LabHost[];
  endpoints: string[];
  started: Started[];
  /** the lab was up already: only daemons that had died were started */
  restarted?: boolean;
}

export async function labUp(o: LabUpOptions = {}): Promise<LabUp> {
  const id = o.id ?? DEFAULT_LAB_ID;
  const dir = o.dir ?? labDirFor(id);
  const n = o.hosts ?? 2;
  const say = o.progress ?? (() => {});
  if (!Number.isInteger(n) || n < 1 || n > 50) throw new LabError('InvalidHosts', `--hosts ${o.hosts}: use 1..50`);
  const existing = readRecord(dir);
  if (existing) {
    // a record whose namespaces, processes and mounts are all gone (the machine rebooted):
    // nothing to protect, so clear it instead of making the user run `down` first
    if ((await labLeftovers(existing)).length > 0) {
      // already up: the xnet daemons that died are started again (restart.ts)
      const started = await restartDeadDaemons(existing, say);
      return { lab: openLab(dir)!, hosts: existing.hosts, endpoints: existing.endpoints ?? [], started, restarted: true };
    }
    say(`clearing the record of a lab that is no longer running (${dir})`);
    await destroyLab(dir);
  }
  const t0 = Date.now();
  const secs = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  const lab = await createUnderlay(id, { dir });
  if (o.agentResyncS !== undefined) updateRecord(lab.dir, (r) => { r.agentResyncS = o.agentResyncS; });
  say(`underlay ${lab.subnet} on bridge ${lab.bridge} in namespace ${lab.underlayNetns}`);
  const cp = await startControlPlane(lab, { controllers: o.controllers ?? 2, endpoints: o.endpoints });
  say(o.endpoints?.length ? `using etcd at ${cp.endpoints.join(',')}` : `local etcd at ${cp.endpoints.join(',')} (${secs()})`);
  for (const s of cp.started) say(s.missing ? `${s.id}: not built (${s.missing} missing), skipped` : `${s.id} started (pid ${s.pid})`);
  const started = [...cp.started];
  // hosts come up in parallel, but etcd refuses concurrent auth changes ("revision of auth
  // store is old"): their identities are added one after another
  let authChain = Promise.resolve();
  const addIdentity = (h: LabHost) => (authChain = authChain.then(() => addLabHostIdentity(lab, h)));
  const hosts = await Promise.all(Array.from({ length: n }, async (_, i) => {
    const h = await createHost(lab, i + 1);
    await startDockerd(h);
    await ensureBusyboxImage(h, { cacheDir: o.imageCacheDir });
    if (o.agents !== false) await addIdentity(h);
    const a = o.agents === false ? undefined : await startAgent(lab, h, cp.endpoints);
    if (a) started.push(a);
    const agent = !a ? 'no agent' : a.missing ? 'agent not built' : `agent pid ${a.pid}`;
    say(`${h.name}: ${h.address} in namespace ${h.netns}, dockerd + xnet/busybox ready, ${agent} (${secs()})`);
    return h;
  }));
  updateRecord(lab.dir, (r) => { r.complete = true; });
  return { lab, hosts, endpoints: cp.endpoints, started };
}
