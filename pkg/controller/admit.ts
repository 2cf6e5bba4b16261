// What the controller's cache takes in: every object, status and IPAM claim it will read is
// decoded first (the same schemas xctl and the store use). A key that does not decode is
// logged and treated as absent, so no reconcile, listener or JSON.parse downstream ever sees
// it: a node writing `not json` into its own status keys cannot stop the controller. The
// parse of objects and claims is kept with the key, so the model does not parse them again.
// Object copies in a node's index are never read for what they say, only compared byte for
// byte with the decoded key they copy (context.ts): a copy that is not JSON is simply not
// equal, and rewritten. The controller statuses kept there are decoded like any status, and
// their parse kept like an object's, and so are a MacvlanNet's node parts and pool counts, and
// the release marks of addresses cooling down (ipam/release-mark.ts). A
// key of the registry or IPAM prefixes that is none of these (a name the layout cannot have) is
// refused too.
import { decodeKeyOf, decodeMacvlanPart, decodeParsedObject, decodeParsedStatus, decodeStatus, parseJson } from '../store/decode.js';
import { macvlanPoolStatus } from '../api/index.js';
import type { Keys } from '../store/keys.js';
import { decodeClaim, type IpamKeys } from '../ipam/keys.js';
import { decodeReleaseMark } from '../ipam/release-mark.js';
import type { RawKv } from '../runtime/kv.js';

/**
 * Why a key under xnet's registry or IPAM prefixes is none of the keys the layout has
 * (docs/design.md), e.g. `objects/nodes/` or `objects/clusternetworks/a/b` written by hand:
 * refused like a value that does not decode, so that no scan of a kind's prefix meets a key
 * whose name it cannot parse, nor a value nothing checked.
 */
function outsideLayout(keys: Keys, ipam: IpamKeys, key: string): string | undefined {
  const what = key.startsWith(ipam.root()) ? 'an IPAM claim (ipam/<type>/<pool>/<space>/<address>) or release mark (ipam/<type>/<pool>/released/<address>)'
    : key.startsWith(keys.registry()) && !keys.parseIndexedObject(key) ? 'a registry key (objects/<plural>/<name>, status/..., bynode/<node>/...)'
      : undefined;
  return what && `the key is not ${what} of xnet's layout; ignored`;
}

/**
 * A MacvlanNet's node part or pool counts (store/macvlan-parts.ts), decoded against their own
 * schemas and kept parsed (throws UndecodableError); false for any other key.
 */
function admitMacvlanPart(keys: Keys, kv: RawKv): boolean {
  const part = keys.parseMacvlanPart(kv.key);
  if (!part && keys.parseMacvlanPool(kv.key) === undefined) return false;
  if (part) decodeMacvlanPart(part.node, kv.key, kv.value); else decodeKeyOf(macvlanPoolStatus, kv.key, kv.value);
  // kept as written, like the other statuses: the next round compares what it plans with it
  kv.parsed = JSON.parse(kv.value);
  return true;
}

export function controllerAdmit(keys: Keys, ipam: IpamKeys): (kv: RawKv) => string | undefined {
  return (kv) => {
    const at = ipam.parse(kv.key);
    if (at) {
      const r = decodeClaim(kv.value, at);
      if ('error' in r) return r.error;
      kv.parsed = r.claim;
      return undefined;
    }
    if (ipam.parseReleaseMark(kv.key)) {
      const m = decodeReleaseMark(kv.value);
      if ('error' in m) return m.error;
      kv.parsed = m.mark;
      return undefined;
    }
    const obj = keys.parseObjectKey(kv.key);
    if (obj) {
      // kept as decoded, the schema's defaults filled in: the controller plans with the same
      // values as xctl shows and the agent uses, also for an object written without them
      kv.parsed = decodeParsedObject(obj.kind, obj.name, kv.key, parseJson(kv.key, kv.value), kv.modRevision);
      return undefined;
    }
    if (admitMacvlanPart(keys, kv)) return undefined;
    const st = keys.parseIndexedStatus(kv.key) ?? keys.parseStatusKey(kv.key);
    if (!st) return outsideLayout(keys, ipam, kv.key);
    if ('writer' in st && !('controller' in st.writer)) {
      // an agent's report is decoded, not kept parsed: most are only looked up by key
      decodeStatus(st.kind, kv.key, kv.value);
      return undefined;
    }
    // the controller's own statuses: read back at every term start and by every plan
    const raw = parseJson(kv.key, kv.value);
    decodeParsedStatus(st.kind, kv.key, raw);
    kv.parsed = raw;
    return undefined;
  };
}
