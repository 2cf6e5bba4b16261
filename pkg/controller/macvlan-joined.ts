// A MacvlanNet's controller status as the controller's cache holds it, joined as every reader
// joins it (store/macvlan-parts.ts): its status key, its pool counts and its nodes' parts, each
// only when written for the MacvlanNet stored now (writtenSinceMacvlanCreated), not an earlier one of the name.
import type { Status } from '../api/index.js';
import type { KvCache } from '../runtime/kv-cache.js';
import type { RawKv } from '../runtime/kv.js';
import type { Keys } from '../store/keys.js';
import { joinMacvlanStatus, writtenSinceMacvlanCreated } from '../store/macvlan-parts.js';

/** The create_revision of MacvlanNet `name`'s key as cached; 0 when it is not. */
export function macvlanCreated(cache: KvCache, keys: Keys, name: string): number {
  const kv = cache.get(keys.object('MacvlanNet', name));
  return kv ? Number(kv.createRevision) : 0;
}

/**
 * A key of MacvlanNet `name`'s status as cached, when written for the MacvlanNet stored now: one
 * an earlier MacvlanNet of the name left (deleted without its finalizer) is none, so that it is
 * neither read as this one's nor taken as already written (each put pins the key as it is).
 */
export function ownCached(cache: KvCache, keys: Keys, name: string, key: string): RawKv | undefined {
  const kv = cache.get(key);
  return kv && writtenSinceMacvlanCreated(macvlanCreated(cache, keys, name), Number(kv.modRevision)) ? kv : undefined;
}

/**
 * `shared`: the MacvlanNet's status key as cached, parsed (admit.ts checked these keys and keeps
 * them parsed); the status joined, with that key. None while that key is an earlier MacvlanNet's.
 */
export function joinedMacvlanStatus(cache: KvCache, keys: Keys, name: string, shared: { status: Status; kv: RawKv }): { status: Status; kv: RawKv } | undefined {
  const at = (key: string, kv = cache.get(key)) => {
    if (kv && kv.parsed === undefined) kv.parsed = JSON.parse(kv.value);
    return kv && { value: kv.parsed as Status, modRevision: Number(kv.modRevision) };
  };
  const sharedKey = { value: shared.status, modRevision: Number(shared.kv.modRevision) };
  const status = joinMacvlanStatus(macvlanCreated(cache, keys, name), sharedKey, at(keys.macvlanPool(name)), (node) => at(keys.macvlanPart(node, name)));
  return status && { status, kv: shared.kv };
}
