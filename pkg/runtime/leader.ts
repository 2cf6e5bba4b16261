// Leader election over one etcd key attached to a lease. The key's create_revision names the
// term: every write the leader makes carries `term.guard` (a compare on that create_revision),
// so a leader that lost its lease — paused, partitioned, or simply slow to notice — cannot
// write anything, because etcd deleted the key when the lease expired.
import type { Etcd3, ICompare, IKeyValue, Lease, Watcher } from 'etcd3';
import type { Logger } from '../log.js';
import { createdAt, keyAbsent, putOp, getOp, txn } from './kv.js';
import { LEADER_RETRY, RECONNECT_BACKOFF, backoffDelay } from './backoff.js';
import { onceConnected, withTimeout } from './watch-wait.js';
import { describeHolder, removeStaleHolder, staleHolder } from './stale-holder.js';

/** How long the election key's watch may take to be armed before campaigning goes on without it. */
const WATCH_ARM_MS = 5000;

/**
 * Default lease TTL of the controller's leadership: a killed leader is replaced within this.
 * Short because nothing else depends on it: a leader that lost its lease without noticing
 * cannot write (the guard above), so a short TTL costs only keep-alives (one every TTL/3 from
 * the etcd3 client) and the risk of a needless hand-over when a keep-alive is 2/3 of a TTL
 * late. Kubernetes' leader election waits 15 s because its lock guards nothing by itself.
 */
export const DEFAULT_LEADER_TTL_SECONDS = 5;

export interface LeaderTerm {
  /** the leader key's create_revision; unique per term */
  revision: string;
  leaseId: string;
  /** compare that holds only while this term lasts */
  guard: ICompare;
  /** resolves when this term ends (lease lost, key gone, or resign) */
  ended: Promise<void>;
}

export interface LeaderElectorOptions {
  client: Etcd3;
  key: string;
  /** this candidate's identity, stored as the key's value */
  id: string;
  ttlSeconds?: number;
  log?: Logger;
}

export interface LeaderCallbacks {
  onStartedLeading(term: LeaderTerm): void | Promise<void>;
  onStoppedLeading(): void | Promise<void>;
}

export class LeaderElector {
  private stopped = false;
  private lease?: Lease;
  private wake?: () => void;
  private endTerm?: () => void;
  private termRevision?: string;
  /** the election key's watch (makeWatcher) */
  private watcher?: Watcher;
  /** watches made again since the last one etcd created (rearm) */
  private rearms = 0;
  /** consecutive failures to reach etcd while campaigning, for LEADER_RETRY */
  private failures = 0;
  /** mod_revision of the last stale holder warned about: warned once, however often it is met */
  private staleWarned?: string;
  readonly ttlSeconds: number;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.ttlSeconds = opts.ttlSeconds ?? DEFAULT_LEADER_TTL_SECONDS;
  }

  get key(): string { return this.opts.key; }

  /** The current leader's id, if any. */
  async leader(): Promise<string | undefined> {
    return (await this.opts.client.get(this.opts.key).string()) ?? undefined;
  }

  /** Campaigns until stop(): leads while it can, steps down when the lease or key is lost. */
  async run(cb: LeaderCallbacks): Promise<void> {
    this.failures = 0;
    try {
      await this.watchKey();
      while (!this.stopped) {
        const lease = this.opts.client.lease(this.ttlSeconds, { autoKeepAlive: true });
        this.lease = lease;
        let leaseLost = false;
        lease.on('lost', () => { leaseLost = true; this.wake?.(); this.endTerm?.(); });
        const leaseId = await this.grant(lease);
        if (leaseId === undefined) continue;
        await this.campaign(cb, leaseId, () => leaseLost);
        try { await lease.revoke(); } catch { /* an expired lease cannot be revoked; fine */ }
      }
    } finally {
      // cancel() waits for etcd's answer; an etcd that is gone never gives one
      const watcher = this.watcher;
      this.watcher = undefined;
      await withTimeout(watcher ? watcher.cancel() : Promise.resolve(), 2000, 'election watch cancel').catch(() => undefined);
    }
  }

  /** Watches the election key: its deletion wakes a waiting campaign, a new holder ends our term. */
  private async watchKey(): Promise<void> {
    const armed = this.makeWatcher();
    // Armed before the first campaign so that a deletion is not missed; an etcd that does not
    // answer is not waited on longer (or past stop()): a waiting campaign re-checks the key
    // every TTL anyway, and the watch arms itself when etcd comes back.
    const waited = this.sleep(WATCH_ARM_MS);
    const why = await Promise.race([armed.then(() => undefined, (e: Error) => e.message), waited.then(() => `not armed within ${WATCH_ARM_MS} ms`)]);
    this.wake?.(); // the wait's timer goes when the watch won
    if (why && !this.stopped) this.opts.log?.warn('election watch not armed yet; campaigning without it', { error: why });
  }

  /** The election key's watcher, as this.watcher; resolves once etcd has created it. */
  private makeWatcher(): Promise<unknown> {
    const watcher = this.opts.client.watch().key(this.opts.key).watcher();
    this.watcher = watcher;
    watcher.on('delete', (kv) => {
      this.wake?.();
      if (deleteEndsTerm(kv.mod_revision, this.termRevision)) this.endTerm?.();
    });
    watcher.on('put', (kv) => {
      if (putEndsTerm(kv.mod_revision, kv.create_revision, this.termRevision)) this.endTerm?.();
    });
    watcher.on('error', (err) => {
      this.wake?.();
      if (this.watcher !== watcher) return;
      // etcd3 has dropped it: a stop() before the re-arm must not wait on its cancel
      this.watcher = undefined;
      this.rearm(err);
    });
    return onceConnected(watcher);
  }

  /**
   * etcd3 emits 'error' on a watcher only when etcd canceled it, e.g. compacted past the
   * revision it would resume from after a reconnect, and drops it: without a new one a standby
   * learns that the leader's key went only at its next re-check (a TTL later), and a leader does
   * not see another take the key. Made again at once; once armed, a waiting campaign looks at
   * the key again and a term checks that its key is still its own.
   */
  private rearm(err: unknown): void {
    if (this.stopped) return;
    // one that etcd keeps refusing (a grant taken away) is tried again ever more slowly
    const delay = backoffDelay(this.rearms++, RECONNECT_BACKOFF);
    this.opts.log?.warn('election watch ended by etcd; watching the key again', { error: String(err), inMs: delay });
    setTimeout(() => {
      if (this.stopped) return;
      this.makeWatcher().then(() => { this.rearms = 0; this.wake?.(); this.recheckTerm(this.termRevision); }, () => undefined);
    }, delay).unref();
  }

  /** Ends the term that began at `revision` if the key is gone or another's (a missed event). */
  private recheckTerm(revision: string | undefined): void {
    if (revision === undefined) return;
    void this.opts.client.get(this.opts.key).exec().then((r) => {
      const kv = r.kvs[0];
      if (this.termRevision === revision && (!kv || String(kv.create_revision) !== revision)) this.endTerm?.();
    }).catch(() => undefined);
  }

  /** The granted lease's id, or undefined after waiting out a failure (LEADER_RETRY). */
  private async grant(lease: Lease): Promise<string | undefined> {
    try {
      const leaseId = await lease.grant();
      this.failures = 0;
      return leaseId;
    } catch (err) {
      this.opts.log?.warn('cannot grant leader lease; retrying', { error: String(err) });
      await this.sleep(backoffDelay(++this.failures, LEADER_RETRY));
      return undefined;
    }
  }

  /** Tries to take the key under `leaseId` until it leads one term, is stopped or loses the lease. */
  private async campaign(cb: LeaderCallbacks, leaseId: string, leaseLost: () => boolean): Promise<void> {
    const { client, key, id, log } = this.opts;
    while (!this.stopped && !leaseLost()) {
      let res;
      try {
        res = await txn(client, [keyAbsent(key)], [putOp(key, id, leaseId)], [getOp(key)]);
        this.failures = 0;
      } catch (err) {
        log?.warn('leader campaign failed; retrying', { error: String(err) });
        await this.sleep(backoffDelay(++this.failures, LEADER_RETRY));
        continue;
      }
      if (res.succeeded) return this.lead(cb, String(res.header.revision), leaseId);
      const holder = res.responses[0]?.response_range?.kvs?.[0];
      // Our own key survived a restart of this loop: the term goes on.
      if (holder && String(holder.lease) === leaseId) return this.lead(cb, String(holder.create_revision), leaseId);
      // A key no live lease keeps never goes by itself: taken over, then campaigned for again.
      if (holder && await this.tookOverStale(holder)) continue;
      // Someone else leads: wait for the key to go, re-checking now and then in case a
      // watch event was missed while reconnecting.
      await this.sleep(this.ttlSeconds * 1000);
    }
  }

  /** Whether `holder` had no live lease and is gone now (stale-holder.ts); warns once per such key. */
  private async tookOverStale(holder: IKeyValue): Promise<boolean> {
    const { client, key, log } = this.opts;
    const why = await staleHolder(client, holder);
    if (!why) return false;
    if (this.staleWarned !== String(holder.mod_revision)) {
      this.staleWarned = String(holder.mod_revision);
      log?.warn(`election key ${key} is held with ${why}: no controller could ever lead; deleting it and campaigning`, { key, ...describeHolder(holder) });
    }
    try {
      return await removeStaleHolder(client, key, holder);
    } catch (err) {
      log?.warn('cannot delete the stale election key; retrying', { key, error: String(err) });
      return false;
    }
  }

  private async lead(cb: LeaderCallbacks, revision: string, leaseId: string): Promise<void> {
    const { key, log } = this.opts;
    this.termRevision = revision;
    const ended = new Promise<void>((resolve) => { this.endTerm = resolve; });
    log?.info('became leader', { revision, leaseId, ttlSeconds: this.ttlSeconds });
    // The key may have vanished between the txn and the watch being armed.
    this.recheckTerm(revision);
    try {
      await cb.onStartedLeading({ revision, leaseId, guard: createdAt(key, revision), ended });
      await ended;
    } finally {
      this.termRevision = undefined;
      this.endTerm = undefined;
      log?.info('stopped leading', { revision });
      await cb.onStoppedLeading();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() { clearTimeout(t); resolve(); }
      this.wake = done;
    });
  }

  /**
   * Ends the current term from the outside: a guarded write was refused, so whatever the
   * watch says, this process is not the leader any more. It campaigns again.
   */
  endCurrentTerm(): void {
    this.endTerm?.();
  }

  /** Stops campaigning; a leader resigns at once (deletes its key) so a standby takes over. */
  async stop(): Promise<void> {
    this.stopped = true;
    const lease = this.lease;
    this.wake?.();
    this.endTerm?.();
    if (lease) await lease.revoke().catch(() => undefined);
  }
}

/**
 * Whether a delete of the election key seen at `deleteRevision` ends the term that began at
 * `termRevision`. A watch that lags (etcd3 re-attached it after a disconnect) can deliver the
 * delete that let this term begin after the campaign already won by its own re-check: that
 * delete is older than the term and must not end it (every write is guarded anyway; this only
 * spares a needless change of leader).
 */
export function deleteEndsTerm(deleteRevision: string | number, termRevision: string | undefined): boolean {
  return termRevision === undefined || Number(deleteRevision) > Number(termRevision);
}

/**
 * Whether a put of the election key ends the term that began at `termRevision`: another
 * holder's key written after the term began. A lagging watch (re-attached after a disconnect)
 * replays puts from before the term too, e.g. of a holder that took the key and lost it while
 * this process was cut off; such a put says nothing of this term (as for deleteEndsTerm).
 */
export function putEndsTerm(modRevision: string | number, createRevision: string | number, termRevision: string | undefined): boolean {
  return termRevision !== undefined && String(createRevision) !== termRevision && Number(modRevision) > Number(termRevision);
}
