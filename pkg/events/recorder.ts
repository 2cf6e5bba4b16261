// Writes events the way Kubernetes' event recorder does: the same (object, type, reason,
// message) from one source is one event whose count and lastTimestamp move; bursts are cut by
// a token bucket (dropped events are counted, xnet_events_dropped_total, never queued without bound); every write
// carries a lease so events expire. An event it does not remember goes on from the count stored
// in etcd (stored.ts). Recording never throws and never blocks the caller.
import { eventsDropped } from '../metrics/metrics.js';
import { createHash } from 'node:crypto';
import { EtcdLeaseInvalidError, type Etcd3, type ICompare, type Lease } from 'etcd3';
import { kindInfo, type Kind } from '../api/kinds.js';
import type { Logger } from '../log.js';
import { Keys } from '../store/keys.js';
import { monotonicMs } from '../runtime/clock.js';
import { storedOccurrence } from './stored.js';
import { putOp, txn } from '../runtime/kv.js';
import { DEFAULT_EVENT_TTL_SECONDS, type EventType, type InvolvedObject, type XnetEvent } from './types.js';

export interface RecorderOptions {
  client: Etcd3;
  prefix?: string;
  /** the controller, or a node's agent (which may write only its own events subtree) */
  source: { component: 'controller' } | { component: 'agent'; node: string };
  ttlSeconds?: number;
  /** token bucket: sustained events per second and burst (default 5/s, 25) */
  perSecond?: number;
  burst?: number;
  log?: Logger;
  /**
   * The controller's term guard (runtime/leader.ts), undefined while it does not lead: each
   * event is written only while that term lasts. A leader paused past its lease and resumed
   * would otherwise write its remembered counts over the new leader's (a count going back).
   */
  guard?: () => ICompare | undefined;
}

const MAX_MESSAGE = 1024;
/** The term an occurrence was recorded in (compare undefined: recorded while not leading). */
interface Guard { compare?: ICompare }
/** entries remembered for deduplication; an older one's next occurrence reads its count from etcd */
const MAX_REMEMBERED = 4096;

/**
 * An event's identity within its object's events: the object's incarnation (uid), type, reason
 * and message (or series). An object deleted and made again under its name counts its events
 * anew. Without a uid the id is the one versions before uids gave, so their counts go on.
 */
function eventId(uid: string | undefined, type: EventType, reason: string, what: string): string {
  const identity = `${type}\0${reason}\0${what}`;
  return createHash('sha256').update(uid ? `uid\0${uid}\0${identity}` : identity).digest('hex').slice(0, 16);
}

export class EventRecorder {
  private readonly keys: Keys;
  private readonly remembered = new Map<string, XnetEvent>();
  private tokens: number;
  /** runtime/clock.ts: monotonic ms (a wall clock set back must not empty the bucket for as long) */
  private refilledAt = monotonicMs();
  private lease?: { lease: Lease; grantedAt: number };
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** events dropped by the rate limit */
  dropped = 0;

  constructor(private readonly o: RecorderOptions) {
    this.keys = new Keys(o.prefix);
    this.tokens = o.burst ?? 25;
  }

  private get ttl(): number { return this.o.ttlSeconds ?? DEFAULT_EVENT_TTL_SECONDS; }

  /** Where this source's event about obj with this identity lives. */
  keyFor(obj: InvolvedObject, id: string): string {
    const root = this.o.source.component === 'agent' ? this.keys.nodeEvents(this.o.source.node) : this.keys.controllerEvents();
    return `${root}${kindInfo(obj.kind as Kind).plural}/${obj.name}/${id}`;
  }

  /**
   * Records an event; resolves when it is written (or dropped). Never rejects. Events of one
   * object (one incarnation: obj.uid, when given) with the same type, reason and message are
   * one event with a count; `series`, when
   * given, stands for the message in that identity (a message that carries a measurement, such
   * as a heal's latency, would otherwise make every occurrence an event of its own), and the
   * event then shows the newest message.
   */
  record(obj: InvolvedObject, type: EventType, reason: string, message: string, series?: string): Promise<void> {
    if (this.closed || !this.take()) {
      if (!this.closed) { this.dropped++; eventsDropped.inc({ component: this.o.source.component }); }
      return Promise.resolve();
    }
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message;
    const id = eventId(obj.uid, type, reason, series === undefined ? text : `series\0${series}`);
    const key = this.keyFor(obj, id);
    const now = new Date().toISOString();
    // the term it happened in, taken now: written later, under a newer term of this process,
    // its count (remembered from the older term) could go over what another leader counted
    const guard = this.o.guard ? { compare: this.o.guard() } : undefined;
    // one occurrence at a time, in order: a count never goes backwards in etcd
    const involvedObject = { kind: obj.kind, name: obj.name, ...(obj.uid ? { uid: obj.uid } : {}) };
    this.chain = this.chain.then(() => this.occurred(key, { involvedObject, type, reason, message: text }, now, guard));
    return this.chain;
  }

  /**
   * Counts and writes one occurrence. An event not remembered (this recorder never wrote it, or
   * let it go) goes on from its stored occurrence, if any: a new leader's or a restarted
   * agent's first repeat is count+1, not 1. An event remembered costs no read.
   */
  private async occurred(key: string, what: Pick<XnetEvent, 'involvedObject' | 'type' | 'reason' | 'message'>, now: string, guard?: Guard): Promise<void> {
    const prev = this.remembered.get(key) ?? await storedOccurrence({
      client: this.o.client, key, root: this.keys.events(), obj: what.involvedObject, type: what.type, reason: what.reason, log: this.o.log,
    });
    const ev: XnetEvent = { ...what, source: { ...this.o.source }, count: (prev?.count ?? 0) + 1, firstTimestamp: prev?.firstTimestamp ?? now, lastTimestamp: now };
    this.remember(key, ev);
    await this.write(key, ev, guard);
  }

  /**
   * Lets go of every remembered event, in order with the occurrences recorded before: the
   * next occurrence of each goes on from what is stored. A controller calls it when it starts
   * leading, since another leader may have counted its events meanwhile.
   */
  forget(): void {
    this.chain = this.chain.then(() => this.remembered.clear());
  }

  /** Writes the occurrence; under `guard`, only while that term lasts (RecorderOptions.guard). */
  private async write(key: string, ev: XnetEvent, guard?: Guard): Promise<void> {
    try {
      if (guard && !guard.compare) return this.notLeading(key, ev);
      await this.writeOnce(key, ev, guard).catch(async (e: unknown) => {
        // A lease etcd no longer has (etcd restored from a backup that predates it, or revoked):
        // every event would fail until the next lease, ttl/12 later. One more try on a new one.
        if (!isLeaseGone(e)) throw e;
        this.lease = undefined;
        await this.writeOnce(key, ev, guard);
      });
    } catch (e) {
      this.o.log?.warn('event not recorded', { reason: ev.reason, object: `${ev.involvedObject.kind}/${ev.involvedObject.name}`, error: (e as Error).message });
    }
  }

  private async writeOnce(key: string, ev: XnetEvent, guard?: Guard): Promise<void> {
    const lease = await this.currentLease();
    if (!guard?.compare) { await lease.put(key).value(JSON.stringify(ev)); return; }
    const r = await txn(this.o.client, [guard.compare], [putOp(key, ev, await lease.grant())]);
    if (!r.succeeded) this.notLeading(key, ev);
  }

  /** An occurrence recorded outside the term it needs: dropped, its count left to the next leader. */
  private notLeading(key: string, ev: XnetEvent): void {
    this.remembered.delete(key);
    this.o.log?.debug('event not recorded: not leading', { reason: ev.reason, object: `${ev.involvedObject.kind}/${ev.involvedObject.name}` });
  }

  /**
   * One lease serves many events; a new one is granted every ttl/12, so an event lives between
   * 11/12 ttl and ttl after its last occurrence, and no lease is kept alive.
   */
  private async currentLease(): Promise<Lease> {
    // monotonic (runtime/clock.ts): with a wall clock set back, a lease etcd let expire was used on
    const now = monotonicMs();
    if (this.lease && now - this.lease.grantedAt < (this.ttl * 1000) / 12) return this.lease.lease;
    const lease = this.o.client.lease(this.ttl, { autoKeepAlive: false });
    lease.on('lost', () => undefined);
    await lease.grant();
    this.lease = { lease, grantedAt: now };
    return lease;
  }

  private take(): boolean {
    const rate = this.o.perSecond ?? 5;
    const burst = this.o.burst ?? 25;
    const now = monotonicMs();
    this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) / 1000) * rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private remember(key: string, ev: XnetEvent): void {
    this.remembered.delete(key);
    this.remembered.set(key, ev);
    if (this.remembered.size > MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
  }

  /** Waits for pending writes; later records are ignored. */
  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
  }
}

/** etcd's answer to a write under a lease it does not have (etcd3 casts it, or our txn wraps it). */
const isLeaseGone = (e: unknown): boolean => e instanceof EtcdLeaseInvalidError || /requested lease not found/.test((e as Error)?.message ?? '');
