// etcd's per-request limits and the one way xnet measures a transaction against them. A stock
// etcd refuses a transaction with more than --max-txn-ops (128) compares, success ops or
// failure ops ("too many operations in txn request"), and a request larger than
// --max-request-bytes (1.5 MiB: "request is too large"). Every writer that batches (the
// controller's TxnPlan, the store's apply and delete) packs its transactions with TxnBudget.

export interface EtcdLimits {
  /** etcd --max-txn-ops: the most compares, success ops and failure ops, each, per transaction */
  maxTxnOps: number;
  /** etcd --max-request-bytes: the largest request, encoded */
  maxRequestBytes: number;
}

/** What an etcd started without flags enforces. */
export const ETCD_DEFAULT_LIMITS: Readonly<EtcdLimits> = Object.freeze({ maxTxnOps: 128, maxRequestBytes: 1536 * 1024 });

/** Raised limits, for the benchmarks and tests that measure what raising them buys. */
export const ETCD_RAISED_LIMITS: Readonly<EtcdLimits> = Object.freeze({ maxTxnOps: 20000, maxRequestBytes: 32 * 1024 * 1024 });

/** The etcd flags that set `limits` (none for the defaults). */
export function etcdLimitFlags(limits: EtcdLimits): string[] {
  const flags: string[] = [];
  if (limits.maxTxnOps !== ETCD_DEFAULT_LIMITS.maxTxnOps) flags.push('--max-txn-ops', String(limits.maxTxnOps));
  if (limits.maxRequestBytes !== ETCD_DEFAULT_LIMITS.maxRequestBytes) flags.push('--max-request-bytes', String(limits.maxRequestBytes));
  return flags;
}

/**
 * Per-entry framing of the protobuf encoding (field tags, lengths, the op's oneof wrapper,
 * compare target and result), rounded up, plus room for the request's own header: the
 * estimate only has to stay above the real size, never below.
 */
const ENTRY_OVERHEAD = 32;
export const REQUEST_BYTES_BASE = 4096;

/** Estimated encoded size of one compare or op on `key` (with a value or range end). */
export function entryBytes(key: string | Buffer, extra?: string | Buffer): number {
  return ENTRY_OVERHEAD + len(key) + (extra ? len(extra) : 0);
}

/** A transaction being packed: counts compares, success ops, failure ops and bytes. */
export class TxnBudget {
  compares = 0;
  ops = 0;
  failureOps = 0;
  bytes = REQUEST_BYTES_BASE;

  constructor(readonly limits: EtcdLimits = ETCD_DEFAULT_LIMITS) {}

  /** A compare on `key` (and `rangeEnd` for a ranged one). */
  compare(key: string | Buffer, rangeEnd?: string | Buffer): this {
    this.compares++;
    this.bytes += entryBytes(key, rangeEnd);
    return this;
  }

  /** A put, a delete or a read in the success branch. */
  op(key: string | Buffer, value?: string | Buffer): this {
    this.ops++;
    this.bytes += entryBytes(key, value);
    return this;
  }

  /** A read in the failure branch. */
  failureOp(key: string | Buffer, rangeEnd?: string | Buffer): this {
    this.failureOps++;
    this.bytes += entryBytes(key, rangeEnd);
    return this;
  }

  /** Adds what `other` counted (its request base aside): two parts of one transaction. */
  add(other: TxnBudget): this {
    this.compares += other.compares;
    this.ops += other.ops;
    this.failureOps += other.failureOps;
    this.bytes += other.bytes - REQUEST_BYTES_BASE;
    return this;
  }

  clone(): TxnBudget {
    return new TxnBudget(this.limits).add(this);
  }

  fits(): boolean {
    const { maxTxnOps, maxRequestBytes } = this.limits;
    return this.compares <= maxTxnOps && this.ops <= maxTxnOps && this.failureOps <= maxTxnOps && this.bytes <= maxRequestBytes;
  }

  /** What is over the limit, for an error message ("129 ops > 128"). */
  excess(): string | undefined {
    const { maxTxnOps, maxRequestBytes } = this.limits;
    const over: string[] = [];
    const n = Math.max(this.compares, this.ops, this.failureOps);
    if (n > maxTxnOps) over.push(`${n} operations > --max-txn-ops ${maxTxnOps}`);
    if (this.bytes > maxRequestBytes) over.push(`about ${this.bytes} bytes > --max-request-bytes ${maxRequestBytes}`);
    return over.length ? over.join(', ') : undefined;
  }
}

function len(s: string | Buffer): number {
  return typeof s === 'string' ? Buffer.byteLength(s) : s.length;
}
