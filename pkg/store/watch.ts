// Merged-object watch for one kind: a KvCache over the kind's object and status keys (seeded
// at the caller's revision), with a KindView turning key changes into merged-object events.
// The cache relists on any cancel and resumes after a lost connection; after a relist the
// differences arrive as events and onRelist gets the fresh list.
import type { Etcd3 } from 'etcd3';
import type { Kind } from '../api/index.js';
import type { Logger } from '../log.js';
import { KvCache } from '../runtime/kv-cache.js';
import { endOnRefusal } from '../runtime/cache-restarts.js';
import { KindView, mergedItems, skippedKeys } from './kind-state.js';
import type { Keys } from './keys.js';
import type { WatchHandlers } from './types.js';
export type { WatchHandlers };

export async function startWatch(
  client: Etcd3, keys: Keys, kind: Kind, fromRevision: number, h: WatchHandlers, log?: Logger,
): Promise<{ close(): Promise<void> }> {
  // One prefix, one watch: an object's and its status's writes arrive in commit order, so
  // the events (ADDED, MODIFIED by a status write, DELETED) are the ones that happened.
  const cache = new KvCache(client, keys.registry(), { log, onRestartFailed: h.onRefused && endOnRefusal(h.onRefused) });
  const view = new KindView(cache, keys, kind, log);
  // The first list only seeds the view at the caller's revision: the caller has those objects.
  let seeded = false;
  view.onEvent((e) => { if (seeded) h.onEvent(e); });
  view.onSkipped((s) => { if (seeded) h.onSkipped?.(s); });
  view.onUnreadableGone((name) => { if (seeded) h.onUnreadableGone?.(name); });
  cache.onRelist((revision) => {
    const first = !seeded;
    seeded = true;
    if (first && revision === fromRevision) return;
    h.onRelist?.({ items: mergedItems(view.state), revision, skipped: skippedKeys(view.state) }, !first);
  });
  await cache.start({ at: fromRevision });
  return { close: () => cache.close() };
}
