// The MacvlanNet node parts (bynode/<node>/status/controller/macvlannets/<name>:
// store/macvlan-parts.ts) the garbage pass deletes while their MacvlanNet exists. A round of
// the MacvlanNet deletes the parts it sees of nodes it no longer lists (macvlan-status-keys.ts),
// but a round runs when something of the MacvlanNet changes: a part written outside the rounds
// (a node that left while no controller ran, a restored backup, a key written by hand) queues
// none, and a part that does not decode of a node the status key does not list no round sees.
// No reader joins either (a part is read only for a node the status key lists), so each is
// garbage, and it stayed in etcd for as long as the MacvlanNet. A listed node's part that does
// not decode is not: its agent keeps the last it read, and a round writes it over. A gone
// MacvlanNet's parts that decode are gc.ts orphanedIndexKeys'.
import type { MacvlanNet, MacvlanNetStatus } from '../api/index.js';
import { labelsMatch, type Entry } from './model.js';
import { ownCached } from './macvlan-joined.js';
import { partNodes } from './macvlan-status-keys.js';
import type { Ctx } from './context.js';
import type { TxnPlan } from './txn-plan.js';

type Step = (plan: TxnPlan) => void;

/**
 * The parts of stored MacvlanNets of nodes their status key does not list, and every part that
 * does not decode of a node its MacvlanNet's status key does not list (of a MacvlanNet stored,
 * gone or that does not decode). Not one of a node listed: that node's agent joins the last
 * part it read (store/kind-state.ts keeps a key's last good value: its pre-claims, its shim's
 * routes), which it would drop for an absent one; a round writes it over.
 */
export function staleMacvlanParts(ctx: Ctx): Step[] {
  const steps = [...ctx.model.objects<MacvlanNet>('MacvlanNet')].flatMap((m) => unlistedParts(ctx, m));
  const { keys, cache } = ctx.model;
  // pinned to the value refused: a round lists a node only with its part, written over it
  for (const [key, revision] of cache.refusedUnder(keys.nodeIndexRoot())) {
    const p = keys.parseMacvlanPart(key);
    if (p && !mayBeListed(ctx, p)) steps.push((plan) => { plan.modifiedAt(key, String(revision)).del(key); });
  }
  return steps;
}

/** Whether MacvlanNet `p.name`'s status key lists node `p.node` (of whichever MacvlanNet of the name), or does not decode. */
function mayBeListed(ctx: Ctx, p: { node: string; name: string }): boolean {
  const statusKey = ctx.model.keys.status('MacvlanNet', p.name, { controller: true });
  if (ctx.model.cache.isRefused(statusKey)) return true;
  const status = ctx.model.cache.get(statusKey)?.parsed as MacvlanNetStatus | undefined;
  return !!status?.nodes?.some((n) => n.name === p.node);
}

/**
 * MacvlanNet `m`'s parts of nodes its status key does not list, which it neither selects nor
 * holds a claim for (a round lists such a node, as one that leaves). Each delete is pinned to
 * the part, the status key, the MacvlanNet and the node's Node as cached: a part a round writes
 * in the transaction that lists its node is never taken, whatever of that transaction was read,
 * nor one a round lists as it is (equal to what it plans, it writes none) for a Node labelled
 * into the selector (or made) after this pass read it.
 */
function unlistedParts(ctx: Ctx, m: Entry<MacvlanNet>): Step[] {
  const { keys, cache } = ctx.model;
  const name = m.obj.metadata.name;
  const nodes = partNodes(cache, keys, name);
  const statusKey = keys.status('MacvlanNet', name, { controller: true });
  // a status key that does not decode: whom it lists cannot be read
  if (!nodes.size || cache.isRefused(statusKey)) return [];
  // one an earlier MacvlanNet of the name left lists no node of this one (no reader joins by it)
  const own = ownCached(cache, keys, name, statusKey);
  const listed = new Set(((own?.parsed as MacvlanNetStatus | undefined)?.nodes ?? []).map((n) => n.name));
  let holders: Set<string> | undefined;
  const steps: Step[] = [];
  for (const node of nodes) {
    if (listed.has(node) || serves(ctx, m.obj, node, () => (holders ??= claimHolders(ctx, name)))) continue;
    const key = keys.macvlanPart(node, name);
    const part = cache.get(key);
    const status = cache.get(statusKey);
    const objectKey = keys.object('MacvlanNet', name);
    const nodeKey = keys.object('Node', node);
    const nodeKv = ctx.model.node(node)?.kv;
    steps.push((plan) => { plan.unchanged(key, part).unchanged(statusKey, status).unchanged(objectKey, m.kv).unchanged(nodeKey, nodeKv).del(key); });
  }
  return steps;
}

/** Whether MacvlanNet `m` selects `node` (a Node whose key does not decode: may), or the node holds one of its claims. */
function serves(ctx: Ctx, m: MacvlanNet, node: string, holders: () => Set<string>): boolean {
  const n = ctx.model.node(node);
  if (!n) return ctx.model.cache.isRefused(ctx.model.keys.object('Node', node));
  return labelsMatch(m.spec.nodeSelector, n.obj.metadata.labels) || holders().has(node);
}

/** The nodes holding an address or a block of MacvlanNet `name`'s pool. */
function claimHolders(ctx: Ctx, name: string): Set<string> {
  const out = new Set<string>();
  for (const space of ['addresses', 'blocks'] as const) {
    for (const c of ctx.model.claimsIn('macvlannets', name, space).values()) if (c.claim.node) out.add(c.claim.node);
  }
  return out;
}
