// Named objects read whole, as `xctl get KIND NAME...`, describe and wait show them: each one
// merged with its controller's and its nodes' status, every key of it that does not decode
// named. A fixed number of requests for any number of NAMEs, all at one revision: the object
// keys (one transaction per --max-txn-ops of them), one keys-only listing of the nodes' reports,
// the status keys of all of them, then the MacvlanNets' node parts. A read per NAME was 3+
// requests each, one after another, each listing every node's report keys. A compaction past
// that revision before the last request is read again whole at a newer one (COMPACTED_READ_RETRY).
import type { Etcd3, IKeyValue } from 'etcd3';
import { rangePrefix } from '../etcd/range.js';
import { fromEtcdError } from '../etcd/errors.js';
import { EtcdCompactedError } from '../errors.js';
import { backoffDelay, COMPACTED_READ_RETRY, mayRetry, sleep } from '../runtime/backoff.js';
import { indexNode, type Keys } from './keys.js';
import { macvlanPartKeys } from './macvlan-read.js';
import { orSkip, storedObject } from './decode.js';
import { emptyKindState, fileKey, hiddenOf, merged, skippedKeys } from './kind-state.js';
import { readKeys, readKeysAtOneRevision } from './read-objects.js';
import type { ObjectRef } from './write-plan.js';
import type { ReadResult } from './types.js';

/** One named object's keys as read so far: its object key, then its status keys, then its MacvlanNet parts. */
interface Found { ref: ObjectRef; kvs: IKeyValue[]; statusKeys: string[]; ctrlKey?: string }

type NamedRead = { results: ReadResult[]; revision: number };

/**
 * Each ref read whole (ReadResult), in the order given, and the revision all were read at. When
 * etcd compacted past that revision before the read was done, it is read again at the revision
 * of the moment, up to COMPACTED_READ_RETRY's attempts; then EtcdCompactedError says so.
 */
export async function readNamedObjects(client: Etcd3, keys: Keys, refs: ObjectRef[], maxTxnOps: number): Promise<NamedRead> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readNamedOnce(client, keys, refs, maxTxnOps);
    } catch (e) {
      if (!(fromEtcdError(e) instanceof EtcdCompactedError)) throw e;
      if (!mayRetry(attempt, COMPACTED_READ_RETRY)) {
        throw new EtcdCompactedError(`etcd compacted past the revision of the read ${attempt} times in a row, each before it was done: ${(e as Error).message}`, e);
      }
      await sleep(backoffDelay(attempt, COMPACTED_READ_RETRY));
    }
  }
}

/** One try: the objects at the revision of the moment, then all the rest held to it. */
async function readNamedOnce(client: Etcd3, keys: Keys, refs: ObjectRef[], maxTxnOps: number): Promise<NamedRead> {
  const objs = await readKeysAtOneRevision(client, refs.map((r) => keys.object(r.kind, r.name)), maxTxnOps);
  const revision = objs.revision;
  const found = refs.map((ref, i) => foundObject(keys, ref, objs.kvs[i]));
  const present = found.filter((f): f is Found => f !== undefined);
  if (present.length) {
    await addNodeStatusKeys(client, keys, present, revision);
    await readInto(client, present, (f) => f.statusKeys, maxTxnOps, revision);
    const macvlans = present.filter((f) => f.ref.kind === 'MacvlanNet');
    await readInto(client, macvlans, (f) => macvlanPartKeys(keys, f.ref.name, f.kvs.find((kv) => kv.key.toString() === f.ctrlKey)), maxTxnOps, revision);
  }
  const results = found.map((f) => (f ? mergedResult(keys, f, revision) : { skipped: [] }));
  return { results, revision };
}

/** An object that is there, with the key of its controller's status (an indexed one's is in its node's index). */
function foundObject(keys: Keys, ref: ObjectRef, kv: IKeyValue | undefined): Found | undefined {
  if (!kv) return undefined;
  // an object that does not decode is skipped when filed, and its status with it
  const stored = orSkip(new Map(), kv.key.toString(), () => storedObject(ref.kind, ref.name, kv));
  const ctrlKey = keys.controllerStatus(ref.kind, ref.name, indexNode(stored));
  return { ref, kvs: [kv], statusKeys: ctrlKey ? [ctrlKey] : [], ctrlKey };
}

/**
 * Every node's status key of each object (any node may write one under its own subtree): one
 * listing for all. A NAME given twice is read twice, each copy whole, so each gets the keys.
 */
async function addNodeStatusKeys(client: Etcd3, keys: Keys, present: Found[], revision: number): Promise<void> {
  const byId = new Map<string, Found[]>();
  for (const f of present) {
    const id = `${f.ref.kind}/${f.ref.name}`;
    byId.set(id, [...byId.get(id) ?? [], f]);
  }
  const all = await rangePrefix(client, keys.nodeStatuses(), { revision, keysOnly: true });
  for (const kv of all.kvs) {
    const key = kv.key.toString();
    const p = keys.parseStatusKey(key);
    for (const f of (p && byId.get(`${p.kind}/${p.name}`)) ?? []) f.statusKeys.push(key);
  }
}

/** The keys `keysOf` each object, all read in one batch at `revision`, added to the object's own where stored. */
async function readInto(client: Etcd3, objs: Found[], keysOf: (f: Found) => string[], maxTxnOps: number, revision: number): Promise<void> {
  const wanted = objs.map(keysOf);
  const kvs = await readKeys(client, wanted.flat(), maxTxnOps, revision);
  let at = 0;
  wanted.forEach((w, i) => {
    for (const kv of kvs.slice(at, at + w.length)) if (kv) objs[i].kvs.push(kv);
    at += w.length;
  });
}

/** One object merged from its own keys alone, so each NAME's skipped keys are its own. */
function mergedResult(keys: Keys, f: Found, revision: number): ReadResult {
  const s = emptyKindState(revision);
  const { kind, name } = f.ref;
  for (const kv of f.kvs) fileKey(s, keys, kind, kv.key.toString(), kv.value.toString(), { mod: String(kv.mod_revision), create: String(kv.create_revision) });
  return { object: merged(s, name), skipped: skippedKeys(s), hidden: hiddenOf(s, name) };
}
