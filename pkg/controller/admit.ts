// What the controller's cache takes in: every object, status and IPAM claim it will read is
// decoded first (the same schemas xctl and the store use). A key that does not decode is
// logged and treated as absent, so no reconcile, listener or JSON.parse downstream ever sees
// it: a node writing `not json` into its own status keys cannot stop the controller. What
// decoded is kept with the key (objects and claims), so the model does not parse it again.
// Node-index copies are never read for what they say, only compared byte for byte with the
// decoded key they copy (context.ts): a copy that is not JSON is simply not equal, and rewritten.
import { decodeObject, decodeStatus } from '../store/decode.js';
import type { Keys } from '../store/keys.js';
import { decodeClaim, type IpamKeys } from '../ipam/keys.js';
import type { RawKv } from '../runtime/kv.js';

export function controllerAdmit(keys: Keys, ipam: IpamKeys): (kv: RawKv) => string | undefined {
  return (kv) => {
    if (ipam.parse(kv.key)) {
      const r = decodeClaim(kv.value);
      if ('error' in r) return r.error;
      kv.parsed = r.claim;
      return undefined;
    }
    const obj = keys.parseObjectKey(kv.key);
    if (obj) { kv.parsed = decodeObject(obj.kind, obj.name, kv.key, kv.value, kv.modRevision); return undefined; }
    const st = keys.parseStatusKey(kv.key);
    if (st) { decodeStatus(st.kind, kv.key, kv.value); return undefined; }
    return undefined;
  };
}
