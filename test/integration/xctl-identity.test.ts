// xctl run with an identity etcd refuses (a node's certificate, which may read and write only
// that node's keys): it printed gRPC's "error: 7 PERMISSION_DENIED: etcdserver: permission
// denied" and nothing about what to do. It now says etcd refused the request and which
// identity xctl needs; exit 1 (any other failure) as before.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { runXctl } from '../../pkg/cli/program.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd({ auth: true }); }, 60_000);
afterAll(async () => { await etcd?.stop(); });

async function xctl(args: string[], id: 'admin' | 'node'): Promise<{ code: number; out: string; err: string }> {
  const auth = etcd.auth!;
  const c = auth.connection(id === 'admin' ? auth.ids.admin : await auth.addNode('host-1'));
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(['--cacert', c.cacert!, '--cert', c.cert!, '--key', c.key!, ...args], {
    out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, stdin: async () => '', env: { XCTL_ENDPOINTS: c.endpoints.join(',') },
  });
  return r;
}

describe('xctl as an identity etcd refuses', () => {
  it('says etcd refused the request and that xctl needs xnet-admin\'s certificate, exit 1', async () => {
    const r = await xctl(['get', 'nodes'], 'node');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^error: etcd refused the request: permission denied\n\(xctl reads every xnet key and writes objects as etcd's xnet-admin user: give its certificate with --cert and --key/);
    expect(r.err).not.toContain('PERMISSION_DENIED');
  });

  it('diff says so too, with an error code above 1 (1 means "differs")', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xctl-identity-'));
    const file = join(dir, 'nic.yaml');
    // a NIC: checking it reads what only xnet-admin may (a node's certificate reads the shared objects)
    writeFileSync(file, 'apiVersion: xnet.io/v1alpha1\nkind: ContainerNic\nmetadata:\n  name: web-eth1\n'
      + 'spec: {node: host-2, container: web, ifName: eth1, network: {clusterNetwork: default}}\n');
    try {
      const r = await xctl(['diff', '-f', file], 'node');
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/^error: etcd refused the request: permission denied\n\(xctl reads every xnet key and writes objects as etcd's xnet-admin user: give its certificate with --cert and --key/);
      expect(r.err).not.toContain('PERMISSION_DENIED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('as xnet-admin the same command works', async () => {
    const r = await xctl(['get', 'nodes'], 'admin');
    expect(r).toMatchObject({ code: 0, err: 'No nodes found.\n' });
  });
});
