// Writes a MacvlanNet's controller status as its three kinds of keys (store/macvlan-parts.ts):
// the shared key every agent watches, the pool counts no agent watches, and each node's part in
// that node's index. Each is put only when it changed, so a container started on node A
// rewrites A's part and the counts, and the shared key only when what other nodes act on moved.
//
// The round is bounded (128 ops on a stock etcd): the part of a node whose claims this
// transaction changes is always in it (macvlan-round.ts fitsFor kept room for it), as its agent
// must never see claims without its part, nor the reverse; every other changed part, and each
// stale part to delete (a node the status no longer lists), is added while room is left, the
// rest waits for the next transaction (the round says `more`). The shared key lists a node as
// it will be in etcd after this transaction: a part that waits is listed as it is (or not at
// all when it has none yet), so readers never join a part with another round's entry.
//
// A key an earlier MacvlanNet of the name left (deleted without its finalizer: its parts and
// counts stay until the garbage pass) is read as absent (macvlan-joined.ts ownCached): a node
// whose part waits is not listed from it, and a part equal to it is still written (readers
// ignore the old one: store/macvlan-parts.ts writtenSinceMacvlanCreated).
import type { MacvlanNetStatus, MacvlanNodeStatus } from '../api/index.js';
import type { KvCache } from '../runtime/kv-cache.js';
import type { RawKv } from '../runtime/kv.js';
import type { Keys } from '../store/keys.js';
import { isWhole, sharedPart, splitMacvlanStatus } from '../store/macvlan-parts.js';
import { ownCached } from './macvlan-joined.js';
import { sameJson } from '../api/key-order.js';
import { pinStatus, type Ctx } from './context.js';
import type { TxnPlan } from './txn-plan.js';

/**
 * Puts what changed of the MacvlanNet's status `desired` into the plan. `touched`: the nodes
 * whose claims the plan changes. Returns whether some part waits for the next transaction.
 * In etcd's order (one watch delivers a transaction's keys one by one, in the order put): the
 * parts, then the shared key, then the stale parts' deletes, so an agent never reads its entry
 * without its part, nor its new part under another round's entry.
 */
export function putMacvlanStatus(ctx: Ctx, plan: TxnPlan, name: string, desired: MacvlanNetStatus, touched: ReadonlySet<string>): boolean {
  const { keys, cache } = ctx.model;
  const sharedKey = keys.status('MacvlanNet', name, { controller: true });
  const { shared, pool, parts } = splitMacvlanStatus(desired);
  const room = { compares: 2, ops: 2, bytes: JSON.stringify(shared).length + JSON.stringify(pool).length + 512 };
  const { after, tooLarge } = putParts(ctx, plan, name, parts, touched, room);
  // a node whose part waits is listed as readers read it now: its entry there when a controller
  // from before the split wrote it whole (a part it left is stale), else its part; a node with
  // neither is not yet
  const own = <T>(key: string) => valueOf<T>(ownCached(cache, keys, name, key));
  const before = new Map((own<MacvlanNetStatus>(sharedKey)?.nodes ?? []).map((n) => [n.name, n]));
  shared.nodes = parts.flatMap((p) => {
    const was = before.get(p.name);
    const part = after.get(p.name) ?? (was && isWhole(was) ? undefined : own<MacvlanNodeStatus>(keys.macvlanPart(p.name, name)));
    return part ? [sharedPart(part)] : was ? [was] : [];
  });
  putIfChanged(ctx, plan, name, sharedKey, shared);
  putIfChanged(ctx, plan, name, keys.macvlanPool(name), pool);
  const listed = new Set(parts.map((p) => p.name));
  // a part no transaction holds beside the status does not wait: the next round would not put it either
  let waits = after.size + tooLarge < parts.length;
  for (const node of partNodes(cache, keys, name)) {
    if (listed.has(node)) continue;
    const key = keys.macvlanPart(node, name);
    const m = plan.mark();
    pinStatus(ctx, plan, key, cache.get(key)).del(key);
    if (!plan.fits()) { plan.rollback(m); waits = true; }
  }
  return waits;
}

/**
 * Each changed part: a touched node's always (its room was kept, as large as it is:
 * macvlan-round.ts fitsFor), any other's while `room` (for the shared key and the counts) is
 * left. Returns the parts as they will be after the commit, by node (the unchanged ones too); a
 * changed part that waits is not among them, nor one too large for any transaction beside
 * `room` (`tooLarge`: a node holding more than MAX_NODE_PRECLAIMS from before, macvlan-requests.ts),
 * which is not written and logged once.
 */
function putParts(ctx: Ctx, plan: TxnPlan, name: string, parts: MacvlanNodeStatus[], touched: ReadonlySet<string>, room: { compares: number; ops: number; bytes: number }): { after: Map<string, MacvlanNodeStatus>; tooLarge: number } {
  const { keys, cache } = ctx.model;
  const after = new Map<string, MacvlanNodeStatus>();
  const changed: MacvlanNodeStatus[] = [];
  let tooLarge = 0;
  for (const p of parts) {
    const cur = ownCached(cache, keys, name, keys.macvlanPart(p.name, name));
    if (cur && sameJson(parsed(cur), p)) after.set(p.name, p); else changed.push(p);
  }
  // the touched ones first: the room kept for them is not another part's
  for (const p of [...changed.filter((c) => touched.has(c.name)), ...changed.filter((c) => !touched.has(c.name))]) {
    const key = keys.macvlanPart(p.name, name);
    const m = plan.mark();
    pinStatus(ctx, plan, key, cache.get(key)).put(key, JSON.stringify(p), p);
    if (touched.has(p.name) || plan.fitsWith(room)) { after.set(p.name, p); tooLargeParts(ctx).delete(key); continue; }
    const alone = plan.fitsAloneSince(m, room.bytes);
    plan.rollback(m);
    if (!alone) tooLarge += warnTooLarge(ctx, key, p);
  }
  return { after, tooLarge };
}

/** Per controller (its model): the part keys logged as too large for a transaction (once each, until one is written). */
const tooLargeLogged = new WeakMap<object, Set<string>>();
const tooLargeParts = (ctx: Ctx): Set<string> => tooLargeLogged.get(ctx.model) ?? tooLargeLogged.set(ctx.model, new Set()).get(ctx.model)!;

function warnTooLarge(ctx: Ctx, key: string, p: MacvlanNodeStatus): number {
  const logged = tooLargeParts(ctx);
  if (!logged.has(key)) ctx.log.warn('node part of a MacvlanNet status too large for one etcd transaction beside the status; not written', { key, addresses: p.addresses?.length ?? 0 });
  logged.add(key);
  return 1;
}

/** Puts MacvlanNet `name`'s status key `key` unless it holds `desired` already, written for this MacvlanNet. */
function putIfChanged(ctx: Ctx, plan: TxnPlan, name: string, key: string, desired: object): void {
  const { cache, keys } = ctx.model;
  const own = ownCached(cache, keys, name, key);
  if (own && sameJson(parsed(own), desired)) return;
  pinStatus(ctx, plan, key, cache.get(key)).put(key, JSON.stringify(desired), desired);
}

const parsed = (kv: RawKv): unknown => (kv.parsed === undefined ? (kv.parsed = JSON.parse(kv.value)) : kv.parsed);

const valueOf = <T>(kv: RawKv | undefined): T | undefined => (kv ? parsed(kv) as T : undefined);

/**
 * The keys of a MacvlanNet's deletion: its status key, its pool counts and the parts left in
 * nodes' indexes (the rounds before deleted those of nodes that left; what is left is few).
 */
export function macvlanStatusKeys(cache: KvCache, keys: Keys, name: string): string[] {
  return [keys.status('MacvlanNet', name, { controller: true }), keys.macvlanPool(name), ...[...partNodes(cache, keys, name)].map((n) => keys.macvlanPart(n, name))];
}

/** MacvlanNet -> the nodes whose index holds a part of it, per cache: kept up to date from its changes. */
const partIndexes = new WeakMap<KvCache, Map<string, Set<string>>>();

/** The nodes whose index holds a part of MacvlanNet `name` (in the cache, as of now). */
export function partNodes(cache: KvCache, keys: Keys, name: string): ReadonlySet<string> {
  let index = partIndexes.get(cache);
  if (!index) {
    const idx = new Map<string, Set<string>>();
    const file = (key: string, present: boolean) => {
      const p = keys.parseMacvlanPart(key);
      if (!p) return;
      const nodes = idx.get(p.name) ?? idx.set(p.name, new Set()).get(p.name)!;
      if (present) nodes.add(p.node); else nodes.delete(p.node);
      if (!nodes.size) idx.delete(p.name);
    };
    // once per cache: a scan of every node's index, then its changes
    for (const kv of cache.entries(keys.nodeIndexRoot())) file(kv.key, true);
    cache.onChange((c) => file(c.key, !!c.kv));
    partIndexes.set(cache, (index = idx));
  }
  return index.get(name) ?? new Set();
}
