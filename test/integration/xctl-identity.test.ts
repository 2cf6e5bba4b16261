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
import { syncRole } from '../../pkg/auth/etcd-auth.js';
import { adminRole } from '../../pkg/auth/roles.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd({ auth: true }); }, 60_000);
afterAll(async () => { await etcd?.stop(); });

async function xctl(args: string[], id: 'admin' | 'node' | 'root'): Promise<{ code: number; out: string; err: string }> {
  const auth = etcd.auth!;
  const c = auth.connection(id === 'admin' ? auth.ids.admin : id === 'root' ? auth.ids.root : await auth.addNode('host-1'));
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(['--cacert', c.cacert!, '--cert', c.cert!, '--key', c.key!, ...args], {
    out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, stdin: async () => '', env: { XCTL_ENDPOINTS: c.endpoints.join(',') },
  });
  return r;
}

/** The refusal of a node's identity: it names the identity xctl ran as (its certificate's CN), then the one it needs. */
const REFUSED_AS_NODE = new RegExp('^error: etcd refused the request: permission denied\\n\\(xctl ran as etcd\'s node-host-1 user \\(the CN of the client certificate [^)]+\\.pem\\); ' +
  'it reads every xnet key and writes objects as etcd\'s xnet-admin user: give its certificate with --cert and --key, or none against the running lab, which uses it; docs/security.md\\)\\n$');

describe('xctl as an identity etcd refuses', () => {
  it('says etcd refused the request and that xctl needs xnet-admin\'s certificate, exit 1', async () => {
    const r = await xctl(['get', 'nodes'], 'node');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(REFUSED_AS_NODE);
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
      expect(r.err).toMatch(REFUSED_AS_NODE);
      expect(r.err).not.toContain('PERMISSION_DENIED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('as xnet-admin the same command works', async () => {
    const r = await xctl(['get', 'nodes'], 'admin');
    expect(r).toMatchObject({ code: 0, err: 'No nodes found.\n' });
  });

  // An installation upgraded without `xctl auth init` run again: xnet-admin's role as an older
  // version made it, without the grant on the observed-state reports a Node's delete takes.
  it('after an upgrade without auth init, names auth init as the way out, and auth init mends it', async () => {
    const old = adminRole();
    await syncRole(etcd.client(), { ...old, grants: old.grants.filter((g) => !JSON.stringify(g).includes('/observed/')) });
    const dir = mkdtempSync(join(tmpdir(), 'xctl-identity-'));
    const file = join(dir, 'node.yaml');
    writeFileSync(file, 'apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: host-9\nspec: {}\n');
    try {
      expect((await xctl(['apply', '-f', file], 'admin')).code).toBe(0);
      // the dry run is refused as the delete is: it said '(dry run)' and exit 0 before, and the delete then failed
      const dry = await xctl(['delete', 'node', 'host-9', '--dry-run'], 'admin');
      expect(dry.code, dry.out + dry.err).toBe(1);
      expect(dry.err).toContain('etcd refused the request: permission denied');
      const refused = await xctl(['delete', 'node', 'host-9'], 'admin');
      expect(refused.code).toBe(1);
      expect(refused.err).toContain('etcd refused the request: permission denied');
      // named as the identity it ran as, not told to give the certificate it gave
      expect(refused.err).toMatch(/xctl ran as etcd's xnet-admin user \(the CN of the client certificate [^)]+\); it reads every xnet key and writes objects as etcd's xnet-admin user: that is the one it ran as, so its role may be older than this xnet \(upgraded since auth init last ran\): run `xctl auth init` again/);
      expect(refused.err).not.toContain('give its certificate');
      expect((await xctl(['get', 'node', 'host-9'], 'admin')).code).toBe(0);
      expect((await xctl(['auth', 'init', '--ca-dir', etcd.auth!.ids.ca.dir], 'root')).code).toBe(0);
      // permitted, the dry run writes nothing still
      expect(await xctl(['delete', 'node', 'host-9', '--dry-run'], 'admin')).toMatchObject({ code: 0 });
      expect((await xctl(['get', 'node', 'host-9'], 'admin')).code, 'host-9 after the dry run').toBe(0);
      expect((await xctl(['delete', 'node', 'host-9'], 'admin'))).toMatchObject({ code: 0 });
    } finally {
      await syncRole(etcd.client(), old);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // An identity that reads every key and writes none (xnet-admin's role cut to its read grant):
  // `diff` reads and compares, so it works; `apply --dry-run` is refused, as the apply would be.
  it('read-only: diff shows the difference (exit 1), apply --dry-run is refused as the apply is', async () => {
    const full = adminRole();
    await syncRole(etcd.client(), { ...full, grants: full.grants.filter((g) => g.access === 'read') });
    const dir = mkdtempSync(join(tmpdir(), 'xctl-identity-'));
    const file = join(dir, 'node.yaml');
    writeFileSync(file, 'apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: host-8\nspec: {}\n');
    try {
      const diff = await xctl(['diff', '-f', file], 'admin');
      expect(diff.code, diff.err).toBe(1);
      expect(diff.out).toContain('host-8');
      const dry = await xctl(['apply', '-f', file, '--dry-run'], 'admin');
      expect(dry.code, dry.out + dry.err).toBe(1);
      expect(dry.err).toContain('etcd refused the request: permission denied');
    } finally {
      await syncRole(etcd.client(), full);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
