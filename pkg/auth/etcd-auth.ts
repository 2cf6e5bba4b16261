// Puts the roles of roles.ts into etcd: users without passwords (they authenticate with their
// certificate's CN only), one role each, and `auth enable`. Every step is idempotent, so
// `xctl auth init` and `add-node` can be run again after a failure or a change of roles.ts.
import type { Etcd3, IPermission } from 'etcd3';
import { prefixEnd } from '../etcd/range.js';
import { clusterRoles, nodeOfUser, nodeRole, nodeUser, ROOT_USER, type Grant, type RoleSpec } from './roles.js';
import { name as nameSchema } from '../api/fields.js';
import { Keys } from '../store/keys.js';

const PERM = { read: 'Read', write: 'Write', readwrite: 'Readwrite' } as const;

function toPermission(g: Grant): IPermission {
  // etcd's prefix permission is a range ending where the prefix ends; a single key has none
  return { permType: PERM[g.access], key: Buffer.from(g.key), range_end: g.prefix ? prefixEnd(g.key) : Buffer.alloc(0) };
}

const permId = (p: { permType?: string | number; key?: Buffer; range_end?: Buffer }) =>
  `${p.permType}|${p.key?.toString('hex') ?? ''}|${p.range_end?.toString('hex') ?? ''}`;

/** `already exists` / `not found` answers, which make a step a no-op rather than a failure */
function ignore(pattern: RegExp) {
  return (e: unknown) => {
    if (!pattern.test((e as Error).message ?? '')) throw e;
  };
}

const rangeId = (p: { key?: Buffer; range_end?: Buffer }) => permId({ key: p.key, range_end: p.range_end });

/**
 * Makes the role hold exactly the spec's grants: adds what is missing first, then revokes the
 * rest, so a run that fails midway leaves the role with more than before, never less (its
 * user keeps working until the run is repeated). A range whose access changes is updated in
 * place by its grant (etcd keeps one permission per range), so it is not revoked after.
 */
export async function syncRole(client: Etcd3, role: RoleSpec): Promise<void> {
  await client.auth.roleAdd({ name: role.name }).catch(ignore(/role name already exists/i));
  const want = role.grants.map(toPermission);
  const have = (await client.auth.roleGet({ role: role.name })).perm ?? [];
  const held = new Set(have.map(permId));
  // One at a time: with auth on, each change is checked against the auth store's revision
  // when it is proposed, and a concurrent change moves that revision on; etcd then refuses the
  // other with "revision of auth store is old" (seen as a lab up failure under load).
  for (const perm of want.filter((p) => !held.has(permId(p)))) await client.auth.roleGrantPermission({ name: role.name, perm });
  const wantedRanges = new Set(want.map(rangeId));
  for (const p of have) {
    if (!wantedRanges.has(rangeId(p))) await client.auth.roleRevokePermission({ role: role.name, key: p.key, range_end: p.range_end });
  }
}

/** A user that can only authenticate with a certificate (no password), holding `roles`. */
export async function ensureUser(client: Etcd3, user: string, roles: string[]): Promise<void> {
  await client.auth.userAdd({ name: user, password: '', options: { no_password: true } }).catch(ignore(/user name already exists/i));
  for (const role of roles) await client.auth.userGrantRole({ user, role });
}

/**
 * Every node role etcd already holds (`node-NAME`, NAME a Node name), made to hold what roles.ts
 * grants now: after an upgrade that changes what an agent reads or writes, `init` updates the
 * nodes' roles too, not only its own. A removed node (no role) is not made again. The names.
 */
export async function syncNodeRoles(client: Etcd3, keys = new Keys()): Promise<string[]> {
  const { roles = [] } = await client.auth.roleList();
  const nodes = roles.map((r) => nodeOfUser(r)).filter((n): n is string => n !== undefined && nameSchema.safeParse(n).success).sort();
  for (const n of nodes) await syncRole(client, nodeRole(n, keys));
  return nodes;
}

/**
 * root, the controller and the admin identities with their roles, the node roles already there
 * brought up to date (syncNodeRoles), then `auth enable`. Returns the nodes whose role it synced.
 */
export async function initAuth(client: Etcd3, keys = new Keys()): Promise<string[]> {
  await ensureUser(client, ROOT_USER, ['root']);
  // sequential for the same reason as syncRole's grants (init runs again after auth enable)
  for (const r of clusterRoles(keys)) {
    await syncRole(client, r);
    await ensureUser(client, r.name, [r.name]);
  }
  const nodes = await syncNodeRoles(client, keys);
  await client.auth.authEnable();
  return nodes;
}

export async function addNodeAuth(client: Etcd3, node: string, keys = new Keys()): Promise<void> {
  const role = nodeRole(node, keys);
  await syncRole(client, role);
  await ensureUser(client, role.name, [role.name]);
}

/** Deletes the node's user and role: every request made with its certificate is refused from now on. */
export async function removeNodeAuth(client: Etcd3, node: string): Promise<{ user: boolean; role: boolean }> {
  const name = nodeUser(node);
  let user = true;
  let role = true;
  await client.auth.userDelete({ name }).catch((e) => { ignore(/user name not found/i)(e); user = false; });
  await client.auth.roleDelete({ role: name }).catch((e) => { ignore(/role name not found/i)(e); role = false; });
  return { user, role };
}
