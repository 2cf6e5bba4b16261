// Store over etcd. Objects, controller status and per-node status are separate keys
// (docs/design.md); this file is the only place that knows how they are combined.
import type { Etcd3, IKeyValue, IRequestOp } from 'etcd3';
import { API_VERSION, kindInfo, selectorMatches, type AnyObject, type Kind, type Status } from '../api/index.js';
import { name as nameSchema } from '../api/fields.js';
import { formatIssuePath } from '../api/field-path.js';
import { EtcdNodeLease } from './node-lease.js';
import { Keys, DEFAULT_PREFIX, INDEXED_KINDS, indexNode } from './keys.js';
import { readMacvlanKindParts } from './macvlan-read.js';
import { rangePrefix } from '../etcd/range.js';
import { startWatch, type WatchHandlers } from './watch.js';
import { NodeView } from './node-view.js';
import { decodeStatus, orSkip, storedObject } from './decode.js';
import { emptyKindState, fileKey, mergedItems, skippedKeys, type KindState } from './kind-state.js';
import { stderrLogger, type Logger } from '../log-line.js';
import { ValidationError } from '../errors.js';
import { STORE_TXN_RETRY } from '../runtime/backoff.js';
import { ETCD_DEFAULT_LIMITS, type EtcdLimits } from '../etcd/limits.js';
import { planDelete, planWrite, type Current, type ObjectRef, type PlanOptions, type Stored, type WriteMode, type WriteStep } from './write-plan.js';
import { writeSteps } from './txn-writer.js';
import { dryRunResults } from './dry-run.js';
import { heldToFirstRead, keepOwnOutcomes, ownDeleteOutcome, replanApply, type OnStored } from './own-writes.js';
import { removeOrphanedNodeStatuses } from './status-cleanup.js';
import { HeldGuard } from './delete-guard.js';
import { decodeObjectKeys, readObjectKeys } from './read-objects.js';
import { readNamedObjects } from './read-named.js';
import {
  ConflictError, NotFoundError, StoreError,
  type ApplyChange, type ApplyOptions, type DeleteOptions, type DeleteResult, type ReadResult, type ListOptions, type ListResult, type NodeLease, type NodeWatch, type Store, type StatusWriter,
} from './types.js';

const conflictOf = (s: { ref: ObjectRef }) => new ConflictError(s.ref.kind, s.ref.name, 'the object kept changing while it was being deleted');

export class InvalidObjectError extends ValidationError {
  constructor(readonly kind: string, readonly objectName: string, readonly issues: { path: string; message: string }[]) {
    super("Invalid", `${kind} "${objectName}" is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

/** Validates and fills defaults with the kind's schema; status is never stored with the object. */
export function normalize(obj: AnyObject): Stored {
  const info = kindInfo(obj.kind);
  const { status: _ignored, ...rest } = obj as AnyObject & { status?: unknown };
  const r = info.schema.safeParse(rest);
  if (!r.success) {
    throw new InvalidObjectError(obj.kind, obj.metadata?.name ?? '?',
      r.error.issues.map((i) => ({ path: formatIssuePath(i.path, '(object)'), message: i.message })));
  }
  const out = r.data as Stored;
  delete (out.metadata as { resourceVersion?: string }).resourceVersion;
  return out;
}

/** Which status parts a read of a kind takes (ListOptions). */
type StatusParts = Pick<ListOptions, 'withoutStatus' | 'controllerStatusOnly'>;
interface Wanted { ref: ObjectRef; wanted: Stored; rv?: string }
const refId = (r: ObjectRef) => `${r.kind}/${r.name}`;

function rejectDuplicates(refs: ObjectRef[]): void {
  const seen = new Set<string>();
  for (const r of refs) {
    const id = refId(r);
    if (seen.has(id)) throw new ValidationError('Duplicate', `${id} appears twice in one request`);
    seen.add(id);
  }
}

/** Every object checked (duplicates, schema) before anything is read or written. */
function normalizeBatch(objs: AnyObject[]): Wanted[] {
  rejectDuplicates(objs.map((o) => ({ kind: o.kind, name: o.metadata?.name })));
  return objs.map((o) => {
    const wanted = normalize(o);
    return { ref: { kind: wanted.kind, name: wanted.metadata.name }, wanted, rv: o.metadata.resourceVersion };
  });
}

export class EtcdStore implements Store {
  readonly keys: Keys;
  /** etcd's request limits, which every transaction this store writes fits: a stock etcd's unless raised */
  limits: EtcdLimits = ETCD_DEFAULT_LIMITS;

  readonly log: Logger;

  constructor(readonly client: Etcd3, prefix = DEFAULT_PREFIX, log?: Logger) {
    this.keys = new Keys(prefix);
    this.log = log ?? stderrLogger('store');
  }

  async revision(): Promise<number> {
    const r = await this.client.kv.range({ key: Buffer.from(this.keys.prefix + '/'), limit: 1, count_only: true });
    return Number(r.header.revision);
  }

  private range(prefix: string, revision?: number) {
    return rangePrefix(this.client, prefix, { revision });
  }

  /** Objects, controller status and node status of a kind (as opts say), all read at one revision. */
  async readKind(kind: Kind, revision?: number, opts: StatusParts = {}): Promise<KindState> {
    const objs = await this.range(this.keys.objects(kind), revision);
    const at = revision ?? Number(objs.revision);
    const none = Promise.resolve({ kvs: [] as IKeyValue[] });
    // an indexed kind's controller statuses are in the nodes' indexes (keys.controllerStatus), a MacvlanNet's partly (macvlan-read.ts)
    const [ctrl, nodes] = await Promise.all([
      opts.withoutStatus ? none : this.range(INDEXED_KINDS.includes(kind) ? this.keys.nodeIndexRoot() : this.keys.controllerStatuses(kind), at),
      opts.withoutStatus || opts.controllerStatusOnly ? none : this.range(this.keys.nodeStatuses(), at),
    ]);
    const s = emptyKindState(at);
    const parts = kind === 'MacvlanNet' ? await readMacvlanKindParts(this.client, this.keys, ctrl.kvs, at, this.limits.maxTxnOps) : [];
    for (const kv of [...objs.kvs, ...ctrl.kvs, ...nodes.kvs, ...parts]) fileKey(s, this.keys, kind, kv.key.toString(), kv.value.toString(), { mod: String(kv.mod_revision), create: String(kv.create_revision) });
    for (const [key, error] of s.skipped) this.log.warn('skipped a key that does not decode', { key, error });
    return s;
  }

  /** Reads a kind with all its status at one revision. */
  async snapshot(kind: Kind, revision?: number, opts: StatusParts = {}): Promise<ListResult> {
    const s = await this.readKind(kind, revision, opts);
    return { items: mergedItems(s), revision: s.revision, skipped: skippedKeys(s) };
  }

  /** The merged object; a key of it that does not decode is left out (and logged). */
  async get(kind: Kind, name: string): Promise<AnyObject | undefined> {
    const r = await this.read(kind, name);
    for (const { key, error } of r.skipped) this.log.warn('skipped a key that does not decode', { key, error });
    return r.object;
  }

  /**
   * One object as `xctl get NAME` and `describe` show it: readNamed of one. No object when its
   * key is absent or does not decode.
   */
  async read(kind: Kind, name: string): Promise<ReadResult> {
    return (await this.readNamed([{ kind, name }])).results[0];
  }

  /** Each object read whole, with every key of it that did not decode, all at one revision (read-named.ts). */
  async readNamed(refs: ObjectRef[]): Promise<{ results: ReadResult[]; revision: number }> {
    return readNamedObjects(this.client, this.keys, refs, this.limits.maxTxnOps);
  }

  async nodeReports(kind: Kind, name: string, nodes: readonly string[]): Promise<Map<string, Status>> {
    // a name with a slash would read a key in no node's own subtree
    const named = [...new Set(nodes)].filter((n) => n && !n.includes('/'));
    const got = await Promise.all(named.map((node) => this.client.kv.range({ key: Buffer.from(this.keys.status(kind, name, { node })) })));
    const out = new Map<string, Status>();
    got.forEach((r, i) => {
      const kv = r.kvs[0];
      const st = kv && orSkip(new Map(), kv.key.toString(), () => decodeStatus(kind, kv.key.toString(), kv.value.toString()));
      if (st) out.set(named[i], st);
    });
    return out;
  }

  async list(kind: Kind, opts: ListOptions = {}): Promise<ListResult> {
    const r = await this.snapshot(kind, undefined, { withoutStatus: opts.withoutStatus, controllerStatusOnly: opts.controllerStatusOnly });
    const sel = opts.labelSelector;
    if (!sel) return r;
    return { ...r, items: r.items.filter((o) => selectorMatches(sel, o.metadata.labels)) };
  }

  async create(obj: AnyObject): Promise<AnyObject> {
    const [change] = await this.commit([obj], { mode: 'create' });
    return change.object;
  }

  async update(obj: AnyObject): Promise<AnyObject> {
    const [change] = await this.commit([obj], { mode: 'update' });
    return change.object;
  }

  async applyAll(objs: AnyObject[], opts: ApplyOptions = {}): Promise<ApplyChange[]> {
    return this.commit(objs, { mode: 'apply', ...opts });
  }

  /**
   * Plans every write against what is stored (all checks before anything is written), then
   * commits: one transaction when the batch fits etcd's limits, else consecutive ones that
   * fit (txn-writer.ts). Compares pin each key to the revision the plan saw; a concurrent
   * writer makes a transaction fail, and we re-plan it (apply) or report a conflict.
   */
  private async commit(objs: AnyObject[], opts: ApplyOptions & { mode: WriteMode }): Promise<ApplyChange[]> {
    const batch = normalizeBatch(objs);
    const byId = new Map(batch.map((b) => [refId(b.ref), b]));
    const plan = (part: Wanted[], onStored?: OnStored) => this.planWrites(part, opts.mode, { labelsAsGiven: opts.labelsAsGiven }, onStored);
    const steps = await plan(batch);
    if (opts.dryRun) return dryRunResults(opts.dryRun === 'plan' ? undefined : this.client, steps, this.limits, opts);
    const written = await writeSteps(this.client, steps, {
      limits: this.limits,
      retry: opts.mode === 'apply' ? STORE_TXN_RETRY : undefined,
      replan: (run, committed) => replanApply(run, (s) => byId.get(refId(s.ref))!, plan, committed),
      conflict: (run, changed) => {
        const s = changed[0] ?? run.find((x) => x.ops.length) ?? run[0];
        return new ConflictError(s.ref.kind, s.ref.name, 'the object was modified concurrently');
      },
      onProgress: opts.onProgress, signal: opts.signal,
    });
    await this.cleanUpNodeStatuses(written.filter((w) => w.step.removes).map((w) => w.step.ref));
    return written.map(({ step, revision }) => {
      if (revision) step.result.object.metadata.resourceVersion = revision;
      return step.result;
    });
  }

  /** `onStored`: what was read, before it is planned from (own-writes.ts) */
  private async planWrites(batch: Wanted[], mode: WriteMode, o: PlanOptions, onStored?: OnStored): Promise<WriteStep<ApplyChange>[]> {
    const current = await this.readCurrent(batch.map((b) => b.ref));
    onStored?.(current.map((c) => c?.obj));
    return batch.map((b, i) => planWrite(this.keys, b.wanted, b.rv, current[i], mode, o));
  }

  /** The stored objects, read in transactions of at most --max-txn-ops ranges each. */
  private async readCurrent(refs: ObjectRef[]): Promise<Array<Current | undefined>> {
    const kvs = await readObjectKeys(this.client, this.keys, refs, this.limits.maxTxnOps);
    return kvs.map((kv, i) => (kv ? { kv, obj: this.storedOrBlank(refs[i], kv) } : undefined));
  }

  async getMany(refs: ObjectRef[]): Promise<Array<AnyObject | undefined>> {
    const read = await this.readMany(refs);
    for (const s of read.flatMap((r) => r.skipped)) this.log.warn('skipped a key that does not decode', { ...s });
    return read.map((r) => r.object);
  }

  async readMany(refs: ObjectRef[]): Promise<ReadResult[]> {
    return decodeObjectKeys(refs, await readObjectKeys(this.client, this.keys, refs, this.limits.maxTxnOps));
  }

  /**
   * A stored object to write over: one that does not decode counts as a blank object of its
   * name (no finalizers, no spec), so an apply repairs it and a delete removes it.
   */
  private storedOrBlank(ref: ObjectRef, kv: IKeyValue): AnyObject {
    const skipped = new Map<string, string>();
    const obj = orSkip(skipped, kv.key.toString(), () => storedObject(ref.kind, ref.name, kv));
    for (const [key, error] of skipped) this.log.warn('overwriting a key that does not decode', { key, error });
    return obj ?? { apiVersion: API_VERSION, kind: ref.kind, metadata: { name: ref.name, resourceVersion: String(kv.mod_revision) }, spec: rawNode(kv) } as AnyObject;
  }

  /**
   * After the objects' own transactions: the node statuses of those that went (or, for a
   * delete, were not found: a delete run again finishes a cleanup that stopped). A failure
   * here fails no delete, which is committed: what is left is garbage the agents and the
   * controller's sweep remove (status-cleanup.ts).
   */
  private async cleanUpNodeStatuses(refs: ObjectRef[]): Promise<void> {
    try {
      const r = await removeOrphanedNodeStatuses(this, refs);
      if (r.left) this.log.warn('node statuses of deleted objects kept changing; left to their agents and the controller', { left: r.left });
    } catch (e) {
      this.log.warn('could not delete the node statuses of deleted objects; left to their agents and the controller', { error: (e as Error).message });
    }
  }

  async delete(kind: Kind, name: string, opts: { resourceVersion?: string } = {}): Promise<boolean> {
    const [result] = await this.deleteAll([{ kind, name, ...opts }]);
    return result !== 'notfound';
  }

  /**
   * Deletes in order, in as few transactions as etcd's limits allow (see commit); with a
   * guard, the transactions that delete its objects are held to the caller's check (delete-guard.ts).
   */
  async deleteAll(refs: Array<ObjectRef & { resourceVersion?: string; uid?: string }>, opts: DeleteOptions = {}): Promise<DeleteResult[]> {
    rejectDuplicates(refs);
    const byId = new Map(refs.map((r) => [refId(r), r]));
    const guard = opts.guard && new HeldGuard(this.keys, opts.guard);
    // planned again (a conflict, a lost answer): the key read first, not one made under its name since
    const firstRead = new Map<string, string>();
    const plan = async (part: Array<ObjectRef & { resourceVersion?: string; uid?: string }>) => {
      const current = heldToFirstRead(part.map(refId), await this.readCurrent(part), firstRead);
      return part.map((r, i) => planDelete(this.keys, r, current[i], r.resourceVersion, r.uid)).map((s) => guard?.hold(s) ?? s);
    };
    const steps = await plan(refs);
    if (opts.dryRun) return dryRunResults(this.client, steps, this.limits, opts);
    const written = await writeSteps(this.client, steps, {
      limits: this.limits, retry: STORE_TXN_RETRY,
      replan: async (run) => {
        await guard?.renewAfter(run);
        return keepOwnOutcomes(run, await plan(run.map((s) => byId.get(refId(s.ref))!)), ownDeleteOutcome);
      },
      conflict: (run, changed) => guard?.conflict(run) ?? conflictOf(changed[0] ?? run.find((x) => x.ops.length) ?? run[0]),
      onProgress: opts.onProgress, signal: opts.signal,
    });
    await this.cleanUpNodeStatuses(written.filter((w) => w.step.result !== 'marked').map((w) => w.step.ref));
    opts.onUids?.(written.map((w) => w.step.uid));
    return written.map((w) => w.step.result);
  }

  /** Status is written only while the object exists, so a late agent cannot resurrect garbage. */
  async writeStatus(kind: Kind, name: string, writer: StatusWriter, status: Status, opts: { lease?: NodeLease } = {}): Promise<void> {
    if ('controller' in writer && INDEXED_KINDS.includes(kind)) return this.writeIndexedStatus(kind, name, status);
    // A node checks an indexed object (its ContainerNics) in its own index: its credentials
    // read no other node's, and a NIC bound elsewhere is not there.
    const key = this.keys.object(kind, name);
    const objKey = Buffer.from('node' in writer && INDEXED_KINDS.includes(kind) ? this.keys.indexed(writer.node, key) : key);
    const put = await this.statusPut(this.keys.status(kind, name, writer), status, opts.lease);
    const res = await this.client.kv.txn({ compare: [{ key: objKey, target: 'Create', result: 'Greater', create_revision: 0 }], success: [put], failure: [] });
    if (!res.succeeded) throw new NotFoundError(kind, name);
  }

  /**
   * The controller's status of an indexed object, in the index of the node it is bound to,
   * pinned to the object's revision (a move to another node makes it retry).
   */
  private async writeIndexedStatus(kind: Kind, name: string, status: Status): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const obj = await this.client.kv.range({ key: Buffer.from(this.keys.object(kind, name)) });
      const kv = obj.kvs[0];
      if (!kv) throw new NotFoundError(kind, name);
      const key = this.keys.controllerStatus(kind, name, indexNode(this.storedOrBlank({ kind, name }, kv)));
      if (!key) throw new ConflictError(kind, name, 'the object is bound to no node, so it has no status');
      const put = { request_put: { key: Buffer.from(key), value: Buffer.from(JSON.stringify(status)) } };
      const res = await this.client.kv.txn({ compare: [{ key: kv.key, target: 'Mod', result: 'Equal', mod_revision: kv.mod_revision }], success: [put], failure: [] });
      if (res.succeeded) return;
    }
    throw new ConflictError(kind, name, 'the object kept changing while its status was written');
  }

  async reportNode(node: string, status: Status, lease: NodeLease): Promise<void> {
    const put = await this.statusPut(this.keys.status('Node', node, { node }), status, lease);
    await this.client.kv.txn({ compare: [], success: [put], failure: [] });
  }

  async nodeReported(node: string): Promise<boolean> {
    return this.hasStatus('Node', node, { node });
  }

  async hasStatus(kind: Kind, name: string, writer: StatusWriter): Promise<boolean> {
    const r = await this.client.kv.range({ key: Buffer.from(this.keys.status(kind, name, writer)), count_only: true });
    return Number(r.count) > 0;
  }

  private async statusPut(key: string, status: Status, lease?: NodeLease): Promise<IRequestOp> {
    const id = lease ? await this.leaseOf(lease).id() : undefined;
    return { request_put: { key: Buffer.from(key), value: Buffer.from(JSON.stringify(status)), ...(id ? { lease: id } : {}) } };
  }

  private leaseOf(lease: NodeLease): EtcdNodeLease {
    if (!(lease instanceof EtcdNodeLease)) throw new StoreError('Invalid', 'a NodeLease of another store');
    return lease;
  }

  nodeLease(node: string, opts: { ttlSeconds: number; onLost?: (err: Error) => void }): NodeLease {
    return new EtcdNodeLease(this.client, node, this.keys.nodeLease(node), opts.ttlSeconds, opts.onLost);
  }

  async deleteStatus(kind: Kind, name: string, writer: StatusWriter): Promise<void> {
    await this.client.kv.deleteRange({ key: Buffer.from(this.keys.status(kind, name, writer)) });
  }

  async watch(kind: Kind, fromRevision: number, handlers: WatchHandlers): Promise<{ close(): Promise<void> }> {
    return startWatch(this.client, this.keys, kind, fromRevision, handlers, this.log);
  }

  nodeView(node: string, onRestart?: () => void): NodeWatch {
    return new NodeView(this.client, this.keys, node, this.log, onRestart);
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

/**
 * The node a value that does not decode is bound to, when it still names one: its copies in
 * that node's index (which the agent may still decode, e.g. one of another version) then go
 * with it, instead of leaving the agent a NIC whose address the controller releases.
 */
function rawNode(kv: IKeyValue): { node?: string } {
  try {
    const node = (JSON.parse(kv.value.toString()) as { spec?: { node?: unknown } } | null)?.spec?.node;
    return nameSchema.safeParse(node).success ? { node: node as string } : {};
  } catch {
    return {};
  }
}

export function createEtcdStore(client: Etcd3, prefix = DEFAULT_PREFIX, log?: Logger): EtcdStore {
  return new EtcdStore(client, prefix, log);
}
