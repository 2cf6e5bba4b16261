// One guarded etcd transaction under construction. Every write the controller makes goes
// through here: the leader guard comes first, every put/delete carries the compare that makes
// it safe (absent for claims, mod_revision for statuses, create_revision for owners). The
// failure branch reads the leader key only; a refused transaction is followed by one read of
// every compared key, so a retry plans from fresh data. (Reading them in the failure branch
// itself sent and logged a third more ops with every transaction, almost all of which commit.)
import type { Etcd3, ICompare, IRequestOp } from 'etcd3';
import { isResponseTooLarge } from '../etcd/client.js';
import { MAX_TXN_OPS, deleteOp, rangeAbsent, rawKv, type RawKv } from '../runtime/kv.js';
import type { KvCache } from '../runtime/kv-cache.js';
import { ETCD_DEFAULT_LIMITS, REQUEST_BYTES_BASE, entryBytes } from '../etcd/limits.js';
import { ControllerError } from '../errors.js';

export class NotLeaderError extends ControllerError {
  constructor() { super('NotLeader', 'this controller is no longer the leader; its writes are refused'); }
}

/**
 * A planner bug: etcd refuses a transaction in which a put meets another op on its key
 * ("duplicate key given in txn request"), and with it every batch-mate planned into it. Thrown
 * while planning instead, it rejects only the item whose planner wrote the key twice.
 */
export class DuplicateKeyError extends ControllerError {
  constructor(key: string) { super('DuplicateKey', `transaction plan writes ${key} twice; etcd refuses a key in a put and another op of one transaction`); }
}

/**
 * However high etcd's --max-txn-ops is set, one transaction stays at or below this: a refused
 * one is followed by a read of every compared key, and that response must stay under gRPC's 4 MiB.
 */
export const MAX_PLAN_OPS = 1024;

interface Mark { c: number; o: number; r: number; p: number; d: number; b: number }

export class TxnPlan {
  private readonly compares: ICompare[] = [];
  private readonly ops: IRequestOp[] = [];
  private readonly reads: Array<{ key: string; end?: string }> = [];
  private readonly puts: Array<{ key: string; value: string; parsed?: unknown }> = [];
  private readonly dels: string[] = [];
  /** keys put, and keys deleted (with how often: etcd accepts two deletes of one key) */
  private readonly putKeys = new Set<string>();
  private readonly delKeys = new Map<string, number>();
  private readonly compared = new Map<string, ICompare>();
  /** the id of each compare after the guard, in order (what a rollback forgets) */
  private readonly compareIds: string[] = [];

  private readonly maxOps: number;
  /** estimated encoded size: compares, success ops and failure reads together */
  private bytes = REQUEST_BYTES_BASE;
  /** the bytes of the plan before anything was added (the guard and its read) */
  private readonly emptyBytes: number;

  /**
   * `maxBytes`: etcd's --max-request-bytes. The controller keeps the default 1.5 MiB whatever
   * etcd allows: at 1,024 ops of a few hundred bytes each, bytes are never what binds.
   */
  constructor(private readonly guard: ICompare, leaderKey: string, maxOps = MAX_TXN_OPS,
    private readonly maxBytes = ETCD_DEFAULT_LIMITS.maxRequestBytes) {
    this.maxOps = Math.min(maxOps, MAX_PLAN_OPS);
    this.compares.push(guard);
    this.reads.push({ key: leaderKey });
    this.bytes += 2 * entryBytes(leaderKey);
    this.emptyBytes = this.bytes;
  }

  /** What the plan holds so far, against etcd's limits (test/unit/etcd-limits.test.ts). */
  get size(): { compares: number; ops: number; bytes: number } { return { compares: this.compares.length, ops: this.ops.length, bytes: this.bytes }; }

  mark(): Mark {
    return { c: this.compares.length, o: this.ops.length, r: this.reads.length, p: this.puts.length, d: this.dels.length, b: this.bytes };
  }

  /** Undoes everything added since `m` (an item that did not fit). */
  rollback(m: Mark): void {
    this.compares.splice(m.c);
    for (const id of this.compareIds.splice(m.c - 1)) this.compared.delete(id);
    this.ops.splice(m.o); this.reads.splice(m.r);
    for (const p of this.puts.splice(m.p)) this.putKeys.delete(p.key);
    for (const d of this.dels.splice(m.d)) {
      const n = this.delKeys.get(d)! - 1;
      if (n) this.delKeys.set(d, n); else this.delKeys.delete(d);
    }
    this.bytes = m.b;
  }

  /** Whether the plan still fits etcd's --max-txn-ops and --max-request-bytes. */
  fits(): boolean {
    return this.compares.length <= this.maxOps && this.ops.length <= this.maxOps && this.reads.length <= this.maxOps
      && this.bytes <= this.maxBytes;
  }

  /**
   * Whether what was added since `m` would fit a transaction of its own (the leader guard and
   * its read besides, and `reserveBytes` more): what does not can never commit, however it is batched.
   */
  fitsAloneSince(m: Mark, reserveBytes = 0): boolean {
    const c = this.compares.length - m.c + 1;
    return c <= this.maxOps && this.reads.length - m.r + 1 <= this.maxOps && this.ops.length - m.o <= this.maxOps
      && this.bytes - m.b + this.emptyBytes + reserveBytes <= this.maxBytes;
  }

  /**
   * Whether the plan fits with room left for `reserve` more: a planner that adds a part per
   * node keeps room for the status it writes last, and stops adding parts when there is none.
   */
  fitsWith(reserve: { compares?: number; ops?: number; bytes?: number }): boolean {
    const c = reserve.compares ?? 0;
    return this.compares.length + c <= this.maxOps && this.reads.length + c <= this.maxOps
      && this.ops.length + (reserve.ops ?? 0) <= this.maxOps && this.bytes + (reserve.bytes ?? 0) <= this.maxBytes;
  }

  /**
   * The key's (or value's) bytes. A key is usually compared and then put: the string last
   * encoded is encoded once.
   */
  private last = { text: '', bytes: Buffer.alloc(0) };
  private bytesOf(text: string): Buffer {
    if (text !== this.last.text) this.last = { text, bytes: Buffer.from(text) };
    return this.last.bytes;
  }

  private lastValue = { text: '', bytes: Buffer.alloc(0) };
  private valueBytes(text: string): Buffer {
    if (text !== this.lastValue.text) this.lastValue = { text, bytes: Buffer.from(text) };
    return this.lastValue.bytes;
  }

  private compare(c: ICompare, read: { key: string; end?: string }): void {
    // the expected value is part of the identity: a key compared at two revisions (one item
    // planned from a round state older than another's cache read) must fail, not pass with one
    const id = idOf(read.key, read.end ?? '', String(c.target), String(c.target === 'Mod' ? c.mod_revision : c.create_revision));
    if (this.compared.has(id)) return;
    this.compared.set(id, c);
    this.compareIds.push(id);
    this.compares.push(c);
    this.reads.push(read);
    // the compare, and the read of the same key after a refusal (the same size, one request later)
    this.bytes += entryBytes(read.key, read.end) * 2;
  }

  /** The key must not exist. */
  absent(key: string): this {
    this.compare({ key: this.bytesOf(key), target: 'Create', result: 'Equal', create_revision: 0 }, { key });
    return this;
  }

  /** No key in [from, to) may exist. */
  rangeAbsent(from: string, to: string): this {
    this.compare(rangeAbsent(from, to), { key: from, end: to });
    return this;
  }

  /** The key must be exactly as cached (or absent when kv is undefined). */
  unchanged(key: string, kv: RawKv | undefined): this {
    if (!kv) return this.absent(key);
    return this.modifiedAt(key, kv.modRevision);
  }

  /** The key must have been last written at `modRevision` (e.g. a value the cache refused, to overwrite). */
  modifiedAt(key: string, modRevision: string): this {
    this.compare({ key: this.bytesOf(key), target: 'Mod', result: 'Equal', mod_revision: modRevision }, { key });
    return this;
  }

  /**
   * The key must be the same incarnation (created at the cached revision), whatever its later
   * edits. Implied, and left out, when the plan already pins the key's mod_revision (a
   * re-created key never has an earlier mod_revision again): one compare fewer per NIC.
   */
  sameIncarnation(key: string, kv: RawKv): this {
    if (this.compared.has(idOf(key, '', 'Mod', String(kv.modRevision)))) return this;
    this.compare({ key: this.bytesOf(key), target: 'Create', result: 'Equal', create_revision: kv.createRevision }, { key });
    return this;
  }

  /**
   * `parsed`: what the value string says, when the caller has it as an object (kept with the
   * cached key on commit, so no reader parses the value again). An object value is its own.
   */
  put(key: string, value: unknown, parsed?: unknown): this {
    if (this.putKeys.has(key) || this.delKeys.has(key)) throw new DuplicateKeyError(key);
    this.putKeys.add(key);
    const v = typeof value === 'string' ? value : JSON.stringify(value);
    this.ops.push({ request_put: { key: this.bytesOf(key), value: this.valueBytes(v) } });
    this.puts.push({ key, value: v, parsed: typeof value === 'string' ? parsed : value });
    this.bytes += entryBytes(key, v);
    return this;
  }

  /** set once a commit of this plan was refused or failed: nothing it planned was written by it */
  private unapplied = false;

  /** Whether this plan's commit was refused or failed (a round state must not count on what it planned). */
  get failed(): boolean { return this.unapplied; }

  /** Whether this plan already puts `key` (a second put of it would be refused). */
  writes(key: string): boolean {
    return this.putKeys.has(key);
  }

  /** Whether this plan deletes `key`. */
  deletes(key: string): boolean {
    return this.delKeys.has(key);
  }

  del(key: string): this {
    if (this.putKeys.has(key)) throw new DuplicateKeyError(key);
    this.delKeys.set(key, (this.delKeys.get(key) ?? 0) + 1);
    this.ops.push(deleteOp(key));
    this.dels.push(key);
    this.bytes += entryBytes(key);
    return this;
  }

  /**
   * Commits. true: applied, and the cache already shows it. false: a compare failed; the
   * compared keys were read back into the cache. NotLeaderError: the term is over.
   */
  async commit(client: Etcd3, cache: KvCache): Promise<boolean> {
    if (this.ops.length === 0) return true;
    try {
      const applied = await this.send(client, cache);
      this.unapplied = !applied;
      return applied;
    } catch (err) {
      this.unapplied = true;
      throw err;
    }
  }

  private async send(client: Etcd3, cache: KvCache): Promise<boolean> {
    const failure: IRequestOp[] = [readOp(this.reads[0])];
    const res = await client.kv.txn({ compare: this.compares, success: this.ops, failure });
    const rev = String(res.header.revision);
    if (res.succeeded) {
      for (const p of this.puts) cache.applyLocalPut(p.key, p.value, rev, undefined, '0', p.parsed);
      for (const d of this.dels) cache.applyLocalDelete(d, rev);
      return true;
    }
    const leader = res.responses[0]?.response_range?.kvs?.[0];
    if (!leader || String(leader.create_revision) !== String(this.guard.create_revision)) throw new NotLeaderError();
    await this.readBack(client, cache);
    return false;
  }

  /**
   * Reads every compared key into the cache after a refusal, in one read-only transaction (one
   * revision). Values newer than the refusal are as good: the retry plans from the newest.
   */
  private async readBack(client: Etcd3, cache: KvCache): Promise<void> {
    let res;
    try {
      res = await client.kv.txn({ compare: [], success: this.reads.map(readOp), failure: [] });
    } catch (err) {
      // Values too large for the client together (a node's own keys, up to 1.5 MiB each, that
      // a plan compared): the watch brings the same news a moment later, so the refusal stands
      // without the read-back rather than failing the plan's whole batch.
      if (isResponseTooLarge(err)) return;
      throw err;
    }
    const rev = String(res.header.revision);
    this.reads.forEach((r, i) => {
      const kvs = (res.responses[i]?.response_range?.kvs ?? []).map(rawKv);
      if (r.end) {
        const present = new Set(kvs.map((k) => k.key));
        for (const kv of kvs) cache.applyRead(kv.key, kv, rev);
        // only the directory that holds the range is looked at, not every cached key: a pool's
        // address space, where a copy of the whole cache (100,000 keys) once was made per range
        const gone: string[] = [];
        for (const cached of cache.entries(dirOfRange(r.key, r.end))) {
          if (cached.key >= r.key && cached.key < r.end && !present.has(cached.key)) gone.push(cached.key);
        }
        for (const key of gone) cache.applyRead(key, undefined, rev);
      } else {
        cache.applyRead(r.key, kvs[0], rev);
      }
    });
  }
}

/** The directory (up to and with a '/') under which every key in [from, end) lies. */
export function dirOfRange(from: string, end: string): string {
  let i = 0;
  while (i < from.length && i < end.length && from[i] === end[i]) i++;
  return from.slice(0, from.lastIndexOf('/', i - 1) + 1);
}

function readOp(r: { key: string; end?: string }): IRequestOp {
  return { request_range: { key: Buffer.from(r.key), ...(r.end ? { range_end: Buffer.from(r.end) } : {}) } };
}

function idOf(key: string, end: string, target: string, expected: string): string {
  return `${key}|${end}|${target}|${expected}`;
}

