// Reading events back: every source's events under <prefix>/events/, decoded against their
// schema (anything else is skipped and counted: events are written by every node), sorted
// oldest first like `kubectl get events`.
import type { Etcd3, IKeyValue } from 'etcd3';
import { Keys } from '../store/keys.js';
import { xnetEvent, type InvolvedObject, type XnetEvent } from './types.js';

export interface EventList {
  items: XnetEvent[];
  /** values that did not decode as events */
  skipped: number;
  revision: number;
}

export function decodeEvent(value: string): XnetEvent | undefined {
  try {
    const r = xnetEvent.safeParse(JSON.parse(value));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export const eventFor = (e: XnetEvent, obj: InvolvedObject | undefined) =>
  !obj || (e.involvedObject.kind === obj.kind && e.involvedObject.name === obj.name);

const byTime = (a: XnetEvent, b: XnetEvent) => a.lastTimestamp.localeCompare(b.lastTimestamp);

export async function listEvents(client: Etcd3, prefix: string | undefined, obj?: InvolvedObject): Promise<EventList> {
  const res = await client.getAll().prefix(new Keys(prefix).events()).exec();
  let skipped = 0;
  const items: XnetEvent[] = [];
  for (const kv of res.kvs) {
    const e = decodeEvent(kv.value.toString());
    if (!e) { skipped++; continue; }
    if (eventFor(e, obj)) items.push(e);
  }
  return { items: items.sort(byTime), skipped, revision: Number(res.header.revision) };
}

/** Calls onEvent for every event written after `revision` until the signal aborts. */
export async function watchEvents(client: Etcd3, prefix: string | undefined, revision: number, obj: InvolvedObject | undefined, onEvent: (e: XnetEvent) => void, signal?: AbortSignal): Promise<void> {
  const w = await client.watch().prefix(new Keys(prefix).events()).startRevision(String(revision + 1)).create();
  w.on('put', (kv: IKeyValue) => {
    const e = decodeEvent(kv.value.toString());
    if (e && eventFor(e, obj)) onEvent(e);
  });
  await new Promise<void>((resolve) => {
    if (signal?.aborted) { resolve(); return; }
    signal?.addEventListener('abort', () => resolve(), { once: true });
    w.on('error', () => resolve());
  });
  await w.cancel().catch(() => undefined);
}
