// Merged-object watch for one kind: object keys and status keys are watched separately and
// combined through a cache seeded at the start revision, so every event carries the full view.
import type { IKeyValue, Watcher } from 'etcd3';
import type { AnyObject, Kind } from '../api/index.js';
import { withStatus } from './merge.js';
import { decodeObject, type EtcdStore } from './etcd-store.js';
import { rangePrefix } from '../etcd/range.js';
import type { ListResult, WatchEvent } from './types.js';

type Status = Record<string, unknown>;

interface Handlers {
  onEvent: (e: WatchEvent) => void;
  onRelist?: (list: ListResult) => void;
  onError?: (err: Error) => void;
}

function isCompacted(err: unknown): boolean {
  return /compacted/i.test(String((err as Error)?.message ?? err));
}

export async function startWatch(store: EtcdStore, kind: Kind, fromRevision: number, h: Handlers): Promise<{ close(): Promise<void> }> {
  const keys = store.keys;
  const objects = new Map<string, AnyObject>();
  const ctrl = new Map<string, Status>();
  const nodes = new Map<string, Map<string, Status>>();
  let watchers: Watcher[] = [];
  let closed = false;

  const merged = (name: string) => withStatus(objects.get(name)!, ctrl.get(name), nodes.get(name) ?? new Map());

  const seedExact = async (revision: number) => {
    const [objs, c, n] = await Promise.all([
      rangePrefix(store.client, keys.objects(kind), { revision }),
      rangePrefix(store.client, keys.controllerStatuses(kind), { revision }),
      rangePrefix(store.client, keys.nodeStatuses(), { revision }),
    ]);
    objects.clear(); ctrl.clear(); nodes.clear();
    for (const kv of objs.kvs) { const o = decodeObject(kv); objects.set(o.metadata.name, o); }
    for (const kv of [...c.kvs, ...n.kvs]) onStatus(kv, false);
  };

  const emit = (type: WatchEvent['type'], object: AnyObject, revision: number) => {
    try { h.onEvent({ type, object, revision }); } catch (e) { h.onError?.(e as Error); }
  };

  function onStatus(kv: IKeyValue, deleted: boolean, emitIt = false) {
    const p = keys.parseStatusKey(kv.key.toString());
    if (!p || p.kind !== kind) return;
    if ('controller' in p.writer) {
      if (deleted) ctrl.delete(p.name); else ctrl.set(p.name, JSON.parse(kv.value.toString()));
    } else {
      if (!nodes.has(p.name)) nodes.set(p.name, new Map());
      if (deleted) nodes.get(p.name)!.delete(p.writer.node); else nodes.get(p.name)!.set(p.writer.node, JSON.parse(kv.value.toString()));
    }
    if (emitIt && objects.has(p.name)) emit('MODIFIED', merged(p.name), Number(kv.mod_revision));
  }

  const onObject = (kv: IKeyValue, deleted: boolean) => {
    const p = keys.parseObjectKey(kv.key.toString());
    if (!p || p.kind !== kind) return;
    if (deleted) {
      if (!objects.has(p.name)) return;
      const last = merged(p.name);
      objects.delete(p.name); ctrl.delete(p.name); nodes.delete(p.name);
      emit('DELETED', last, Number(kv.mod_revision));
      return;
    }
    const existed = objects.has(p.name);
    objects.set(p.name, decodeObject(kv));
    emit(existed ? 'MODIFIED' : 'ADDED', merged(p.name), Number(kv.mod_revision));
  };

  const stopWatchers = async () => {
    const ws = watchers; watchers = [];
    await Promise.all(ws.map((w) => w.cancel().catch(() => undefined)));
  };

  const relist = async () => {
    await stopWatchers();
    if (closed) return;
    const list = await store.snapshot(kind);
    await seedExact(list.revision);
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
      else onStatus(kv, deleted, true);
    };
    w.on('put', (kv) => route(kv, false)).on('delete', (kv) => route(kv, true)).on('error', onErr);
    watchers = [w];
  };

  try {
    await seedExact(fromRevision);
    await begin(fromRevision);
  } catch (e) {
    if (!isCompacted(e)) throw e;
    await relist();
  }
  return {
    async close() { closed = true; await stopWatchers(); },
  };
}
