// The certificates of a test etcd with auth, made once per test worker and copied into each
// etcd's own directory: each identity cost an `openssl` run and a fork of the worker (0.4-0.7 CPU
// seconds for an etcd's five, 0.1 per node), paid by every file with a lab or an etcd with auth. Each etcd
// still serves TLS, asks for client certificates and enforces auth with them; only the CA (and
// so the keys) is the same for the etcds one worker starts, one after another.
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { clusterIdentities, loopbackServerTls, nodeIdentity, type ClusterIdentities } from '../../pkg/auth/bootstrap.js';
import { CertificateAuthority, type Identity } from '../../pkg/auth/pki.js';
import { nodeUser } from '../../pkg/auth/roles.js';
import { workerCacheDir } from './worker-cache.js';

let made: Promise<string> | undefined;
const nodes = new Map<string, Promise<Identity>>();

/** The worker's template CA directory (CA, root, controller, admin, etcd's server certificate), in workerCacheDir. */
function template(): Promise<string> {
  made ??= (async () => {
    const dir = join(workerCacheDir(), 'pki');
    rmSync(dir, { recursive: true, force: true });
    await loopbackServerTls(await clusterIdentities(dir));
    return dir;
  })().catch((e) => { made = undefined; throw e; });
  return made;
}

/** The cluster identities in `dir` (a directory of its own, not yet there), copied from the worker's template. */
export async function cachedClusterIdentities(dir: string): Promise<ClusterIdentities> {
  cpSync(await template(), dir, { recursive: true });
  // every file is there: these only name them (no openssl run)
  return clusterIdentities(dir);
}

/**
 * node-<name>'s identity in the CA directory of `ids` (as nodeIdentity), issued once in the
 * template; made there directly when that CA is not the template's (a test replaced it).
 */
export async function cachedNodeIdentity(ids: ClusterIdentities, name: string): Promise<Identity> {
  const tpl = await template();
  const want = ids.ca.identity(nodeUser(name));
  const sameCa = readFileSync(ids.ca.caCert, 'utf8') === readFileSync(join(tpl, 'ca.pem'), 'utf8');
  if (sameCa && !(existsSync(want.cert) && existsSync(want.key))) {
    let p = nodes.get(name);
    if (!p) {
      p = nodeIdentity(new CertificateAuthority(tpl), name);
      p.catch(() => nodes.delete(name));
      nodes.set(name, p);
    }
    const from = await p;
    cpSync(from.key, want.key);
    cpSync(from.cert, want.cert);
  }
  return nodeIdentity(ids.ca, name);
}
