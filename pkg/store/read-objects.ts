// The object keys of several objects, read in transactions of at most --max-txn-ops ranges
// each (side by side when there are more): one round trip for a usual batch, where a read per
// object costs one each, a round trip per object over a slow link (xctl delete -f of N Nodes).
import type { Etcd3, IKeyValue } from 'etcd3';
import type { Keys } from './keys.js';
import type { ObjectRef } from './write-plan.js';

/** Each ref's stored object key, in the order given; undefined where there is none. */
export async function readObjectKeys(client: Etcd3, keys: Keys, refs: ObjectRef[], maxTxnOps: number): Promise<Array<IKeyValue | undefined>> {
  const parts = await Promise.all(Array.from({ length: Math.ceil(refs.length / maxTxnOps) }, async (_, p) => {
    const success = refs.slice(p * maxTxnOps, (p + 1) * maxTxnOps).map((r) => ({ request_range: { key: Buffer.from(keys.object(r.kind, r.name)) } }));
    const res = await client.kv.txn({ compare: [], success, failure: [] });
    return res.responses.map((r) => r.response_range?.kvs?.[0]);
  }));
  return parts.flat();
}
