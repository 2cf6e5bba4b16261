// Thin helpers over etcd's raw Txn RPC. The etcd3 builder cannot express ranged compares or
// per-op leases in one transaction, and the allocator needs both, so transactions here are
// built from plain request objects.
import type { Etcd3, IKeyValue, ICompare, IRequestOp, ITxnResponse } from 'etcd3';

const b = (s: string) => Buffer.from(s);

/** etcd's default --max-txn-ops: the most compares, and the most success ops, per transaction. */
export const MAX_TXN_OPS = 128;

export function keyAbsent(key: string): ICompare {
  return { key: b(key), target: 'Create', result: 'Equal', create_revision: 0 };
}

/** True when no key in [from, to) exists. */
export function rangeAbsent(from: string, to: string): ICompare {
  return { key: b(from), range_end: b(to), target: 'Create', result: 'Equal', create_revision: 0 };
}

export function createdAt(key: string, revision: string | number): ICompare {
  return { key: b(key), target: 'Create', result: 'Equal', create_revision: revision };
}

export function modifiedAt(key: string, revision: string | number): ICompare {
  return { key: b(key), target: 'Mod', result: 'Equal', mod_revision: revision };
}

export function putOp(key: string, value: unknown, lease?: string): IRequestOp {
  const v = typeof value === 'string' ? value : JSON.stringify(value);
  return { request_put: { key: b(key), value: b(v), ...(lease ? { lease } : {}) } };
}

export function deleteOp(key: string): IRequestOp {
  return { request_delete_range: { key: b(key) } };
}

export function getOp(key: string): IRequestOp {
  return { request_range: { key: b(key) } };
}

/** The first key after every key that starts with `prefix`. */
export function prefixEnd(prefix: string): Buffer {
  const buf = b(prefix);
  for (let i = buf.length - 1; i >= 0; i--) {
    if (buf[i] < 0xff) { buf[i]++; return buf.subarray(0, i + 1); }
  }
  return Buffer.from([0]);
}

export function txn(client: Etcd3, compare: ICompare[], success: IRequestOp[], failure: IRequestOp[] = []): Promise<ITxnResponse> {
  return client.kv.txn({ compare, success, failure });
}

export interface RawKv {
  key: string;
  value: string;
  createRevision: string;
  modRevision: string;
  lease: string;
}

export function rawKv(kv: IKeyValue): RawKv {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    createRevision: String(kv.create_revision),
    modRevision: String(kv.mod_revision),
    lease: String(kv.lease ?? '0'),
  };
}

/**
 * Reads every key under `prefix` at one revision, in pages: one response must stay under
 * gRPC's 4 MiB message limit, which ten thousand objects with statuses exceed.
 */
export async function listPrefix(client: Etcd3, prefix: string, pageSize = 2000): Promise<{ kvs: RawKv[]; revision: string }> {
  const end = prefixEnd(prefix);
  const out: RawKv[] = [];
  let from = b(prefix);
  let revision: string | undefined;
  for (;;) {
    const res = await client.kv.range({ key: from, range_end: end, limit: pageSize, ...(revision ? { revision } : {}) });
    revision ??= String(res.header.revision);
    for (const kv of res.kvs) out.push(rawKv(kv));
    if (!res.more || res.kvs.length === 0) break;
    from = Buffer.concat([res.kvs[res.kvs.length - 1].key, Buffer.from([0])]);
  }
  return { kvs: out, revision: revision! };
}
