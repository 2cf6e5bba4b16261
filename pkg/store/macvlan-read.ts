// What `xctl get macvlannet NAME` reads besides the MacvlanNet's status key: its pool counts
// and the parts kept in its nodes' indexes (macvlan-parts.ts), at the status key's revision.
import type { Etcd3, IKeyValue } from 'etcd3';
import type { Keys } from './keys.js';

/** The names of the nodes a MacvlanNet's status key lists (untrusted: what is not a name is left out). */
function listedNodes(shared: IKeyValue | undefined): string[] {
  let listed: unknown;
  try { listed = shared && (JSON.parse(shared.value.toString()) as { nodes?: unknown }).nodes; } catch { listed = undefined; }
  if (!Array.isArray(listed)) return [];
  return listed.map((n) => (n as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === 'string' && !!n && !n.includes('/'));
}

/**
 * A MacvlanNet's pool counts and the parts in the indexes of the nodes its status key
 * (`shared`) lists, at `revision`: a part of a node it does not list is stale, never read.
 */
export function readMacvlanParts(client: Etcd3, keys: Keys, name: string, shared: IKeyValue | undefined, revision: number) {
  const read = [keys.macvlanPool(name), ...listedNodes(shared).map((n) => keys.macvlanPart(n, name))];
  return Promise.all(read.map((k) => client.kv.range({ key: Buffer.from(k), revision })));
}

/** readMacvlanParts of every MacvlanNet whose status key is among `statusKvs`, their keys together. */
export async function readMacvlanKindParts(client: Etcd3, keys: Keys, statusKvs: IKeyValue[], revision: number): Promise<IKeyValue[]> {
  const each = await Promise.all(statusKvs.map((kv) => {
    const st = keys.parseStatusKey(kv.key.toString());
    return st?.kind === 'MacvlanNet' && 'controller' in st.writer ? readMacvlanParts(client, keys, st.name, kv, revision) : [];
  }));
  return each.flat().flatMap((r) => r.kvs);
}
