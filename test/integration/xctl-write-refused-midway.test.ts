// An apply or delete of several transactions by an identity etcd lets write only some of the
// keys: etcd refuses a later transaction. The message printed gRPC's "7 PERMISSION_DENIED:
// etcdserver: permission denied" and promised that re-running the same command converges,
// which with the same identity is refused again. It now says etcd refused the request, which
// identity xctl needs, and that a re-run converges once it runs as one etcd lets write them.
// The message is the claim, not xctl's process: xctl runs in the test's process (xctlInTest).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { xctlInTest } from '../harness/xctl-in-process.js';
import { syncRole } from '../../pkg/auth/etcd-auth.js';
import type { Identity } from '../../pkg/auth/pki.js';
import { Keys, prefixEnd } from '../../pkg/store/keys.js';

const keys = new Keys();
let etcd: TestEtcd;
let dir: string;
/** node-partial: reads every xnet key, writes the Nodes named a-... (and what their deletes take) */
let partial: Identity;

beforeAll(async () => {
  etcd = await startEtcd({ auth: true });
  dir = mkdtempSync(join(tmpdir(), 'xctl-refused-'));
  partial = await etcd.auth!.addNode('partial');
  await syncRole(etcd.client(), { name: 'node-partial', grants: [
    { access: 'read', key: `${keys.prefix}/`, prefix: true },
    { access: 'readwrite', key: `${keys.objects('Node')}a-`, prefix: true },
    { access: 'readwrite', key: keys.statusRoot(), prefix: true },
    { access: 'readwrite', key: keys.nodeObserved(''), prefix: true },
  ] });
}, 60_000);
afterAll(async () => {
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function xctl(args: string[], id: Identity) {
  const c = etcd.auth!.connection(id);
  return xctlInTest(['--endpoints', c.endpoints.join(','), '--cacert', c.cacert!, '--cert', c.cert!, '--key', c.key!, ...args]);
}

const nodes = (names: string[]) => {
  const f = join(dir, `${names[0]}.yaml`);
  writeFileSync(f, names.map((n) => `apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: ${n}\nspec: {}\n`).join('---\n'));
  return f;
};
const range = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}-${i}`);
async function storedNodes(): Promise<number> {
  const p = keys.objects('Node');
  return Number((await etcd.client().kv.range({ key: Buffer.from(p), range_end: prefixEnd(p), count_only: true })).count);
}
/** The hint names the identity xctl ran as (the CN of the certificate given), then the one it needs; before, only the latter. */
const identityHint = () => `(xctl ran as etcd's node-partial user (the CN of the client certificate ${etcd.auth!.connection(partial).cert}); ` +
  'it reads every xnet key and writes objects as etcd\'s xnet-admin user: give its certificate with --cert and --key, or none against the running lab, which uses it; docs/security.md).';

describe('a write of several transactions that etcd refuses midway', () => {
  it('apply says etcd refused it, which identity to use, and no re-run converges as is; as xnet-admin it does', async () => {
    const f = nodes([...range('a', 150), ...range('b', 50)]);
    const r = await xctl(['apply', '-f', f], partial);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error: apply stopped after 1 of 2 transactions: 128 of 200 objects written (the first 128 in manifest order are done, up to and including node/a-127): etcd refused the request: permission denied\n');
    expect(r.stderr).not.toContain('PERMISSION_DENIED');
    expect(r.stderr).not.toContain('Re-running the same apply converges');
    expect(r.stderr).toContain('Re-running converges once xctl writes as an identity etcd lets write them');
    expect(r.stderr).toContain(identityHint());
    expect(await storedNodes()).toBe(128);

    const admin = await xctl(['apply', '-f', f], etcd.auth!.ids.admin);
    expect(admin.exitCode).toBe(0);
    expect(admin.stdout.split('\n').filter((l) => l.endsWith(' unchanged'))).toHaveLength(128);
    expect(await storedNodes()).toBe(200);
  }, 60_000);

  it('delete -f says the same', async () => {
    // a Node's delete is 4 operations: 32 per transaction, the second one reaches b-0
    const f = nodes([...range('a-del', 40), ...range('z', 10)]);
    expect((await xctl(['apply', '-f', f], etcd.auth!.ids.admin)).exitCode).toBe(0);
    const before = await storedNodes();
    const r = await xctl(['delete', '-f', f], partial);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('error: delete stopped after 1 of 2 transactions: 32 of 50 objects deleted (the first 32 in manifest order are done, up to and including node/a-del-31): etcd refused the request: permission denied\n');
    expect(r.stderr).not.toContain('Re-running the same delete converges');
    expect(r.stderr).toContain(identityHint());
    expect(await storedNodes()).toBe(before - 32);
  }, 60_000);

  it('label says the same', async () => {
    const f = nodes([...range('a-lbl', 150), ...range('z-lbl', 50)]);
    writeFileSync(f, readFileSync(f, 'utf8').replaceAll('metadata:\n', 'metadata:\n  labels: {grp: lbl}\n'));
    expect((await xctl(['apply', '-f', f], etcd.auth!.ids.admin)).exitCode).toBe(0);
    const r = await xctl(['label', 'node', '-l', 'grp=lbl', 'rack=r1'], partial);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^error: label stopped after 1 of 2 transactions: 128 of 200 objects written \(the first 128 in the order listed are done, up to and including node\/a-lbl-\d+\): etcd refused the request: permission denied\n/);
    expect(r.stderr).not.toContain('Re-running the same label converges');
    expect(r.stderr).toContain(identityHint());
  }, 60_000);
});
