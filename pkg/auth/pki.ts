// Certificates for etcd's client-certificate authentication (the certificate's CN is the etcd
// user). Keys are made by Node's crypto and written 0600 by us; certificates are signed by the
// `openssl` binary, run with an argument vector (no shell) and only file paths as arguments,
// so no key material ever appears in argv, the environment or a log.
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XnetError } from '../errors.js';

/** Making a CA or a certificate failed (openssl missing or refusing, a half-present CA). */
export class PkiError extends XnetError {
  constructor(message: string) { super('Pki', message); }
}

/** A certificate and its private key, as PEM file paths. */
export interface Identity {
  cert: string;
  key: string;
}

const OPENSSL_TIMEOUT_MS = 15_000;
const CA_DAYS = 3650;
const LEAF_DAYS = 825;
const CN = /^[a-z0-9][a-z0-9.-]{0,62}$/;

async function openssl(args: string[]): Promise<void> {
  // imported here: xctl loads this module for its auth commands, and execa's hundred files
  // would slow every xctl start for the few commands that make certificates
  const { execa } = await import('execa');
  const r = await execa('openssl', args, { timeout: OPENSSL_TIMEOUT_MS, reject: false, stdin: 'ignore' });
  if (r.exitCode === undefined && !r.timedOut) {
    throw new PkiError(`cannot run openssl: ${r.shortMessage} (install it: apt-get install openssl)`);
  }
  if (r.exitCode !== 0) {
    const why = r.timedOut ? `timed out after ${OPENSSL_TIMEOUT_MS} ms` : String(r.stderr || r.stdout).trim();
    throw new PkiError(`openssl ${args[0]} failed: ${why}`);
  }
}

/** A fresh P-256 key, written only by us and only readable by its owner. */
function writeNewKey(path: string): void {
  rmSync(path, { force: true });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}

export interface IssueOptions {
  /** serve TLS too (an etcd member): serverAuth and these subjectAltNames, e.g. IP:127.0.0.1 */
  serverNames?: string[];
  /** where the certificate and key go (default: the CA directory) */
  outDir?: string;
  /** make a new key and certificate even when both exist */
  renew?: boolean;
}

/** A directory holding a CA (ca.pem, ca-key.pem) and the identities it issued (NAME.pem, NAME-key.pem). */
export class CertificateAuthority {
  constructor(readonly dir: string) {}

  get caCert(): string {
    return join(this.dir, 'ca.pem');
  }
  get caKey(): string {
    return join(this.dir, 'ca-key.pem');
  }

  identity(name: string, outDir = this.dir): Identity {
    return { cert: join(outDir, `${name}.pem`), key: join(outDir, `${name}-key.pem`) };
  }

  exists(): boolean {
    return existsSync(this.caCert) && existsSync(this.caKey);
  }

  /** Creates the CA unless both its files exist; true when it made one. */
  async ensure(commonName = 'xnet-etcd-ca'): Promise<boolean> {
    if (this.exists()) return false;
    if (existsSync(this.caCert) !== existsSync(this.caKey)) {
      throw new PkiError(`${this.dir} holds only one of ca.pem and ca-key.pem; restore the other or remove both`);
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeNewKey(this.caKey);
    await openssl([
      'req', '-new', '-x509', '-key', this.caKey, '-out', this.caCert, '-days', String(CA_DAYS), '-subj', `/CN=${commonName}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return true;
  }

  /** A certificate whose CN is `name` (the etcd user), signed by this CA; kept when it exists. */
  async issue(name: string, o: IssueOptions = {}): Promise<Identity> {
    if (!CN.test(name)) throw new PkiError(`"${name}" cannot be a certificate name (lower-case letters, digits, "-" and ".")`);
    if (!this.exists()) throw new PkiError(`no CA in ${this.dir} (run \`xctl auth init --ca-dir ${this.dir}\` first)`);
    const outDir = o.outDir ?? this.dir;
    const id = this.identity(name, outDir);
    if (!o.renew && existsSync(id.cert) && existsSync(id.key)) return id;
    mkdirSync(outDir, { recursive: true, mode: 0o700 });
    writeNewKey(id.key);
    const server = o.serverNames?.length;
    await openssl([
      'req', '-new', '-key', id.key, '-subj', `/CN=${name}`, '-CA', this.caCert, '-CAkey', this.caKey,
      '-days', String(LEAF_DAYS), '-out', id.cert,
      '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature',
      '-addext', `extendedKeyUsage=${server ? 'serverAuth,clientAuth' : 'clientAuth'}`,
      ...(server ? ['-addext', `subjectAltName=${o.serverNames!.join(',')}`] : []),
    ]);
    return id;
  }

  /** Puts a copy of the CA certificate (never its key) next to identities handed out. */
  exportCaCert(outDir: string): string {
    mkdirSync(outDir, { recursive: true, mode: 0o700 });
    const to = join(outDir, 'ca.pem');
    if (to !== this.caCert) copyFileSync(this.caCert, to);
    return to;
  }
}
