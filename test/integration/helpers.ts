// What every integration test needs, whatever it runs: objects written the way a manifest
// would, and polling for an outcome the user would see (tests assert outcomes, not timings).
import type { Etcd3, ICompare } from 'etcd3';
import { API_VERSION, type AnyObject, type Kind } from '../../pkg/api/index.js';
import { pollPause } from '../harness/poll.js';
import type { TcpProxy } from '../harness/tcp-proxy.js';
import { ADMIN_USER } from '../../pkg/auth/roles.js';

export function obj(kind: Kind, name: string, spec: Record<string, unknown>, labels?: Record<string, string>): AnyObject {
  return { apiVersion: API_VERSION, kind, metadata: { name, ...(labels ? { labels } : {}) }, spec } as AnyObject;
}

/** A ClusterNetwork with /24 host subnets, for store tests. */
export const cn = (name: string, cidr: string): AnyObject => obj('ClusterNetwork', name, { cidr, hostPrefix: 24 });
/** A ContainerNic eth1 of container "test" on `node`, on ClusterNetwork default. */
export const nic = (name: string, node: string): AnyObject =>
  obj('ContainerNic', name, { node, container: 'test', ifName: 'eth1', network: { clusterNetwork: 'default' } });

/** Polls until fn returns a truthy value; fails with the last value or error seen. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (let attempt = 0; ; attempt++) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await pollPause(attempt, 100, 400);
  }
}

/** eventually() for a condition on local state (events seen, an informer's cache). */
export async function until(cond: () => boolean, what = 'the condition', timeoutMs = 20_000): Promise<void> {
  await eventually(async () => cond(), what, timeoutMs);
}

export type Txn = Etcd3['kv']['txn'];
export type TxnRequest = Parameters<Txn>[0];

/**
 * Runs `body` with every transaction `client` sends passed through `hook` (it sends one with
 * `send`), then puts the client back: how a test makes another writer's change land between a
 * writer's read and its commit.
 */
export async function throughTxnHook<T>(client: Etcd3, hook: (req: TxnRequest, send: Txn) => ReturnType<Txn>, body: () => Promise<T>): Promise<T> {
  const send = client.kv.txn.bind(client.kv) as Txn;
  client.kv.txn = ((req: TxnRequest) => hook(req, send)) as Txn;
  try { return await body(); } finally { client.kv.txn = send; }
}

/**
 * Polls a synchronous condition (what a cache or listener holds now) until it holds or `ms`
 * pass; resolves whether it held, for a test that asserts the outcome with its own message.
 */
export async function pollUntil(cond: () => boolean, ms: number, everyMs = 50): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return true;
}


/**
 * An election key put now, as a leader holds it, and the guard a TxnPlan takes as its first
 * compare (controller/txn-plan.ts): the key's create_revision, so a plan commits only while it stands.
 */
export async function leaderGuard(client: Etcd3, key: string): Promise<ICompare> {
  await client.put(key).value('me');
  const created = (await client.get(key).exec()).kvs[0].create_revision;
  return { key: Buffer.from(key), target: 'Create', result: 'Equal', create_revision: created };
}

/**
 * Takes every role of xnet's admin user away, then cuts `proxy` until a client behind it has
 * tried to reach etcd again, and heals it: a watch that client makes again meets etcd's refusal
 * (permission denied). Returns whether the client tried while cut off (within 20 s).
 */
export async function revokeAdminAcrossCut(root: Etcd3, proxy: TcpProxy): Promise<boolean> {
  for (const role of await root.user(ADMIN_USER).roles()) await root.user(ADMIN_USER).removeRole(role);
  const refused = proxy.refused;
  proxy.cut();
  const tried = await pollUntil(() => proxy.refused > refused, 20_000);
  proxy.heal();
  return tried;
}
