// The object keys of several objects (and any exact keys: readKeys), read in transactions of at most --max-txn-ops ranges
// each (side by side when there are more): one round trip for a usual batch, where a read per
// object costs one each, a round trip per object over a slow link (xctl delete -f of N Nodes).
import type { Etcd3, IKeyValue } from 'etcd3';
import { isResponseTooLarge } from '../etcd/client.js';
import type { Keys } from './keys.js';
import type { ObjectRef } from './write-plan.js';
import type { ReadResult } from './types.js';
import { orSkip, storedObject } from './decode.js';

/** Each ref's stored object key, in the order given; undefined where there is none. */
export function readObjectKeys(client: Etcd3, keys: Keys, refs: ObjectRef[], maxTxnOps: number): Promise<Array<IKeyValue | undefined>> {
  return readKeys(client, refs.map((r) => keys.object(r.kind, r.name)), maxTxnOps);
}

/**
 * Each of `keys` as stored (at `revision`, when given), in the order given; undefined where
 * there is none. A MacvlanNet over 1,000 nodes is 1,000 keys of parts and as many reports: 8
 * transactions side by side, where a read per key was 1,000 requests at once.
 */
export async function readKeys(client: Etcd3, keys: string[], maxTxnOps: number, revision?: number): Promise<Array<IKeyValue | undefined>> {
  const parts = await Promise.all(Array.from({ length: Math.ceil(keys.length / maxTxnOps) }, (_, p) =>
    readPart(client, keys.slice(p * maxTxnOps, (p + 1) * maxTxnOps), revision)));
  return parts.flatMap((p) => p.kvs);
}

/**
 * readKeys all at one revision, the first transaction's (the others are held to it), and that
 * revision: what `xctl get` of several NAMEs reads its objects at, then their status.
 */
export async function readKeysAtOneRevision(client: Etcd3, keys: string[], maxTxnOps: number): Promise<{ kvs: Array<IKeyValue | undefined>; revision: number }> {
  const first = await readPart(client, keys.slice(0, maxTxnOps), undefined);
  const rest = await readKeys(client, keys.slice(maxTxnOps), maxTxnOps, first.revision);
  return { kvs: [...first.kvs, ...rest], revision: first.revision };
}

interface ReadPart { kvs: Array<IKeyValue | undefined>; revision: number }

/**
 * One transaction's keys. A response larger than the client takes (values as large as etcd
 * takes, 1.5 MiB each, beyond ETCD_RECEIVE_LIMIT_BYTES together) is asked for again as two
 * halves, as pkg/etcd/range.ts does with a page: at most log2(--max-txn-ops) splits, down to one
 * key. Without a revision the second half is held to the first's, so the part is one revision.
 */
async function readPart(client: Etcd3, keys: string[], revision: number | undefined): Promise<ReadPart> {
  const success = keys.map((k) => ({ request_range: { key: Buffer.from(k), ...(revision ? { revision } : {}) } }));
  try {
    const res = await client.kv.txn({ compare: [], success, failure: [] });
    return { kvs: res.responses.map((r) => r.response_range?.kvs?.[0]), revision: revision ?? Number(res.header.revision) };
  } catch (err) {
    if (!isResponseTooLarge(err) || keys.length === 1) throw err;
    const half = Math.ceil(keys.length / 2);
    const halves = (first: ReadPart) => readPart(client, keys.slice(half), first.revision).then((second) => ({ kvs: [...first.kvs, ...second.kvs], revision: first.revision }));
    if (!revision) return halves(await readPart(client, keys.slice(0, half), undefined));
    const [first, second] = await Promise.all([readPart(client, keys.slice(0, half), revision), readPart(client, keys.slice(half), revision)]);
    return { kvs: [...first.kvs, ...second.kvs], revision };
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
