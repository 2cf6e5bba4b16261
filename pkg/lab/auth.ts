// The lab's etcd runs with TLS and auth like a real installation (deploy/): a CA in the lab
// directory, its own certificate for each host's agent, the controllers' and xctl's. The
// roles are the ones `xctl auth` grants (pkg/auth/roles.ts), so every lab and e2e test runs
// under the restrictions.
import { join } from 'node:path';
import { clusterIdentities, connectionAs, loopbackServerTls, nodeIdentity, tlsArgs } from '../auth/bootstrap.js';
import { addNodeAuth, initAuth } from '../auth/etcd-auth.js';
import { CertificateAuthority } from '../auth/pki.js';
import { nodeUser } from '../auth/roles.js';
import { createEtcdClient } from '../etcd/client.js';
import type { EtcdTlsOptions } from '../etcd/server.js';
import { readRecord, updateRecord } from './record.js';
import type { Lab, LabAuth, LabHost, LabIdentity, LabRecord } from './types.js';

export function labPkiDir(labDir: string): string {
  return join(labDir, 'pki');
}

/** Makes the CA and control-plane identities, records them, returns the etcd server's TLS. */
export async function prepareLabAuth(lab: Lab): Promise<EtcdTlsOptions> {
  const caDir = labPkiDir(lab.dir);
  const ids = await clusterIdentities(caDir);
  const tls = await loopbackServerTls(ids);
  const auth: LabAuth = { caDir, ca: ids.ca.caCert, root: ids.root, controller: ids.controller, admin: ids.admin };
  updateRecord(lab.dir, (r) => { r.auth = auth; });
  return tls;
}

function withClient<T>(rec: LabRecord, id: LabIdentity, f: (c: ReturnType<typeof createEtcdClient>) => Promise<T>): Promise<T> {
  const c = createEtcdClient(connectionAs(rec.endpoints ?? [], rec.auth!.ca, id));
  return f(c).finally(() => c.close());
}

/** Creates the users and roles and enables auth on the lab's freshly started etcd. */
export async function enableLabAuth(lab: Lab): Promise<void> {
  const rec = readRecord(lab.dir)!;
  await withClient(rec, rec.auth!.root, (c) => initAuth(c));
}

/** The host's own certificate (CN node-<host>), as recorded or about to be issued. */
export function hostCredentials(rec: LabRecord, host: Pick<LabHost, 'name'>): LabIdentity | undefined {
  return rec.auth ? new CertificateAuthority(rec.auth.caDir).identity(nodeUser(host.name)) : undefined;
}

/** --cacert/--cert/--key for a program the lab starts (none against external endpoints). */
export function labTlsArgs(rec: LabRecord | undefined, id: LabIdentity | undefined): string[] {
  return rec?.auth && id ? tlsArgs(rec.auth.ca, id) : [];
}

/**
 * A host's certificate and etcd user (node-<host>), as `xctl auth add-node` makes them. Its
 * Node object is not made here: the host's agent reports itself and the controller makes it.
 */
export async function addLabHostIdentity(lab: Lab, host: LabHost): Promise<void> {
  const rec = readRecord(lab.dir);
  if (!rec?.auth) return;
  await nodeIdentity(new CertificateAuthority(rec.auth.caDir), host.name);
  await withClient(rec, rec.auth.root, (c) => addNodeAuth(c, host.name));
}
