// The chaos lab's etcd: three members on loopback ports, serving TLS with client certificates
// (the lab's CA) and auth enabled, as `xctl lab up` runs its single member. Each member is
// recorded in the lab record (pid and start time), so `destroyLab` ends it even when the runner
// died; a killed member restarts on its own data dir and ports.
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { connectionAs } from '../../pkg/auth/bootstrap.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { freePort, startEtcdServer, waitHealthy, type EtcdServerOptions, type EtcdTlsOptions } from '../../pkg/etcd/server.js';
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

function record(lab: Lab, m: Member, pid: number): void {
  m.pid = pid;
  updateRecord(lab.dir, (r) => {
    const id = `etcd/${m.name}`;
    r.processes = r.processes.filter((p) => p.id !== id);
    r.processes.push({ id, role: 'etcd', argv: ['etcd', '--data-dir', m.options.dataDir], log: m.options.logFile!, pid, startTime: processStartTime(pid) });
  });
}

/** Starts (or restarts after a kill) one member; returns once its process runs. */
export async function startMember(lab: Lab, m: Member): Promise<void> {
  const s = await startEtcdServer(m.options);
  s.process.unref();
  record(lab, m, s.pid);
}

/** Three members with the lab's TLS and auth; the lab's record names their endpoints. */
export async function startEtcdCluster(lab: Lab, size = 3): Promise<EtcdCluster> {
  const tls = await prepareLabAuth(lab);
  const ports = [];
  for (let i = 0; i < size; i++) ports.push({ c: await freePort(), p: await freePort() });
  const initialCluster = ports.map((x, i) => `m${i}=http://127.0.0.1:${x.p}`).join(',');
  const members: Member[] = ports.map((x, i) => ({
    name: `m${i}`,
    endpoint: `https://127.0.0.1:${x.c}`,
    options: {
      dataDir: join(lab.dir, 'etcd'), name: `m${i}`, clientPort: x.c, peerPort: x.p, initialCluster,
      clusterToken: `xnet-chaos-${lab.id}`, logFile: join(lab.dir, `etcd-m${i}.log`), tls,
    },
  }));
  await Promise.all(members.map((m) => startMember(lab, m)));
  const endpoints = members.map((m) => m.endpoint);
  await waitHealthy(endpoints, { tls, timeoutMs: 30_000 });
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
