// --cacert/--cert/--key against a real etcd that requires client certificates.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../pkg/etcd/server.js';
import { runXctl } from '../../pkg/cli/program.js';

let dir: string;
let etcd: ChildProcess | undefined;
let endpoint: string;
const f = (n: string) => join(dir, n);

async function openssl(args: string[]) {
  await execa('openssl', args, { cwd: dir });
}

async function issue(name: string, ext: string) {
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  writeFileSync(f(`${name}.ext`), ext);
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xctl-tls-'));
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=xnet-test-ca']);
  await issue('server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  await issue('client', 'extendedKeyUsage=clientAuth\n');
  const [cp, pp] = [await freePort(), await freePort()];
  endpoint = `https://127.0.0.1:${cp}`;
  const peer = `http://127.0.0.1:${pp}`;
  etcd = spawn('etcd', [
    '--data-dir', f('data'), '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `default=${peer}`,
    '--cert-file', f('server.pem'), '--key-file', f('server.key'), '--client-cert-auth', '--trusted-ca-file', f('ca.pem'),
  ], { stdio: 'ignore' });
  const c = new Etcd3({ hosts: endpoint, dialTimeout: 1000, credentials: {
    rootCertificate: readFileSync(f('ca.pem')), certChain: readFileSync(f('client.pem')), privateKey: readFileSync(f('client.key')),
  } });
  try {
    for (let i = 0; ; i++) {
      try { await c.get('health').string(); break; } catch (e) { if (i > 100) throw e; await new Promise((r) => setTimeout(r, 100)); }
    }
  } finally { c.close(); }
});

afterAll(async () => {
  if (etcd && etcd.exitCode === null) {
    const gone = new Promise((r) => etcd!.once('exit', r));
    etcd.kill('SIGTERM');
    await gone;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function xctl(args: string[], stdin = '') {
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(args, { out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, stdin: async () => stdin, env: {} });
  return r;
}

describe('xctl over TLS', () => {
  it('applies and reads with --cacert --cert --key', async () => {
    const tls = ['--endpoints', endpoint, '--cacert', f('ca.pem'), '--cert', f('client.pem'), '--key', f('client.key')];
    const a = await xctl([...tls, 'apply', '-f', '-'], 'apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata: {name: tls-1}\n');
    expect(a).toMatchObject({ code: 0, out: 'node/tls-1 created\n' });
    expect((await xctl([...tls, 'get', 'no', 'tls-1', '-o', 'json'])).out).toContain('"name": "tls-1"');
  });

  it('fails without a client certificate when etcd requires one', async () => {
    const r = await xctl(['--endpoints', endpoint, '--cacert', f('ca.pem'), 'get', 'nodes']);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/^error: cannot reach etcd: .*bad certificate/);
    expect(r.err).toContain('check --cacert, --cert and --key');
  });
});
