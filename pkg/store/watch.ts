// Merged-object watch for one kind: object keys and status keys are watched separately and
// combined through a cache seeded at the start revision, so every event carries the full view.
import type { IKeyValue, Watcher } from 'etcd3';
import type { AnyObject, Kind } from '../api/index.js';
import { withStatus } from './merge.js';
import { decodeObject, mergedItems, type EtcdStore, type KindState } from './etcd-store.js';
import type { ListResult, WatchEvent } from './types.js';
import { fromEtcdError } from '../etcd/errors.js';
import { EtcdCompactedError } from '../errors.js';
import { watchRestarts } from '../metrics/metrics.js';

interface Handlers {
  onEvent: (e: WatchEvent) => void;
  onRelist?: (list: ListResult) => void;
  onError?: (err: Error) => void;
}

function isCompacted(err: unknown): boolean {
  return fromEtcdError(err) instanceof EtcdCompactedError;
}

export async function startWatch(store: EtcdStore, kind: Kind, fromRevision: number, h: Handlers): Promise<{ close(): Promise<void> }> {
  const keys = store.keys;
  let state: KindState = { objects: new Map(), controllerStatus: new Map(), nodeStatus: new Map(), revision: fromRevision };
  let watchers: Watcher[] = [];
  let closed = false;

  const merged = (name: string) => withStatus(state.objects.get(name)!, state.controllerStatus.get(name), state.nodeStatus.get(name) ?? new Map());

  const emit = (type: WatchEvent['type'], object: AnyObject, revision: number) => {
    try { h.onEvent({ type, object, revision }); } catch (e) { h.onError?.(e as Error); }
  };

  const onStatus = (kv: IKeyValue, deleted: boolean) => {
    const name = store.applyStatus(state, kind, kv, deleted);
    if (name !== undefined && state.objects.has(name)) emit('MODIFIED', merged(name), Number(kv.mod_revision));
  };

  const onObject = (kv: IKeyValue, deleted: boolean) => {
    const p = keys.parseObjectKey(kv.key.toString());
    if (!p || p.kind !== kind) return;
    if (deleted) {
      if (!state.objects.has(p.name)) return;
      const last = merged(p.name);
      state.objects.delete(p.name); state.controllerStatus.delete(p.name); state.nodeStatus.delete(p.name);
      emit('DELETED', last, Number(kv.mod_revision));
      return;
    }
    const existed = state.objects.has(p.name);
    state.objects.set(p.name, decodeObject(kv));
    emit(existed ? 'MODIFIED' : 'ADDED', merged(p.name), Number(kv.mod_revision));
  };

  const stopWatchers = async () => {
    const ws = watchers; watchers = [];
    await Promise.all(ws.map((w) => w.cancel().catch(() => undefined)));
  };

  const relist = async () => {
    watchRestarts.inc({ watch: kind });
    await stopWatchers();
    if (closed) return;
    // One read serves both the relist the caller gets and the state the watch goes on from.
    state = await store.readKind(kind);
    const list: ListResult = { items: mergedItems(state), revision: state.revision };
    h.onRelist?.(list);
    await begin(list.revision);
  };

  const begin = async (rev: number) => {
    const start = String(rev + 1);
    const onErr = (err: Error) => {
      if (closed) return;
      if (isCompacted(err)) relist().catch((e) => h.onError?.(e));
      else h.onError?.(err);
    };
    const w = await store.client.watch().prefix(keys.registry()).startRevision(start).create();
    const route = (kv: IKeyValue, deleted: boolean) => {
      if (keys.parseObjectKey(kv.key.toString())) onObject(kv, deleted);
      else onStatus(kv, deleted);
    };
    w.on('disconnected', () => watchRestarts.inc({ watch: kind }));
    w.on('put', (kv) => route(kv, false)).on('delete', (kv) => route(kv, true)).on('error', onErr);
    watchers = [w];
  };

  try {
    state = await store.readKind(kind, fromRevision);
    await begin(fromRevision);
  } catch (e) {
    if (!isCompacted(e)) throw e;
    await relist();
  }
  return {
    async close() { closed = true; await stopWatchers(); },
  };
}
