// What a read of MacvlanNets takes besides each one's status key: its pool counts
// and the parts kept in its nodes' indexes (macvlan-parts.ts), at the status key's revision.
import type { Etcd3, IKeyValue } from 'etcd3';
import type { Keys } from './keys.js';
import { readKeys } from './read-objects.js';

/** The names of the nodes a MacvlanNet's status key lists (untrusted: what is not a name is left out). */
function listedNodes(shared: IKeyValue | undefined): string[] {
  let listed: unknown;
  try { listed = shared && (JSON.parse(shared.value.toString()) as { nodes?: unknown }).nodes; } catch { listed = undefined; }
  if (!Array.isArray(listed)) return [];
  return listed.map((n) => (n as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === 'string' && !!n && !n.includes('/'));
}

/**
 * The keys of a MacvlanNet's pool counts and of the parts in the indexes of the nodes its status
 * key (`shared`) lists: a part of a node it does not list is stale, never read.
 */
export function macvlanPartKeys(keys: Keys, name: string, shared: IKeyValue | undefined): string[] {
  return [keys.macvlanPool(name), ...listedNodes(shared).map((n) => keys.macvlanPart(n, name))];
}

const stored = (kvs: Array<IKeyValue | undefined>): IKeyValue[] => kvs.filter((kv): kv is IKeyValue => kv !== undefined);

/** The pool counts and node parts (macvlanPartKeys) of every MacvlanNet whose status key is among `statusKvs`, all in one batch of reads. */
export async function readMacvlanKindParts(client: Etcd3, keys: Keys, statusKvs: IKeyValue[], revision: number, maxTxnOps: number): Promise<IKeyValue[]> {
  const wanted = statusKvs.flatMap((kv) => {
    const st = keys.parseStatusKey(kv.key.toString());
    return st?.kind === 'MacvlanNet' && 'controller' in st.writer ? macvlanPartKeys(keys, st.name, kv) : [];
  });
  return stored(await readKeys(client, wanted, maxTxnOps, revision));
}
