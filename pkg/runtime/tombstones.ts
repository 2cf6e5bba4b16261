// What a KvCache remembers of the keys it saw deleted: key -> the revision of the delete, so that
// a put event older than the delete, arriving late on another prefix's watch (etcd orders the
// events of one watch, not of two), cannot bring the key back.

export class Tombstones {
  private readonly deletedAt = new Map<string, number>();

  get size(): number { return this.deletedAt.size; }

  /** Records a delete of `key` at `revision` (an older one than recorded changes nothing). */
  add(key: string, revision: number): void {
    const t = this.deletedAt.get(key);
    if (t === undefined || t < revision) this.deletedAt.set(key, revision);
  }

  /** Whether `key` was deleted at `revision` or later. */
  covers(key: string, revision: number): boolean {
    const t = this.deletedAt.get(key);
    return t !== undefined && t >= revision;
  }

  /** Forgets every tombstone whose delete is at or before `delivered(key)`: no older put can come. */
  prune(delivered: (key: string) => number): void {
    for (const [k, r] of this.deletedAt) if (r <= delivered(k)) this.deletedAt.delete(k);
  }

  clear(): void { this.deletedAt.clear(); }
}
