// An informer: list, then watch from the list's revision, keeping a local cache of merged
// objects and telling handlers what changed. Relists after compaction diff against the cache
// so handlers see the same add/update/delete calls they would have seen from the events.
import type { AnyObject, Kind } from '../api/index.js';
import type { ListResult, WatchEvent, WatchSource } from './types.js';

export interface InformerHandlers<T extends AnyObject = AnyObject> {
  onAdd?(obj: T): void;
  onUpdate?(obj: T, old: T): void;
  onDelete?(obj: T): void;
}

export class Informer<T extends AnyObject = AnyObject> {
  private cache = new Map<string, T>();
  private handlers: InformerHandlers<T>[] = [];
  private closer?: { close(): Promise<void> };
  private synced = false;
  revision = 0;

  constructor(
    private readonly store: WatchSource,
    readonly kind: Kind,
    private readonly filter: (obj: T) => boolean = () => true,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  addHandler(h: InformerHandlers<T>): this {
    this.handlers.push(h);
    if (this.synced) for (const o of this.cache.values()) this.tell(h, (x) => x.onAdd?.(o));
    return this;
  }

  get(name: string): T | undefined {
    return this.cache.get(name);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  hasSynced(): boolean {
    return this.synced;
  }

  async start(): Promise<void> {
    const list = await this.store.list(this.kind);
    this.replace(list);
    this.synced = true;
    this.closer = await this.store.watch(this.kind, list.revision, {
      onEvent: (e) => this.onEvent(e),
      onRelist: (l) => this.replace(l),
      onError: this.onError,
    });
  }

  async stop(): Promise<void> {
    await this.closer?.close();
  }

  private onEvent(e: WatchEvent): void {
    this.revision = e.revision;
    const obj = e.object as T;
    const name = obj.metadata.name;
    const old = this.cache.get(name);
    const keep = e.type !== 'DELETED' && this.filter(obj);
    if (keep) {
      this.cache.set(name, obj);
      this.each((h) => (old ? h.onUpdate?.(obj, old) : h.onAdd?.(obj)));
    } else if (old) {
      this.cache.delete(name);
      this.each((h) => h.onDelete?.(old));
    }
  }

  /** Calls every handler; one that throws is reported (onError) and keeps no other from hearing. */
  private each(f: (h: InformerHandlers<T>) => void): void {
    for (const h of this.handlers) this.tell(h, f);
  }

  private tell(h: InformerHandlers<T>, f: (h: InformerHandlers<T>) => void): void {
    try { f(h); } catch (err) { this.onError(err instanceof Error ? err : new Error(String(err))); }
  }

  private replace(list: ListResult): void {
    this.revision = list.revision;
    const fresh = new Map<string, T>();
    for (const o of list.items as T[]) if (this.filter(o)) fresh.set(o.metadata.name, o);
    const old = this.cache;
    this.cache = fresh;
    for (const [name, o] of old) if (!fresh.has(name)) this.each((h) => h.onDelete?.(o));
    for (const [name, o] of fresh) {
      const prev = old.get(name);
      this.each((h) => (prev ? h.onUpdate?.(o, prev) : h.onAdd?.(o)));
    }
  }
}
