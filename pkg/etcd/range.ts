// Prefix reads that scale: one etcd response must stay under the client's receive limit
// (ETCD_RECEIVE_LIMIT_BYTES, 64 MiB), and a large prefix in one response would also hold etcd
// and this process up at once, so large prefixes are read in pages, all pinned to the
// revision of the first page.
import type { Etcd3, IKeyValue } from 'etcd3';
import { isResponseTooLarge } from './client.js';

/** The first key after every key that starts with `prefix` (etcd's range_end). */
export function prefixEnd(prefix: string): Buffer {
  const buf = Buffer.from(prefix);
  for (let i = buf.length - 1; i >= 0; i--) {
    if (buf[i] < 0xff) { buf[i]++; return buf.subarray(0, i + 1); }
  }
  return Buffer.from([0]);
}

export interface KeyRange { from: Buffer; end: Buffer }

/**
 * The prefix's key range cut at `splits` (keys inside it, any order): ranges that can be read
 * side by side, together exactly the prefix.
 */
export function splitPrefix(prefix: string, splits: readonly string[] = []): KeyRange[] {
  const end = prefixEnd(prefix);
  if (end.length === 1 && end[0] === 0) return [{ from: Buffer.from(prefix), end }];
  const cuts = [...new Set(splits)].map((s) => Buffer.from(s))
    .filter((c) => Buffer.compare(c, Buffer.from(prefix)) > 0 && Buffer.compare(c, end) < 0)
    .sort(Buffer.compare);
  const bounds = [Buffer.from(prefix), ...cuts, end];
  return bounds.slice(1).map((e, i) => ({ from: bounds[i], end: e }));
}

export interface RangeOptions { revision?: number | string; pageSize?: number; keysOnly?: boolean }

export async function rangePrefix(client: Etcd3, prefix: string, opts: RangeOptions = {}): Promise<{ kvs: IKeyValue[]; revision: string }> {
  const kvs: IKeyValue[] = [];
  const revision = await forEachPage(client, prefix, opts, (page) => { kvs.push(...page); });
  return { kvs, revision };
}

/**
 * Reads the prefix page by page, all pages at the revision of the first, and hands each page
 * to `onPage` as it comes. The next page is asked for before `onPage` runs, so etcd reads it
 * while this process takes in the last one. Returns the revision read at.
 */
export function forEachPage(client: Etcd3, prefix: string, opts: RangeOptions, onPage: (kvs: IKeyValue[], revision: string) => void): Promise<string> {
  return forEachPageIn(client, { from: Buffer.from(prefix), end: prefixEnd(prefix) }, opts, onPage);
}

/**
 * forEachPage over the keys in [from, end). A page too large for the client (values some node
 * made as large as etcd takes, 1.5 MiB each, beyond ETCD_RECEIVE_LIMIT_BYTES together) is
 * asked for again with half as many keys, and the rest of the listing keeps the smaller size:
 * at most log2(pageSize) retries, down to one key a page.
 */
export async function forEachPageIn(client: Etcd3, range: KeyRange, opts: RangeOptions, onPage: (kvs: IKeyValue[], revision: string) => void): Promise<string> {
  const { end } = range;
  let revision = opts.revision !== undefined ? String(opts.revision) : undefined;
  let size = opts.pageSize ?? 2000;
  const page = async (from: Buffer) => {
    for (;;) {
      const limit = size;
      try {
        return await client.kv.range({ key: from, range_end: end, limit, keys_only: !!opts.keysOnly, ...(revision ? { revision } : {}) });
      } catch (err) {
        if (!isResponseTooLarge(err) || limit === 1) throw err;
        size = Math.min(size, Math.max(1, limit >> 1));
      }
    }
  };
  let next = page(range.from);
  for (;;) {
    const res = await next;
    revision ??= String(res.header.revision);
    const more = res.more && res.kvs.length > 0;
    if (more) {
      next = page(Buffer.concat([res.kvs[res.kvs.length - 1].key, Buffer.from([0])]));
      // onPage may throw: the page asked for is then never awaited, and must not fail unheard
      next.catch(() => undefined);
    }
    onPage(res.kvs, revision);
    if (!more) return revision;
  }
}
