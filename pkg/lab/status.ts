// What `lab status` reports: every host and process of the recorded lab, alive or not.
import { existsSync } from 'node:fs';
import { dockerAnswers } from './dockerd.js';
import { netnsPath } from './hosts.js';
import { isAlive } from './proc.js';
import { readRecord } from './record.js';
import { hostCredentials } from './auth.js';
import type { LabRecord } from './types.js';

export type ProcState = 'running' | 'dead' | 'not built' | 'starting';

export interface LabStatus {
  record: LabRecord;
  hosts: { name: string; netns: string; address: string; namespace: boolean; docker: boolean; agent: ProcState; agentPid?: number; agentMetrics?: string }[];
  processes: { id: string; pid?: number; state: ProcState; log: string; metrics?: string }[];
  healthy: boolean;
}

function stateOf(rec: LabRecord, id: string): { state: ProcState; pid?: number } {
  const e = rec.processes.find((p) => p.id === id);
  if (!e) return { state: 'not built' };
  if (!e.pid) return { state: e.argv[0] === process.execPath && !existsSync(e.argv[1] ?? '') ? 'not built' : 'starting' };
  return { state: isAlive(e.pid, e.startTime) ? 'running' : 'dead', pid: e.pid };
}

/** `xctl lab status -o json`: the shape docs/lab.md documents (one object, stable field names). */
export function labStatusJson(st: LabStatus): Record<string, unknown> {
  const rec = st.record;
  return {
    name: rec.labId,
    dir: rec.dir,
    complete: !!rec.complete,
    healthy: st.healthy,
    // the CA and admin identity xctl uses against the lab (absent with an etcd given to `up`)
    etcd: { endpoints: rec.endpoints ?? [], ...(rec.auth ? { ca: rec.auth.ca, admin: { ...rec.auth.admin } } : {}) },
    hosts: st.hosts.map((h) => {
      const host = rec.hosts.find((x) => x.name === h.name);
      const credentials = host && hostCredentials(rec, host);
      return {
        name: h.name, address: h.address, namespace: h.netns,
        docker: { host: host?.dockerHost, state: h.docker ? 'running' : 'not answering' },
        agent: { pid: h.agentPid ?? null, state: h.agent, metrics: h.agentMetrics ?? null },
        // that host's own etcd certificate: what its agent uses
        ...(credentials ? { credentials: { ...credentials } } : {}),
      };
    }),
    processes: st.processes.map((p) => ({ name: p.id, pid: p.pid ?? null, state: p.state, log: p.log, metrics: p.metrics ?? null })),
  };
}

export async function labStatus(dir: string): Promise<LabStatus | undefined> {
  const rec = readRecord(dir);
  if (!rec) return undefined;
  const hosts = await Promise.all(rec.hosts.map(async (h) => {
    const a = stateOf(rec, `agent/${h.name}`);
    return {
      name: h.name, netns: h.netns, address: h.address,
      namespace: existsSync(netnsPath(h.netns)), docker: await dockerAnswers(h),
      agent: a.state, agentPid: a.pid,
      agentMetrics: rec.processes.find((p) => p.id === `agent/${h.name}`)?.metrics,
    };
  }));
  const processes = rec.processes.map((p) => ({ id: p.id, log: p.log, metrics: p.metrics, ...stateOf(rec, p.id) }));
  const healthy = !!rec.complete && hosts.every((h) => h.namespace && h.docker) && processes.every((p) => p.state === 'running' || p.state === 'not built');
  return { record: rec, hosts, processes, healthy };
}
