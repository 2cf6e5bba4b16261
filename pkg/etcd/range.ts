// Prefix reads that scale: one etcd response must stay under gRPC's 4 MiB message limit,
// which ten thousand objects with their status exceed, so large prefixes are read in pages,
// all pinned to the revision of the first page.
import type { Etcd3, IKeyValue } from 'etcd3';

/** The first key after every key that starts with `prefix` (etcd's range_end). */
export function prefixEnd(prefix: string): Buffer {
  const buf = Buffer.from(prefix);
  for (let i = buf.length - 1; i >= 0; i--) {
    if (buf[i] < 0xff) { buf[i]++; return buf.subarray(0, i + 1); }
  }
  return Buffer.from([0]);
}

export async function rangePrefix(
  client: Etcd3, prefix: string, opts: { revision?: number | string; pageSize?: number; keysOnly?: boolean } = {},
): Promise<{ kvs: IKeyValue[]; revision: string }> {
  const end = prefixEnd(prefix);
  const kvs: IKeyValue[] = [];
  let from = Buffer.from(prefix);
  let revision = opts.revision !== undefined ? String(opts.revision) : undefined;
  for (;;) {
    const res = await client.kv.range({ key: from, range_end: end, limit: opts.pageSize ?? 2000, keys_only: !!opts.keysOnly, ...(revision ? { revision } : {}) });
    revision ??= String(res.header.revision);
    kvs.push(...res.kvs);
    if (!res.more || res.kvs.length === 0) break;
    from = Buffer.concat([res.kvs[res.kvs.length - 1].key, Buffer.from([0])]);
  }
  return { kvs, revision: revision! };
}
