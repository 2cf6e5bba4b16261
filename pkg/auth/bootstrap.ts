// The identities an xnet installation starts with, in one CA directory: etcd's own server
// certificate (for a local etcd: the lab, tests) and root, controller and admin client
// certificates. Used by `xctl auth init`, the lab and the test harness alike.
import type { EtcdConnection } from '../etcd/client.js';
import type { EtcdTlsOptions } from '../etcd/server.js';
import { CertificateAuthority, type Identity } from './pki.js';
import { ADMIN_USER, CONTROLLER_USER, nodeUser, ROOT_USER } from './roles.js';

export const ETCD_SERVER_IDENTITY = 'etcd-server';
const LOOPBACK_NAMES = ['IP:127.0.0.1', 'DNS:localhost'];

export interface ClusterIdentities {
  ca: CertificateAuthority;
  root: Identity;
  controller: Identity;
  admin: Identity;
}

/** The CA (made if missing) and the root, controller and admin identities (issued if missing). */
export async function clusterIdentities(caDir: string): Promise<ClusterIdentities> {
  const ca = new CertificateAuthority(caDir);
  await ca.ensure();
  const [root, controller, admin] = await Promise.all([ROOT_USER, CONTROLLER_USER, ADMIN_USER].map((u) => ca.issue(u)));
  return { ca, root, controller, admin };
}

/** TLS for an etcd on loopback that only admits clients with a certificate of this CA. */
export async function loopbackServerTls(ids: ClusterIdentities): Promise<EtcdTlsOptions> {
  const server = await ids.ca.issue(ETCD_SERVER_IDENTITY, { serverNames: LOOPBACK_NAMES });
  return {
    certFile: server.cert, keyFile: server.key, trustedCaFile: ids.ca.caCert, clientCertAuth: true,
    clientCertFile: ids.root.cert, clientKeyFile: ids.root.key,
  };
}

export function nodeIdentity(ca: CertificateAuthority, node: string, outDir?: string): Promise<Identity> {
  return ca.issue(nodeUser(node), { outDir });
}

/** What a client passes to connect as `id` (the --cacert/--cert/--key of every program). */
export function connectionAs(endpoints: string[], caCert: string, id: Identity): EtcdConnection {
  return { endpoints, cacert: caCert, cert: id.cert, key: id.key };
}

/** The same as program flags. */
export function tlsArgs(caCert: string, id: Identity): string[] {
  return ['--cacert', caCert, '--cert', id.cert, '--key', id.key];
}
