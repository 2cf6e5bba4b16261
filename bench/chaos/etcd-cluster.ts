// The chaos lab's etcd: three members on loopback ports, serving TLS with client certificates
// (the lab's CA) and auth enabled, as `xctl lab up` runs its single member. Each member is
// recorded in the lab record (pid and start time), so `destroyLab` ends it even when the runner
// died; a killed member restarts on its own data dir and ports.
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { connectionAs } from '../../pkg/auth/bootstrap.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { startEtcdCluster as startEtcdMembers, startEtcdServer, waitHealthy, type EtcdServer, type EtcdServerOptions, type EtcdTlsOptions } from '../../pkg/etcd/server.js';
import { enableLabAuth, prepareLabAuth } from '../../pkg/lab/auth.js';
import { processStartTime } from '../../pkg/lab/proc.js';
import { readRecord, updateRecord } from '../../pkg/lab/record.js';
import { setLabEndpoints } from '../../pkg/lab/services.js';
import type { Lab } from '../../pkg/lab/types.js';

export interface Member {
  name: string;
  endpoint: string;
  options: EtcdServerOptions;
  pid?: number;
}

export interface EtcdCluster {
  members: Member[];
  endpoints: string[];
  tls: EtcdTlsOptions;
}

/** The member's process in the lab record, so that destroyLab ends it even when the runner died. */
function record(lab: Lab, name: string, dataDir: string, log: string, pid: number): void {
  updateRecord(lab.dir, (r) => {
    const id = `etcd/${name}`;
    r.processes = r.processes.filter((p) => p.id !== id);
    r.processes.push({ id, role: 'etcd', argv: ['etcd', '--data-dir', dataDir], log, pid, startTime: processStartTime(pid) });
  });
}

/** Starts (or restarts after a kill) one member; returns once its process runs. */
export async function startMember(lab: Lab, m: Member): Promise<void> {
  const s = await startEtcdServer(m.options);
  s.process.unref();
  m.pid = s.pid;
  record(lab, m.name, m.options.dataDir, m.options.logFile!, s.pid);
}

/** A member's own options, from its first start: a restart binds the same ports and data dir. */
function memberOf(lab: Lab, s: EtcdServer, initialCluster: string, tls: EtcdTlsOptions): Member {
  return {
    name: s.name,
    endpoint: s.endpoints[0],
    options: {
      dataDir: join(lab.dir, 'etcd'), name: s.name, clientPort: s.clientPort, peerPort: s.peerPort, initialCluster,
      clusterToken: `xnet-chaos-${lab.id}`, logFile: s.logFile, tls,
    },
  };
}

/**
 * Three members with the lab's TLS and auth; the lab's record names their endpoints. The first
 * start picks the ports (again, when one was taken before etcd bound it: pkg/etcd/server.ts).
 */
export async function startEtcdCluster(lab: Lab, size = 3): Promise<EtcdCluster> {
  const tls = await prepareLabAuth(lab);
  const dataDir = join(lab.dir, 'etcd');
  const servers = await startEtcdMembers(size, dataDir, {
    tls, clusterToken: `xnet-chaos-${lab.id}`, logFile: (name) => join(lab.dir, `etcd-${name}.log`), healthTimeoutMs: 30_000,
    // recorded as each starts, not once all are healthy: a runner killed during the wait leaves none behind
    onSpawn: (s) => { s.process.unref(); record(lab, s.name, dataDir, s.logFile, s.pid); },
  });
  const initialCluster = servers.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(',');
  const members = servers.map((s) => ({ ...memberOf(lab, s, initialCluster, tls), pid: s.pid }));
  const endpoints = members.map((m) => m.endpoint);
  setLabEndpoints(lab, endpoints);
  await enableLabAuth(lab);
  return { members, endpoints, tls };
}

/** A client as etcd's root user, to these endpoints only. */
export function rootClient(lab: Lab, endpoints: string[]): Etcd3 {
  const auth = readRecord(lab.dir)!.auth!;
  return createEtcdClient(connectionAs(endpoints, auth.ca, auth.root));
}

/** The member that leads the raft group now (undefined when none answers). */
export async function etcdLeader(lab: Lab, cluster: EtcdCluster): Promise<Member | undefined> {
  for (const m of cluster.members) {
    const c = rootClient(lab, [m.endpoint]);
    try {
      const s = await c.maintenance.status();
      if (s.header.member_id === s.leader) return m;
    } catch { /* down or not answering */ } finally { c.close(); }
  }
  return undefined;
}

/** Waits until every member answers a read (quorum and all three up). */
export async function waitClusterHealthy(cluster: EtcdCluster, timeoutMs = 30_000): Promise<void> {
  for (const m of cluster.members) await waitHealthy([m.endpoint], { tls: cluster.tls, timeoutMs });
}
