// Writes a MacvlanNet's controller status as its three kinds of keys (store/macvlan-parts.ts):
// the shared key every agent watches, the pool counts no agent watches, and each node's part in
// that node's index. Each is put only when it changed, so a container started on node A
// rewrites A's part and the counts, and the shared key only when what other nodes act on moved.
//
// The round is bounded (128 ops on a stock etcd): the part of a node whose claims this
// transaction changes is always in it (macvlan-round.ts fitsFor kept room for it), as its agent
// must never see claims without its part, nor the reverse; every other changed part, and each
// stale part to delete (a node no longer listed, kept while the index is scanned), is added
// while room is left, the rest waits for the next transaction (the round says `more`). The
// shared key lists a node as its part will be in etcd after this transaction: a part that waits
// is listed as it is (or not at all when it has none yet), so readers never join a part with
// another round's entry.
import type { MacvlanNetStatus, MacvlanNodeStatus } from '../api/index.js';
import type { KvCache } from '../runtime/kv-cache.js';
import type { RawKv } from '../runtime/kv.js';
import type { Keys } from '../store/keys.js';
import { sharedPart, splitMacvlanStatus } from '../store/macvlan-parts.js';
import { sameJson } from '../api/key-order.js';
import { pinStatus, type Ctx } from './context.js';
import type { TxnPlan } from './txn-plan.js';

/** One optional write: a changed part of an untouched node, or a stale part's delete. */
interface Optional { node: string; part?: MacvlanNodeStatus; apply: () => void }

/**
 * Puts what changed of the MacvlanNet's status `desired` into the plan. `touched`: the nodes
 * whose claims the plan changes. Returns whether some part waits for the next transaction.
 */
export function putMacvlanStatus(ctx: Ctx, plan: TxnPlan, name: string, desired: MacvlanNetStatus, touched: ReadonlySet<string>): boolean {
  const { keys, cache } = ctx.model;
  const { shared, pool, parts } = splitMacvlanStatus(desired);
  const after = new Map<string, MacvlanNodeStatus>();
  const optional: Optional[] = [];
  for (const p of parts) {
    const key = keys.macvlanPart(p.name, name);
    const cur = cache.get(key);
    if (cur && sameJson(parsed(cur), p)) { after.set(p.name, p); continue; }
    const apply = () => { pinStatus(ctx, plan, key, cur).put(key, JSON.stringify(p), p); };
    if (touched.has(p.name)) { apply(); after.set(p.name, p); } else optional.push({ node: p.name, part: p, apply });
  }
  const listed = new Set(parts.map((p) => p.name));
  for (const node of partNodes(cache, keys, name)) {
    if (listed.has(node)) continue;
    const key = keys.macvlanPart(node, name);
    optional.push({ node, apply: () => { pinStatus(ctx, plan, key, cache.get(key)).del(key); } });
  }
  const room = { compares: 2, ops: 2, bytes: JSON.stringify(shared).length + JSON.stringify(pool).length + 512 };
  let deferred = false;
  for (const o of optional) {
    const m = plan.mark();
    o.apply();
    if (plan.fitsWith(room)) { if (o.part) after.set(o.node, o.part); continue; }
    plan.rollback(m);
    deferred = true;
  }
  shared.nodes = parts.flatMap((p) => {
    const part = after.get(p.name) ?? cachedPart(cache, keys.macvlanPart(p.name, name));
    return part ? [sharedPart(part)] : [];
  });
  putIfChanged(ctx, plan, keys.status('MacvlanNet', name, { controller: true }), shared);
  putIfChanged(ctx, plan, keys.macvlanPool(name), pool);
  return deferred;
}

function putIfChanged(ctx: Ctx, plan: TxnPlan, key: string, desired: object): void {
  const cur = ctx.model.cache.get(key);
  if (cur && sameJson(parsed(cur), desired)) return;
  pinStatus(ctx, plan, key, cur).put(key, JSON.stringify(desired), desired);
}

const parsed = (kv: RawKv): unknown => (kv.parsed === undefined ? (kv.parsed = JSON.parse(kv.value)) : kv.parsed);

function cachedPart(cache: KvCache, key: string): MacvlanNodeStatus | undefined {
  const kv = cache.get(key);
  return kv ? parsed(kv) as MacvlanNodeStatus : undefined;
}

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
