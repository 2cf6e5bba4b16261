// A MacvlanNet's controller status as the controller's cache holds it, joined as every reader
// joins it (store/macvlan-parts.ts): its status key, its pool counts and its nodes' parts.
import type { Status } from '../api/index.js';
import type { KvCache } from '../runtime/kv-cache.js';
import type { Keys } from '../store/keys.js';
import { joinMacvlanStatus } from '../store/macvlan-parts.js';

/** `shared`: the MacvlanNet's status key as cached (admit.ts checked these keys and keeps them parsed). */
export function joinedMacvlanStatus(cache: KvCache, keys: Keys, name: string, shared: Status): Status {
  const parsed = (key: string) => {
    const kv = cache.get(key);
    if (kv && kv.parsed === undefined) kv.parsed = JSON.parse(kv.value);
    return kv?.parsed as Status | undefined;
  };
  return joinMacvlanStatus(shared, parsed(keys.macvlanPool(name)), (node) => parsed(keys.macvlanPart(node, name)))!;
}
