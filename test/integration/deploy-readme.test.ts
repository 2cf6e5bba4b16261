// deploy/README.md's commands, run as written where they can run here. The openssl command that
// signs an etcd member's server certificate with the xnet CA: `openssl req -CA` without
// basicConstraints takes the configuration's CA extensions (Debian's v3_ca: CA:TRUE), and a
// server certificate that is a CA lets whoever holds the member's server key sign client
// certificates that chain to the xnet CA, which etcd then admits (CN=root as etcd's root).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../pkg/auth/pki.js';

const README = readFileSync('deploy/README.md', 'utf8');

/** The argv of the README's `openssl req ... -CA` block, its paths moved into dir. */
function serverCertCommand(dir: string): string[] {
  const block = [...README.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => /^openssl req .*-CA /ms.test(b));
  expect(block, 'the README has the openssl command').toBeDefined();
  const argv = block!.replace(/\\\n/g, ' ').trim().split(/\s+/);
  expect(argv.slice(0, 2)).toEqual(['openssl', 'req']);
  return argv.slice(1).map((a) => a.replaceAll('/root/xnet-ca/', `${dir}/ca/`));
}

const dir = mkdtempSync(join(tmpdir(), 'xnet-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const openssl = (args: string[], cwd = dir) => execa('openssl', args, { cwd, reject: false, timeout: 15_000 });

/** A client certificate CN=root signed with the server certificate's key, as its holder could. */
async function clientSignedByServer(server: string, key: string, out: string) {
  const r = await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=root',
    '-CA', server, '-CAkey', key, '-days', '1', '-keyout', `${out}-key.pem`, '-out', `${out}.pem`,
    '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'extendedKeyUsage=clientAuth']);
  expect(r.exitCode, r.stderr).toBe(0);
  // what etcd checks: the chain the client presents (its certificate, then the server's) up to the CA
  return openssl(['verify', '-CAfile', `${dir}/ca/ca.pem`, '-untrusted', server, '-purpose', 'sslclient', `${out}.pem`]);
}

describe('deploy/README.md: an etcd member\'s server certificate', () => {
  beforeAll(async () => { await new CertificateAuthority(join(dir, 'ca')).ensure(); });

  it('made by the README\'s command is a server certificate of the xnet CA that is no CA itself', async () => {
    const r = await openssl(serverCertCommand(dir));
    expect(r.exitCode, r.stderr).toBe(0);
    const ext = await openssl(['x509', '-in', 'server.pem', '-noout', '-ext', 'basicConstraints,keyUsage,extendedKeyUsage,subjectAltName']);
    expect(ext.stdout).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(ext.stdout).toMatch(/Key Usage: critical\s+Digital Signature/);
    expect(ext.stdout).toMatch(/TLS Web Server Authentication/);
    expect(ext.stdout).toMatch(/IP Address:10\.0\.0\.1/);
    expect((await openssl(['verify', '-CAfile', `${dir}/ca/ca.pem`, '-purpose', 'sslserver', 'server.pem'])).stdout).toMatch(/OK/);
    // its key signs no client certificate that chains to the CA
    const forged = await clientSignedByServer(join(dir, 'server.pem'), join(dir, 'server-key.pem'), join(dir, 'forged'));
    expect(forged.exitCode).not.toBe(0);
  });

  it('made without the basicConstraints and keyUsage extensions is a CA whose key signs an accepted root (the check above can fail)', async () => {
    const sub = mkdtempSync(join(dir, 'old-'));
    const argv = serverCertCommand(dir);
    const without = argv.filter((a, i) => !/^(basicConstraints|keyUsage)=/.test(a) && !(a === '-addext' && /^(basicConstraints|keyUsage)=/.test(argv[i + 1] ?? '')));
    expect(without.length).toBe(argv.length - 4);
    const r = await openssl(without, sub);
    expect(r.exitCode, r.stderr).toBe(0);
    const forged = await clientSignedByServer(join(sub, 'server.pem'), join(sub, 'server-key.pem'), join(sub, 'forged'));
    expect(forged.stdout).toMatch(/OK/);
  });
});

// Without --endpoints or XCTL_ENDPOINTS xctl goes to http://127.0.0.1:2379 (no lab on an admin
// machine): `xctl auth add-node host-1 --ca-dir ... --out ...` as the README once wrote it
// stopped with exit 5, ECONNREFUSED 127.0.0.1:2379.
describe('deploy/README.md: the xctl commands', () => {
  it('each names etcd: its own --endpoints, or the XCTL_ENDPOINTS exported before it', () => {
    const blocks = [...README.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]);
    const lines = blocks.flatMap((b) => b.replace(/\\\n/g, ' ').split('\n')).map((l) => l.trim());
    const exported = lines.findIndex((l) => /^export XCTL_ENDPOINTS=https:\/\/\S+$/.test(l));
    const xctl = lines.map((l, i) => [l, i] as const).filter(([l]) => /^xctl /.test(l));
    expect(xctl.length).toBeGreaterThan(0);
    for (const [l, i] of xctl) expect(/--endpoints /.test(l) || (exported >= 0 && exported < i), l).toBe(true);
    // the prose's commands too: `xctl auth remove-node ...` is written inline
    for (const m of README.matchAll(/`(xctl auth [^`]+)`/g)) expect(exported >= 0 && README.indexOf(m[1]) > README.indexOf('export XCTL_ENDPOINTS='), m[1]).toBe(true);
  });
});
