// A command that reads thousands of objects one by one (wait's first look at each, delete
// --wait's uids) must not send them all to etcd at once: the reads go out a few at a time.

/** Default number of reads in flight. */
export const READS_IN_FLIGHT = 32;

/** `f` over `items`, at most `limit` at a time, the results in the items' order. */
export async function mapLimit<T, R>(items: readonly T[], f: (item: T) => Promise<R>, limit = READS_IN_FLIGHT): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await f(items[i]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
