// syncRole brings an etcd role to what roles.ts says when roles change (an upgrade runs `xctl
// auth init` again): new grants first, then the revocations, so a run that fails midway leaves
// the role with more than before, never less; a range whose access changes is updated in place.
// Real etcd (auth not enabled: roles are managed the same way).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3, IPermission } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { syncRole } from '../../pkg/auth/etcd-auth.js';
import type { RoleSpec } from '../../pkg/auth/roles.js';

let etcd: TestEtcd;
let client: Etcd3;
beforeAll(async () => { etcd = await startEtcd(); client = etcd.client(); });
afterAll(async () => { await etcd?.stop(); });

const perms = async (role: string) => ((await client.auth.roleGet({ role })).perm ?? [])
  .map((p: IPermission) => `${p.permType ?? 'Read'} ${p.key.toString()}${p.range_end?.length ? '*' : ''}`).sort();

const before: RoleSpec = { name: 'r1', grants: [{ access: 'read', key: '/a/', prefix: true }, { access: 'readwrite', key: '/b', prefix: false }] };
const after: RoleSpec = { name: 'r1', grants: [{ access: 'readwrite', key: '/a/', prefix: true }, { access: 'read', key: '/c/', prefix: true }] };

describe('syncRole', () => {
  it('ends with exactly the new grants, a changed access updated in place', async () => {
    await syncRole(client, before);
    expect(await perms('r1')).toEqual(['Read /a/*', 'Readwrite /b']);
    await syncRole(client, after);
    expect(await perms('r1')).toEqual(['Read /c/*', 'Readwrite /a/*']);
  });

  it('grants before it revokes: a run that fails at its first revocation leaves the new grants in place', async () => {
    const role = { ...before, name: 'r2' };
    await syncRole(client, role);
    // the same client, but etcd "fails" every revocation
    const failing = new Proxy(client, {
      get: (t, p) => p !== 'auth' ? Reflect.get(t, p) : new Proxy(t.auth, {
        get: (a, q) => q === 'roleRevokePermission' ? async () => { throw new Error('connection lost'); } : (Reflect.get(a, q) as (...x: unknown[]) => unknown).bind(a),
      }),
    });
    await expect(syncRole(failing, { ...after, name: 'r2' })).rejects.toThrow('connection lost');
    expect(await perms('r2')).toEqual(expect.arrayContaining(['Read /c/*', 'Readwrite /a/*']));
    await syncRole(client, { ...after, name: 'r2' });
    expect(await perms('r2')).toEqual(['Read /c/*', 'Readwrite /a/*']);
  });
});
