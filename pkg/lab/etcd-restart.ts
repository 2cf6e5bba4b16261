// `lab up` on a lab whose etcd died (killed to see what happens, or stopped to restore a backup
// into its data dir: docs/faults.md): etcd is started again on its own data dir, on the ports
// the controllers, agents and xctl were given, with a server certificate of the lab's own CA.
// Its users, roles and auth are in the data: nothing is set up again. A data dir that is gone
// is not remade: an empty etcd is not the lab's, so `up` refuses (lab down, then up). (The
// member's own dir is <data dir>/<name>, startEtcdServer's layout.)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startEtcdServer } from '../etcd/server.js';
import { LabError } from './errors.js';
import { prepareLabAuth } from './auth.js';
import { processStartTime } from './proc.js';
import { updateRecord } from './record.js';
import type { Lab, LabRecord, ProcessEntry } from './types.js';

/** The port of the lab's first endpoint (https://127.0.0.1:PORT), for a lab recorded before ports were. */
function endpointPort(rec: LabRecord): number | undefined {
  const port = Number(/:(\d+)\/?$/.exec(rec.endpoints?.[0] ?? '')?.[1]);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/** Starts the lab's dead etcd again; returns its pid. */
export async function restartLabEtcd(lab: Lab, rec: LabRecord, entry: ProcessEntry): Promise<number> {
  const dataDir = join(lab.dir, 'etcd');
  const clientPort = entry.ports?.client ?? endpointPort(rec);
  if (!existsSync(join(dataDir, 'lab', 'member')) || clientPort === undefined) {
    throw new LabError('LabExists', `the lab in ${rec.dir} is up but etcd is not running and its data (${dataDir}) or port is gone`, 'remove it with `xctl lab down`, then `xctl lab up`');
  }
  let server;
  try {
    // the same CA: every program's certificate stays good; a new server certificate of it
    const tls = await prepareLabAuth(lab);
    server = await startEtcdServer({ dataDir, name: 'lab', logFile: entry.log, detached: true, tls, clientPort, peerPort: entry.ports?.peer });
  } catch (e) {
    throw new LabError('EtcdNotStarted', `the lab's etcd did not start again: ${(e as Error).message}`, `see ${entry.log}`);
  }
  updateRecord(lab.dir, (r) => {
    const e = r.processes.find((p) => p.id === 'etcd');
    if (e) { e.pid = server.pid; e.startTime = processStartTime(server.pid); e.ports = { client: server.clientPort, peer: server.peerPort }; }
  });
  return server.pid;
}
