// The object keys of several objects, read in transactions of at most --max-txn-ops ranges
// each (side by side when there are more): one round trip for a usual batch, where a read per
// object costs one each, a round trip per object over a slow link (xctl delete -f of N Nodes).
import type { Etcd3, IKeyValue } from 'etcd3';
import { isResponseTooLarge } from '../etcd/client.js';
import type { Keys } from './keys.js';
import type { ObjectRef } from './write-plan.js';
import type { ReadResult } from './types.js';
import { orSkip, storedObject } from './decode.js';

/** Each ref's stored object key, in the order given; undefined where there is none. */
export async function readObjectKeys(client: Etcd3, keys: Keys, refs: ObjectRef[], maxTxnOps: number): Promise<Array<IKeyValue | undefined>> {
  const parts = await Promise.all(Array.from({ length: Math.ceil(refs.length / maxTxnOps) }, (_, p) =>
    readPart(client, keys, refs.slice(p * maxTxnOps, (p + 1) * maxTxnOps))));
  return parts.flat();
}

/**
 * One transaction's keys. A response larger than the client takes (values as large as etcd
 * takes, 1.5 MiB each, beyond ETCD_RECEIVE_LIMIT_BYTES together) is asked for again as two
 * halves, as pkg/etcd/range.ts does with a page: at most log2(--max-txn-ops) splits, down to one key.
 */
async function readPart(client: Etcd3, keys: Keys, refs: ObjectRef[]): Promise<Array<IKeyValue | undefined>> {
  const success = refs.map((r) => ({ request_range: { key: Buffer.from(keys.object(r.kind, r.name)) } }));
  try {
    const res = await client.kv.txn({ compare: [], success, failure: [] });
    return res.responses.map((r) => r.response_range?.kvs?.[0]);
  } catch (err) {
    if (!isResponseTooLarge(err) || refs.length === 1) throw err;
    const half = Math.ceil(refs.length / 2);
    const [first, second] = await Promise.all([readPart(client, keys, refs.slice(0, half)), readPart(client, keys, refs.slice(half))]);
    return [...first, ...second];
  }
}

/**
 * Each ref's stored object key decoded, with its own key named as skipped when it does not
 * decode: absent and undecodable are told apart (a delete waited for is not done, a label not
 * "not found", while a key that does not decode is still there).
 */
export function decodeObjectKeys(refs: ObjectRef[], kvs: Array<IKeyValue | undefined>): ReadResult[] {
  return kvs.map((kv, i) => {
    const skipped = new Map<string, string>();
    const object = kv && orSkip(skipped, kv.key.toString(), () => storedObject(refs[i].kind, refs[i].name, kv));
    return { object, skipped: [...skipped].map(([key, error]) => ({ key, error })) };
  });
}
