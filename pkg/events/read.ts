// Reading events back: every source's events under <prefix>/events/, decoded against their
// schema (anything else is skipped and reported by its key: events are written by every node),
// sorted oldest first like `kubectl get events`.
import { createHash } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { KvCache } from '../runtime/kv-cache.js';
import { endOnRefusal } from '../runtime/cache-restarts.js';
import type { EtcdPermissionError } from '../errors.js';
import type { RawKv } from '../runtime/kv.js';
import { rangePrefix } from '../etcd/range.js';
import { Keys } from '../store/keys.js';
import { decodeKey } from '../store/decode.js';
import type { SkippedKey } from '../store/types.js';
import { xnetEvent, type InvolvedObject, type XnetEvent } from './types.js';

/**
 * An event as xctl prints it: a Kubernetes-style object (kind Event, metadata.name), so that
 * kubectl's templates work on it (`{.items[*].metadata.name}`, `-o name`). The name is
 * Kubernetes' form, `<object name>.<16 hex digits>`, the digits a hash of its whole key: the key
 * names the writer and the event's identity (recorder.ts), so two nodes' agents writing the same
 * event about a MacvlanNet get two names, and one event keeps its name as its count grows. The
 * time it was made is its first occurrence.
 */
export type ListedEvent = { apiVersion: 'v1'; kind: 'Event'; metadata: { name: string; creationTimestamp: string } } & XnetEvent;

export function listedEvent(key: string, e: XnetEvent): ListedEvent {
  const id = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return { apiVersion: 'v1', kind: 'Event', metadata: { name: `${e.involvedObject.name}.${id}`, creationTimestamp: e.firstTimestamp }, ...e };
}

export interface EventList {
  items: ListedEvent[];
  /** keys whose values did not decode as events, and why */
  skipped: SkippedKey[];
  /** events about the object left out (fromItsNode), per the node whose agent wrote them */
  others: Map<string, number>;
  revision: number;
}

/**
 * An event key's value, or why it is not an event. Its source is the one its key names
 * (`<root>controller/...` or `<root>nodes/<node>/...`, `root` the events prefix), never the
 * one its value claims: a node's credentials write only under its own prefix, but what it
 * writes there may say "controller" or another node (docs/security.md).
 */
export function decodeEvent(key: string, value: string, root = new Keys().events()): { value: XnetEvent } | { error: string } {
  const d = decodeKey(xnetEvent, key, value);
  if ('error' in d) return d;
  const rest = key.startsWith(root) ? key.slice(root.length).split('/') : [];
  if (rest[0] === 'controller') return { value: { ...d.value, source: { component: 'controller' } } };
  if (rest[0] === 'nodes' && rest[1]) return { value: { ...d.value, source: { component: 'agent', node: rest[1] } } };
  return { error: 'not under the events of the controller or of a node' };
}

/**
 * Whether the event is about obj: its kind and name and, when both say one, its incarnation
 * (uid): an object made again under a name shows none of its predecessor's events. An event
 * without a uid (written by a version before uids, or by a writer that did not know it) is
 * shown for whichever object has that name, as before; so is every event of that name when obj
 * has no uid (no object of that name exists now: what happened to the one that did).
 */
export const eventFor = (e: XnetEvent, obj: InvolvedObject | undefined) => {
  if (!obj) return true;
  const o = e.involvedObject;
  return o.kind === obj.kind && o.name === obj.name && (!o.uid || !obj.uid || o.uid === obj.uid);
};

/**
 * Whether the event may speak about an object bound to `node` (a ContainerNic's or HostSubnet's
 * node, a Node itself; undefined: bound to none): the controller's, or that node's agent's. A
 * node's credentials write events about any name under its own subtree, and one node wrote
 * 3,000 about another node's NIC, which its `describe` listed; an honest agent writes events only
 * about what it reports on (its Node, its NICs and HostSubnets, the MacvlanNets it is part of).
 */
export const fromItsNode = (e: XnetEvent, node: string | undefined) => node === undefined || e.source.node === undefined || e.source.node === node;

const byTime = (a: XnetEvent, b: XnetEvent) => a.lastTimestamp.localeCompare(b.lastTimestamp);

/** Every key under the events prefix, decoded: the events with their keys, and the keys that are no event. */
export interface DecodedEvents {
  events: Array<{ key: string; event: XnetEvent }>;
  skipped: SkippedKey[];
  revision: number;
}

/**
 * Every event, read at `revision` when given (else the revision of the moment). In pages: every
 * node writes events, values up to etcd's 1.5 MiB, and one response over the client's receive
 * limit (64 MiB, some 43 such keys) failed `get events` and every `describe`.
 */
export async function readAllEvents(client: Etcd3, prefix: string | undefined, revision?: number): Promise<DecodedEvents> {
  const root = new Keys(prefix).events();
  const res = await rangePrefix(client, root, revision ? { revision } : {});
  const out: DecodedEvents = { events: [], skipped: [], revision: Number(res.revision) };
  for (const kv of res.kvs) {
    const key = kv.key.toString();
    const e = decodeEvent(key, kv.value.toString(), root);
    if ('error' in e) out.skipped.push({ key, error: e.error });
    else out.events.push({ key, event: e.value });
  }
  return out;
}

/**
 * Of all the events read, those about `obj` that may speak about it (`node`: the node it is
 * bound to, fromItsNode), oldest first; every key that is no event is in `skipped` (it may have
 * been about obj). Without obj, every event.
 */
export function eventsAbout(all: DecodedEvents, obj?: InvolvedObject, node?: string): EventList {
  const items: ListedEvent[] = [];
  const others = new Map<string, number>();
  for (const { key, event } of all.events) {
    if (!eventFor(event, obj)) continue;
    if (fromItsNode(event, node)) items.push(listedEvent(key, event));
    else others.set(event.source.node!, (others.get(event.source.node!) ?? 0) + 1);
  }
  return { items: items.sort(byTime), skipped: all.skipped, others, revision: all.revision };
}

/** Every event, or those about `obj` that may speak about it (eventsAbout). */
export async function listEvents(client: Etcd3, prefix: string | undefined, obj?: InvolvedObject, node?: string): Promise<EventList> {
  return eventsAbout(await readAllEvents(client, prefix), obj, node);
}

export interface EventHandlers {
  onEvent(e: ListedEvent): void;
  /** a key written during the watch whose value is not an event */
  onSkipped?(s: SkippedKey): void;
  /** an event about the object from another node's agent, left out (fromItsNode) */
  onOther?(e: XnetEvent): void;
}

/**
 * Calls onEvent for every event written after `revision` until the signal aborts, from a KvCache
 * over the events (kv-cache.ts), as `get -w` watches objects: a broken connection resumes after
 * the last revision delivered, a compaction while cut off relists. etcd3's own watcher, used
 * here before, waited up to 30 s between tries to reconnect (its backoff grows while etcd is
 * away and only an answer resets it) and ended the command after a compaction. An event put
 * after `revision` is news however it arrives: from the watch, or from a relist (the events
 * written meanwhile, told in revision order); a delete is an event expiring.
 */
export async function watchEvents(client: Etcd3, prefix: string | undefined, revision: number, obj: InvolvedObject | undefined, h: EventHandlers, signal?: AbortSignal, node?: string): Promise<void> {
  const root = new Keys(prefix).events();
  const tell = (kv: RawKv) => {
    const e = decodeEvent(kv.key, kv.value, root);
    if ('error' in e) h.onSkipped?.({ key: kv.key, error: e.error });
    else if (eventFor(e.value, obj)) (fromItsNode(e.value, node) ? h.onEvent(listedEvent(kv.key, e.value)) : h.onOther?.(e.value));
  };
  let news: RawKv[] = [];
  const tellNews = () => { const kvs = news.sort((a, b) => Number(a.modRevision) - Number(b.modRevision)); news = []; kvs.forEach(tell); };
  // A refusal (permission denied: the identity's grants changed) ends the watch with it.
  let refused: ((err: EtcdPermissionError) => void) | undefined;
  const cache = new KvCache(client, root, { onRestartFailed: endOnRefusal((err) => refused?.(err)) });
  cache.onChange((c) => {
    if (!c.kv || Number(c.kv.modRevision) <= revision) return;
    // what one watch response or one relist brings comes in one turn: told once it is all here
    if (!news.length) queueMicrotask(tellNews);
    news.push(c.kv);
  });
  // every call to etcd has a deadline: an etcd gone since the listing fails the command
  await cache.start({ at: revision });
  try {
    await new Promise<void>((resolve, reject) => {
      refused = reject;
      if (signal?.aborted) { resolve(); return; }
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await cache.close();
  }
}
