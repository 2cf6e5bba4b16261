// Thin helpers over etcd's raw Txn RPC. The etcd3 builder cannot express ranged compares or
// per-op leases in one transaction, and the allocator needs both, so transactions here are
// built from plain request objects.
import type { Etcd3, IKeyValue, ICompare, IRequestOp, ITxnResponse } from 'etcd3';
import { rangePrefix } from '../etcd/range.js';

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

export function txn(client: Etcd3, compare: ICompare[], success: IRequestOp[], failure: IRequestOp[] = []): Promise<ITxnResponse> {
  return client.kv.txn({ compare, success, failure });
}

export interface RawKv {
  key: string;
  value: string;
  createRevision: string;
  modRevision: string;
  lease: string;
  /**
   * The value decoded, memoised by its first reader (the controller's admission, its model)
   * or by the writer that stored it: a value is parsed once, not once per reconcile.
   */
  parsed?: unknown;
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

/** Every key under `prefix` at one revision, read in pages (see pkg/etcd/range.ts). */
export async function listPrefix(client: Etcd3, prefix: string, pageSize = 2000): Promise<{ kvs: RawKv[]; revision: string }> {
  const { kvs, revision } = await rangePrefix(client, prefix, { pageSize });
  return { kvs: kvs.map(rawKv), revision };
}
