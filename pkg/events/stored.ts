// The stored occurrence of an event a recorder does not remember (a new leader, a restarted
// agent, an entry it let go): its count and firstTimestamp go on from there, as Kubernetes'
// recorder patches an event it finds with count+1. One get with a deadline; the value is
// untrusted (whoever may write the key may write anything there): anything but an event of
// the same identity starts a new count, logged, never thrown.
import type { Etcd3 } from 'etcd3';
import type { Logger } from '../log.js';
import { withTimeout } from '../runtime/watch-wait.js';
import { decodeEvent } from './read.js';
import type { EventType, InvolvedObject } from './types.js';

/** How long the read of a stored event may take before the event is written with a new count. */
export const STORED_EVENT_READ_MS = 2000;

export interface Occurrence { count: number; firstTimestamp: string }

export interface StoredEventQuery {
  client: Etcd3;
  /** the event's key, and the events prefix it lies under */
  key: string;
  root: string;
  obj: InvolvedObject;
  type: EventType;
  reason: string;
  log?: Logger;
  timeoutMs?: number;
}

export async function storedOccurrence(q: StoredEventQuery): Promise<Occurrence | undefined> {
  let value: string | null;
  try {
    value = await withTimeout(q.client.get(q.key).string(), q.timeoutMs ?? STORED_EVENT_READ_MS, 'reading the stored event');
  } catch (e) {
    q.log?.warn('stored event not read; its count starts again', { key: q.key, error: (e as Error).message });
    return undefined;
  }
  if (value === null) return undefined;
  let why: Occurrence | string;
  try { why = notTheSame(q, value); } catch (e) { why = (e as Error).message; }
  if (typeof why === 'string') {
    q.log?.warn('stored event is not this event; its count starts again', { key: q.key, error: why });
    return undefined;
  }
  return why;
}

/** The stored occurrence, or why the value is not one of this event. */
function notTheSame(q: StoredEventQuery, value: string): Occurrence | string {
  const d = decodeEvent(q.key, value, q.root);
  if ('error' in d) return d.error;
  const e = d.value;
  const o = e.involvedObject;
  if (o.kind !== q.obj.kind || o.name !== q.obj.name || o.uid !== q.obj.uid || e.type !== q.type || e.reason !== q.reason) {
    return `it is ${e.type} ${e.reason} of ${o.kind}/${o.name}${o.uid ? ` (uid ${o.uid})` : ''}`;
  }
  if (!Number.isFinite(Date.parse(e.firstTimestamp))) return `firstTimestamp ${JSON.stringify(e.firstTimestamp.slice(0, 40))} is not a time`;
  if (e.count >= Number.MAX_SAFE_INTEGER) return `count ${e.count} cannot grow`;
  return { count: e.count, firstTimestamp: e.firstTimestamp };
}
