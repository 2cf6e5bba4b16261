// Keys a KvCache refused (their value does not decode): absent from the cache, but not gone
// from etcd. Kept apart so that whoever would act on a key's absence (free what it holds) can
// tell "unreadable" from "deleted" (KvCache.isRefused).

export class RefusedKeys {
  /** key -> the revision of the value refused */
  private keys = new Map<string, number>();

  has(key: string): boolean { return this.keys.has(key); }

  /** Whether any refused key starts with `prefix` (few are ever refused: a scan of them). */
  anyUnder(prefix: string): boolean {
    for (const k of this.keys.keys()) if (k.startsWith(prefix)) return true;
    return false;
  }

  /** The refused keys starting with `prefix`, each with the revision of the value refused. */
  under(prefix: string): Array<[string, number]> {
    return [...this.keys].filter(([k]) => k.startsWith(prefix));
  }

  refuse(key: string, revision: number): void { this.keys.set(key, revision); }

  /** The revision of the value refused at `key`, if it is refused. */
  revision(key: string): number | undefined { return this.keys.get(key); }

  /** The key now holds a value that decodes. */
  accept(key: string): void { this.keys.delete(key); }

  /** The key was deleted at `revision`; whether it had been refused (before that revision). */
  deleted(key: string, revision: number): boolean {
    const at = this.keys.get(key);
    return at !== undefined && at <= revision && this.keys.delete(key);
  }

  /**
   * Takes a listing's refused keys; returns the keys newly refused (or refused at another
   * revision) and the ones refused before that are in neither list now (they went).
   */
  replace(listed: Map<string, number>, inListing: (key: string) => boolean): { refused: string[]; went: string[] } {
    const before = this.keys;
    this.keys = listed;
    return {
      refused: [...listed].filter(([k, rev]) => before.get(k) !== rev).map(([k]) => k),
      went: [...before.keys()].filter((k) => !listed.has(k) && !inListing(k)),
    };
  }
}
