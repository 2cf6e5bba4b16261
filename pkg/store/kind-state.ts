// One kind at one revision, before merging: objects, the controller's status and each node's
// status, decoded key by key (keys that do not decode are kept aside as skipped). The store's
// list and its watches both file keys through here; ./merge.ts makes the merged view.
//
// Unreadable is not absent (docs/security.md): a put whose value does not decode leaves the
// key's last good value in place (an object, a status) and records the key as skipped; only a
// delete of the key removes its value. A fresh state (a list, `xctl get`) has no last good
// value: there the key is only named as skipped.
import type { AnyObject, Kind } from '../api/index.js';
import type { Logger } from '../log.js';
import type { CacheChange, KvCache } from '../runtime/kv-cache.js';
import { macvlanPoolStatus } from '../api/index.js';
import { decodeKeyOf, decodeMacvlanPart, decodeObject, decodeStatus, orSkip, type SkippedKey, type Status } from './decode.js';
import { joinMacvlanStatus, type StatusKey } from './macvlan-parts.js';
import { indexNode, type Keys } from './keys.js';
import { hiddenNodeConditions, withStatus, type NodeConditions } from './merge.js';
import type { WatchEvent } from './types.js';

export interface KindState {
  objects: Map<string, AnyObject>;
  /** object name -> its key's create_revision: which object of that name it is (macvlan-parts.ts writtenSinceMacvlanCreated) */
  created: Map<string, number>;
  controllerStatus: Map<string, Status>;
  /** object name -> the revision its controller status key was last written at */
  controllerRevision: Map<string, number>;
  /** object name -> node -> the controller's status kept in that node's index (keys.controllerStatus) */
  indexedStatus: Map<string, Map<string, Status>>;
  /** object name -> node -> that node's status */
  nodeStatus: Map<string, Map<string, Status>>;
  /** MacvlanNet name -> node -> its part kept in that node's index (macvlan-parts.ts) */
  macvlanParts: Map<string, Map<string, StatusKey>>;
  /** MacvlanNet name -> its pool counts (macvlan-parts.ts) */
  poolStatus: Map<string, StatusKey>;
  /** key -> why it did not decode */
  skipped: Map<string, string>;
  revision: number;
}

export function emptyKindState(revision = 0): KindState {
  return { objects: new Map(), created: new Map(), controllerStatus: new Map(), controllerRevision: new Map(), indexedStatus: new Map(), nodeStatus: new Map(), macvlanParts: new Map(), poolStatus: new Map(), skipped: new Map(), revision };
}

export interface Filed {
  name: string;
  /** the object key itself (not one of its status keys) */
  object: boolean;
  /** a put that did not decode: the state kept the key's last good value (if any), nothing changed */
  refused?: boolean;
}

/** A key's revisions as etcd gives them: last written (mod) and created (create; an object's tells which object of its name it is). */
export interface KeyRevisions { mod: string | number; create?: string | number }

/**
 * Files one key's put (`value`) or delete (undefined) into the state. Returns which object it
 * concerns, or undefined when the key is not of this kind. A put that does not decode changes
 * nothing but the skipped keys (`refused`).
 */
export function fileKey(s: KindState, keys: Keys, kind: Kind, key: string, value: string | undefined, rev: KeyRevisions): Filed | undefined {
  const ok = keys.parseObjectKey(key);
  if (ok) {
    if (ok.kind !== kind) return undefined;
    const filed = { name: ok.name, object: true };
    if (value === undefined) {
      s.skipped.delete(key);
      s.objects.delete(ok.name);
      s.created.delete(ok.name);
      return filed;
    }
    const o = orSkip(s.skipped, key, () => decodeObject(kind, ok.name, key, value, rev.mod));
    if (!o) return { ...filed, refused: true };
    s.objects.set(ok.name, o);
    if (rev.create !== undefined) s.created.set(ok.name, Number(rev.create)); else s.created.delete(ok.name);
    return filed;
  }
  if (kind === 'MacvlanNet') {
    const filed = fileMacvlanKey(s, keys, key, value, Number(rev.mod));
    if (filed) return filed;
  }
  const ix = keys.parseIndexedStatus(key);
  const st = ix ? { kind: ix.kind, name: ix.name, writer: { controller: true as const } } : keys.parseStatusKey(key);
  if (!st || st.kind !== kind) return undefined;
  const filed = { name: st.name, object: false };
  if (value === undefined) s.skipped.delete(key);
  const status = value === undefined ? undefined : orSkip(s.skipped, key, () => decodeStatus(kind, key, value));
  if (value !== undefined && !status) return { ...filed, refused: true };
  if (ix) setPerNode(s.indexedStatus, st.name, ix.node, status);
  else if ('controller' in st.writer) {
    if (status) s.controllerStatus.set(st.name, status); else s.controllerStatus.delete(st.name);
    if (status) s.controllerRevision.set(st.name, Number(rev.mod)); else s.controllerRevision.delete(st.name);
  } else setPerNode(s.nodeStatus, st.name, st.writer.node, status);
  return filed;
}

/** A MacvlanNet's node part or pool counts (macvlan-parts.ts), decoded against their own schemas; undefined for another key. */
function fileMacvlanKey(s: KindState, keys: Keys, key: string, value: string | undefined, modRevision: number): Filed | undefined {
  const part = keys.parseMacvlanPart(key);
  const pool = part ? undefined : keys.parseMacvlanPool(key);
  const name = part?.name ?? pool;
  if (name === undefined) return undefined;
  const filed = { name, object: false };
  if (value === undefined) s.skipped.delete(key);
  const status = value === undefined ? undefined : orSkip(s.skipped, key, () => (part ? decodeMacvlanPart(part.node, key, value) : decodeKeyOf(macvlanPoolStatus, key, value)));
  if (value !== undefined && !status) return { ...filed, refused: true };
  const written = status && { value: status, modRevision };
  if (part) setPerNode(s.macvlanParts, name, part.node, written);
  else if (written) s.poolStatus.set(name, written); else s.poolStatus.delete(name);
  return filed;
}

function setPerNode<T>(m: Map<string, Map<string, T>>, name: string, node: string, status: T | undefined): void {
  let byNode = m.get(name);
  if (!byNode) m.set(name, (byNode = new Map()));
  if (status) byNode.set(node, status); else byNode.delete(node);
  if (byNode.size === 0) m.delete(name);
}

/**
 * The controller's status of an object: kept in the index of the node an indexed object is
 * bound to (one left in another node's index is not its status), else under status/controller/.
 */
function controllerStatusOf(s: KindState, o: AnyObject): Status | undefined {
  const name = o.metadata.name;
  if (o.kind === 'MacvlanNet') {
    const shared = s.controllerStatus.get(name);
    const sharedKey = shared && { value: shared, modRevision: s.controllerRevision.get(name) };
    return joinMacvlanStatus(s.created.get(name), sharedKey, s.poolStatus.get(name), (node) => s.macvlanParts.get(name)?.get(node));
  }
  const node = indexNode(o);
  const indexed = node ? s.indexedStatus.get(o.metadata.name)?.get(node) : undefined;
  return indexed ?? s.controllerStatus.get(o.metadata.name);
}

export function merged(s: KindState, name: string): AnyObject | undefined {
  const o = s.objects.get(name);
  return o && withStatus(o, controllerStatusOf(s, o), s.nodeStatus.get(name) ?? new Map());
}

/** The bound node's conditions of the object that its merged view hides (merge.ts, hiddenNodeConditions). */
export function hiddenOf(s: KindState, name: string): NodeConditions | undefined {
  const o = s.objects.get(name);
  return o && hiddenNodeConditions(o, controllerStatusOf(s, o), s.nodeStatus.get(name) ?? new Map());
}

export function mergedItems(s: KindState): AnyObject[] {
  return [...s.objects.keys()].map((n) => merged(s, n)!);
}

export function skippedKeys(s: KindState): SkippedKey[] {
  return [...s.skipped].map(([key, error]) => ({ key, error }));
}

/**
 * The merged objects of one kind, kept up to date from a KvCache: every cache change of the
 * kind becomes an ADDED/MODIFIED/DELETED event of the merged view. A put that does not decode
 * becomes no event: the key is reported skipped (onSkipped) and its last good value stays.
 */
export class KindView {
  readonly state: KindState = emptyKindState();
  private listeners: Array<(e: WatchEvent) => void> = [];
  private skipListeners: Array<(s: SkippedKey) => void> = [];
  private goneListeners: Array<(name: string) => void> = [];

  /**
   * `registryKey`: the registry key a cached key stands for (a node's index holds copies of
   * registry keys, keys.ts); by default the key itself.
   */
  constructor(cache: KvCache, private readonly keys: Keys, readonly kind: Kind, private readonly log?: Logger,
    private readonly registryKey: (key: string) => string = (k) => k) {
    for (const kv of cache.entries()) this.file(kv.key, kv.value, { mod: kv.modRevision, create: kv.createRevision });
    this.state.revision = cache.revision;
    cache.onChange((c) => this.onChange(c, cache.revision));
  }

  onEvent(fn: (e: WatchEvent) => void): void {
    this.listeners.push(fn);
  }

  /** Told of each key that newly does not decode (or fails for another reason than before). */
  onSkipped(fn: (s: SkippedKey) => void): void {
    this.skipListeners.push(fn);
  }

  /**
   * Told when the key of an object that never decoded here (no last good value, so no event
   * named it) is deleted: what kept something in place for it may now let it go.
   */
  onUnreadableGone(fn: (name: string) => void): void {
    this.goneListeners.push(fn);
  }

  private file(cachedKey: string, value: string | undefined, rev: KeyRevisions): Filed | undefined {
    const key = this.registryKey(cachedKey);
    const wasSkipped = this.state.skipped.get(key);
    const f = fileKey(this.state, this.keys, this.kind, key, value, rev);
    const why = this.state.skipped.get(key);
    if (why && why !== wasSkipped) {
      this.log?.warn('skipped a key that does not decode', { key: cachedKey, error: why });
      for (const fn of this.skipListeners) {
        try { fn({ key: cachedKey, error: why }); } catch (err) { this.log?.error('skipped-key handler failed', { key: cachedKey, error: String(err) }); }
      }
    }
    return f;
  }

  private onChange(c: CacheChange, revision: number): void {
    const key = this.registryKey(c.key);
    const name = this.keys.parseObjectKey(key)?.name ?? this.keys.parseStatusKey(key)?.name ?? this.keys.parseIndexedStatus(key)?.name
      ?? this.keys.parseMacvlanPart(key)?.name ?? this.keys.parseMacvlanPool(key);
    const before = name !== undefined && this.state.objects.has(name) ? merged(this.state, name) : undefined;
    const neverRead = !before && !c.kv && this.state.skipped.has(key) && this.keys.parseObjectKey(key)?.kind === this.kind;
    const rev = Number(c.kv?.modRevision ?? revision);
    const f = this.file(c.key, c.kv?.value, { mod: rev, create: c.kv?.createRevision });
    this.state.revision = Math.max(this.state.revision, rev);
    // refused: the last good value stays, so there is nothing to tell (the key was reported skipped)
    if (!f || f.refused) return;
    const after = merged(this.state, f.name);
    if (neverRead && !after) this.tellGone(f.name);
    if (!after && before) this.emit({ type: 'DELETED', object: before, revision: rev });
    else if (after && !before) this.emit({ type: 'ADDED', object: after, revision: rev });
    else if (after) this.emit({ type: 'MODIFIED', object: after, revision: rev });
  }

  private tellGone(name: string): void {
    for (const fn of this.goneListeners) {
      try { fn(name); } catch (err) { this.log?.error('unreadable-gone handler failed', { object: name, error: String(err) }); }
    }
  }

  private emit(e: WatchEvent): void {
    for (const fn of this.listeners) {
      try { fn(e); } catch (err) { this.log?.error('watch handler failed', { object: e.object.metadata.name, error: String(err) }); }
    }
  }
}
