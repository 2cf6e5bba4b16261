// What one node's agent watches: only what concerns its node, through one KvCache whose
// watches all ride the client's single gRPC watch stream, each key delivered once.
//   - the objects of the kinds every host needs (Nodes, HostSubnets, ClusterNetworks,
//     MacvlanNets: peers' subnets and addresses, the networks that may select it),
//   - the controller's status of HostSubnets (subnet, nodeAddress: where routes go) and
//     MacvlanNets (each node's shim and what other nodes act on: store/macvlan-parts.ts),
//   - its own status subtree (what it last reported, for every kind),
//   - its own index (keys.ts): its ContainerNics and their allocations, and its own part of each
//     MacvlanNet (block, pre-claims, asks), and no other node's.
// Not watched: other nodes' status (heartbeats, NIC reports), other nodes' NICs and MacvlanNet
// parts, MacvlanNets' pool counts, IPAM claims, events. Each cached key is decoded against its
// kind's schema (decode.ts): a key that does not decode is skipped and logged, and its last
// good value stays (kind-state.ts); unreadable() names the objects whose key is so. On any
// cancel the cache relists (kv-cache.ts) and the differences arrive as events; a lost
// connection resumes from the last delivered revision.
import type { Etcd3 } from 'etcd3';
import { KINDS, type Kind } from '../api/index.js';
import type { Logger } from '../log.js';
import { KvCache } from '../runtime/kv-cache.js';
import { KindView, mergedItems, skippedKeys } from './kind-state.js';
import type { Keys } from './keys.js';
import type { ListResult, NodeWatch, WatchHandlers } from './types.js';

/** The etcd prefixes a node's agent watches (and its etcd role may read: pkg/auth/roles.ts). */
export function nodeViewPrefixes(keys: Keys, node: string): string[] {
  return [
    ...(['Node', 'HostSubnet', 'ClusterNetwork', 'MacvlanNet'] as const).map((k) => keys.objects(k)),
    keys.controllerStatuses('HostSubnet'),
    keys.controllerStatuses('MacvlanNet'),
    keys.nodeStatuses(node),
    keys.nodeIndex(node),
  ];
}

export class NodeView implements NodeWatch {
  readonly cache: KvCache;
  private readonly views = new Map<Kind, KindView>();
  private readonly subscribers = new Map<Kind, Set<WatchHandlers>>();

  constructor(client: Etcd3, private readonly keys: Keys, readonly node: string, private readonly log?: Logger, onRestart?: () => void) {
    this.cache = new KvCache(client, nodeViewPrefixes(keys, node), { log, onRestart });
    // a MacvlanNet's part in the index is not a copy of a registry key: filed as it is (kind-state.ts)
    const registryKey = (k: string) => (keys.parseMacvlanPart(k) ? k : keys.unindexed(node, k) ?? k);
    for (const { kind } of KINDS) {
      const view = new KindView(this.cache, keys, kind, log, registryKey);
      view.onEvent((e) => this.each(kind, (h) => h.onEvent(e)));
      this.views.set(kind, view);
      this.subscribers.set(kind, new Set());
    }
    this.cache.onRelist((revision) => {
      for (const kind of this.subscribers.keys()) this.each(kind, (h) => h.onRelist?.(this.snapshot(kind, revision), true));
    });
  }

  /** One subscriber's failure is logged and never keeps the others from hearing. */
  private each(kind: Kind, f: (h: WatchHandlers) => void): void {
    for (const h of this.subscribers.get(kind) ?? []) {
      try { f(h); } catch (err) { this.log?.error('watch handler failed', { kind, error: String(err) }); }
    }
  }

  /** Lists every prefix at one revision and watches from the next; throws when etcd cannot be read (callers retry). */
  start(): Promise<void> {
    return this.cache.start();
  }

  close(): Promise<void> {
    return this.cache.close();
  }

  private snapshot(kind: Kind, revision = this.cache.revision): ListResult {
    const s = this.views.get(kind)!.state;
    return { items: mergedItems(s), revision, skipped: skippedKeys(s) };
  }

  /**
   * Objects of `kind` whose key in the view does not decode: the view holds their last good
   * value, or nothing when the key was unreadable from the start. Not gone: nothing of theirs is
   * to be removed (docs/security.md, "Unreadable is not absent").
   */
  unreadable(kind: Kind): string[] {
    const out: string[] = [];
    for (const key of this.views.get(kind)!.state.skipped.keys()) {
      const o = this.keys.parseObjectKey(key);
      if (o?.kind === kind) out.push(o.name);
    }
    return out;
  }

  /** Told of each deleted key that never decoded here (KindView.onUnreadableGone): no event names it. */
  onUnreadableGone(fn: (kind: Kind, name: string) => void): void {
    for (const [kind, view] of this.views) view.onUnreadableGone((name) => fn(kind, name));
  }

  ownStatus(kind: Kind, name: string): string | undefined {
    return this.cache.get(this.keys.status(kind, name, { node: this.node }))?.value;
  }

  ownReports(kind: Kind): string[] {
    const out: string[] = [];
    for (const kv of this.cache.entries(this.keys.status(kind, '', { node: this.node }))) {
      const st = this.keys.parseStatusKey(kv.key);
      if (st?.kind === kind) out.push(st.name);
    }
    return out;
  }

  onOwnStatus(fn: (kind: Kind, name: string, value: string | undefined) => void): void {
    const root = this.keys.nodeStatuses(this.node);
    this.cache.onChange((c) => {
      const st = c.key.startsWith(root) ? this.keys.parseStatusKey(c.key) : undefined;
      if (st) fn(st.kind, st.name, c.kv?.value);
    });
  }

  /** The view's objects of `kind` as of now (start() first). */
  async list(kind: Kind): Promise<ListResult> {
    return this.snapshot(kind);
  }

  /**
   * Events of `kind` from now on. The view is one cache, so a caller that listed at an older
   * revision gets the current list as a relist first (its informer diffs it).
   */
  async watch(kind: Kind, fromRevision: number, h: WatchHandlers): Promise<{ close(): Promise<void> }> {
    const subs = this.subscribers.get(kind)!;
    const mine = { ...h };
    subs.add(mine);
    if (this.cache.revision !== fromRevision) h.onRelist?.(this.snapshot(kind), false);
    return { close: async () => { subs.delete(mine); } };
  }
}
