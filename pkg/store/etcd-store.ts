// Store over etcd. Objects, controller status and per-node status are separate keys
// (docs/design.md); this file is the only place that knows how they are combined.
import { randomUUID } from 'node:crypto';
import type { Etcd3, IKeyValue, IRequestOp, ICompare, Lease } from 'etcd3';
import { kindInfo, matchLabels, type AnyObject, type Kind } from '../api/index.js';
import { Keys, DEFAULT_PREFIX } from './keys.js';
import { rangePrefix } from '../etcd/range.js';
import { boundNode, withStatus } from './merge.js';
import { startWatch } from './watch.js';
import { ValidationError } from '../errors.js';
import { STORE_TXN_RETRY, mayRetry } from '../runtime/backoff.js';
import {
  AlreadyExistsError, ConflictError, NotFoundError,
  type ApplyChange, type ListOptions, type ListResult, type Store, type StatusWriter, type WatchEvent,
} from './types.js';

type Stored = Omit<AnyObject, 'status'>;
type Status = Record<string, unknown>;

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
      r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  const out = r.data as Stored;
  delete (out.metadata as { resourceVersion?: string }).resourceVersion;
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export function decodeObject(kv: IKeyValue): AnyObject {
  const o = JSON.parse(kv.value.toString()) as AnyObject;
  o.metadata.resourceVersion = String(kv.mod_revision);
  return o;
}

/** One kind at one revision, before merging: the watch keeps these up to date itself. */
export interface KindState {
  objects: Map<string, AnyObject>;
  controllerStatus: Map<string, Status>;
  /** object name -> node -> that node's status */
  nodeStatus: Map<string, Map<string, Status>>;
  revision: number;
}

export function mergedItems(s: KindState): AnyObject[] {
  return [...s.objects.values()].map((o) => withStatus(o, s.controllerStatus.get(o.metadata.name), s.nodeStatus.get(o.metadata.name) ?? new Map()));
}

export class EtcdStore implements Store {
  readonly keys: Keys;

  constructor(readonly client: Etcd3, prefix = DEFAULT_PREFIX) {
    this.keys = new Keys(prefix);
  }

  async revision(): Promise<number> {
    const r = await this.client.kv.range({ key: Buffer.from(this.keys.prefix + '/'), limit: 1, count_only: true });
    return Number(r.header.revision);
  }

  private range(prefix: string, revision?: number) {
    return rangePrefix(this.client, prefix, { revision });
  }

  /** Objects, controller status and node status of a kind, all read at one revision. */
  async readKind(kind: Kind, revision?: number): Promise<KindState> {
    const objs = await this.range(this.keys.objects(kind), revision);
    const at = revision ?? Number(objs.revision);
    const [ctrl, nodes] = await Promise.all([
      this.range(this.keys.controllerStatuses(kind), at),
      this.range(this.keys.nodeStatuses(), at),
    ]);
    const s: KindState = { objects: new Map(), controllerStatus: new Map(), nodeStatus: new Map(), revision: at };
    for (const kv of objs.kvs) { const o = decodeObject(kv); s.objects.set(o.metadata.name, o); }
    for (const kv of [...ctrl.kvs, ...nodes.kvs]) this.applyStatus(s, kind, kv, false);
    return s;
  }

  /**
   * Files a status key's put (or delete) into the state; returns the object name it belongs
   * to, or undefined when the key is not a status of this kind.
   */
  applyStatus(s: KindState, kind: Kind, kv: IKeyValue, deleted: boolean): string | undefined {
    const p = this.keys.parseStatusKey(kv.key.toString());
    if (!p || p.kind !== kind) return undefined;
    if ('controller' in p.writer) {
      if (deleted) s.controllerStatus.delete(p.name); else s.controllerStatus.set(p.name, JSON.parse(kv.value.toString()));
    } else {
      let byNode = s.nodeStatus.get(p.name);
      if (!byNode) s.nodeStatus.set(p.name, byNode = new Map());
      if (deleted) byNode.delete(p.writer.node); else byNode.set(p.writer.node, JSON.parse(kv.value.toString()));
    }
    return p.name;
  }

  /** Reads a kind with all its status at one revision. */
  async snapshot(kind: Kind, revision?: number): Promise<ListResult> {
    const s = await this.readKind(kind, revision);
    return { items: mergedItems(s), revision: s.revision };
  }

  async get(kind: Kind, name: string): Promise<AnyObject | undefined> {
    const obj = await this.client.kv.range({ key: Buffer.from(this.keys.object(kind, name)) });
    if (obj.kvs.length === 0) return undefined;
    const o = decodeObject(obj.kvs[0]);
    const rev = Number(obj.header.revision);
    const ctrl = await this.client.kv.range({ key: Buffer.from(this.keys.status(kind, name, { controller: true })), revision: rev });
    const node = boundNode(o);
    const nodeStatus = new Map<string, Status>();
    if (node) {
      const ns = await this.client.kv.range({ key: Buffer.from(this.keys.status(kind, name, { node })), revision: rev });
      if (ns.kvs[0]) nodeStatus.set(node, JSON.parse(ns.kvs[0].value.toString()));
    }
    return withStatus(o, ctrl.kvs[0] ? JSON.parse(ctrl.kvs[0].value.toString()) : undefined, nodeStatus);
  }

  async list(kind: Kind, opts: ListOptions = {}): Promise<ListResult> {
    const r = await this.snapshot(kind);
    const sel = opts.labelSelector;
    if (!sel) return r;
    return { ...r, items: r.items.filter((o) => matchLabels(sel, o.metadata.labels)) };
  }

  async create(obj: AnyObject): Promise<AnyObject> {
    const [change] = await this.commit([obj], { mode: 'create' });
    return change.object;
  }

  async update(obj: AnyObject): Promise<AnyObject> {
    const [change] = await this.commit([obj], { mode: 'update' });
    return change.object;
  }

  async applyAll(objs: AnyObject[], opts: { dryRun?: boolean } = {}): Promise<ApplyChange[]> {
    return this.commit(objs, { mode: 'apply', dryRun: opts.dryRun });
  }

  /**
   * Plans every write against what is stored, then commits them in one transaction whose
   * compares pin each key to the revision the plan saw. A concurrent writer makes the
   * transaction fail as a whole; we re-plan (apply) or report a conflict (update).
   */
  private async commit(objs: AnyObject[], opts: { mode: 'create' | 'update' | 'apply'; dryRun?: boolean }): Promise<ApplyChange[]> {
    const seen = new Set<string>();
    for (const o of objs) {
      const id = `${o.kind}/${o.metadata?.name}`;
      if (seen.has(id)) throw new ValidationError('Duplicate', `${id} appears twice in one request`);
      seen.add(id);
    }
    const normalized = objs.map((o) => ({ wanted: normalize(o), rv: o.metadata.resourceVersion }));
    for (let attempt = 0; ; attempt++) {
      const keys = normalized.map(({ wanted }) => this.keys.object(wanted.kind, wanted.metadata.name));
      const current = await Promise.all(keys.map((k) => this.client.kv.range({ key: Buffer.from(k) })));
      const compares: ICompare[] = [];
      const ops: IRequestOp[] = [];
      const changes: ApplyChange[] = [];
      const deletes: { kind: Kind; name: string }[] = [];
      normalized.forEach(({ wanted, rv }, i) => {
        const kv = current[i].kvs[0];
        const key = Buffer.from(keys[i]);
        const { kind, metadata: { name } } = wanted;
        if (!kv) {
          if (opts.mode === 'update') throw new NotFoundError(kind, name);
          const created = {
            ...wanted,
            metadata: {
              ...wanted.metadata,
              uid: randomUUID(),
              generation: 1,
              creationTimestamp: new Date().toISOString(),
            },
          } as Stored;
          // finalizers belong to controllers: only create (a program) may set them up front
          if (opts.mode !== 'create' || !created.metadata.finalizers?.length) delete created.metadata.finalizers;
          delete created.metadata.deletionTimestamp;
          compares.push({ key, target: 'Create', result: 'Equal', create_revision: 0 });
          ops.push({ request_put: { key, value: Buffer.from(JSON.stringify(created)) } });
          changes.push({ action: 'created', object: created as AnyObject });
          return;
        }
        if (opts.mode === 'create') throw new AlreadyExistsError(kind, name);
        const old = decodeObject(kv);
        if (rv !== undefined && rv !== old.metadata.resourceVersion) {
          throw new ConflictError(kind, name, `resourceVersion ${rv} is stale (stored: ${old.metadata.resourceVersion})`);
        }
        if (old.metadata.deletionTimestamp && opts.mode === 'apply') {
          throw new ConflictError(kind, name, 'it is being deleted');
        }
        const next = {
          ...old,
          spec: wanted.spec,
          metadata: {
            ...old.metadata,
            labels: wanted.metadata.labels,
            annotations: wanted.metadata.annotations,
            // apply leaves system-managed finalizers alone; update (controllers) sets them
            finalizers: opts.mode === 'update' ? wanted.metadata.finalizers : old.metadata.finalizers,
          },
        } as Stored;
        for (const k of ['labels', 'annotations', 'finalizers'] as const) {
          if (next.metadata[k] === undefined || (k === 'finalizers' && next.metadata.finalizers?.length === 0)) delete next.metadata[k];
        }
        delete (next.metadata as { resourceVersion?: string }).resourceVersion;
        if (!same(old.spec, next.spec)) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
        const oldStored = { ...old, metadata: { ...old.metadata } };
        delete (oldStored.metadata as { resourceVersion?: string }).resourceVersion;
        if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) {
          compares.push({ key, target: 'Mod', result: 'Equal', mod_revision: kv.mod_revision });
          ops.push(...this.deleteOps(kind, name));
          deletes.push({ kind, name });
          changes.push({ action: 'configured', object: next as AnyObject });
          return;
        }
        if (same(oldStored, next)) {
          changes.push({ action: 'unchanged', object: old });
          return;
        }
        compares.push({ key, target: 'Mod', result: 'Equal', mod_revision: kv.mod_revision });
        ops.push({ request_put: { key, value: Buffer.from(JSON.stringify(next)) } });
        changes.push({ action: 'configured', object: next as AnyObject });
      });
      if (opts.dryRun || ops.length === 0) return changes;
      if (deletes.length) ops.push(...(await this.nodeStatusDeleteOps(deletes)));
      const res = await this.client.kv.txn({ compare: compares, success: ops, failure: [] });
      if (res.succeeded) {
        const rev = String(res.header.revision);
        for (const c of changes) if (c.action !== 'unchanged') c.object.metadata.resourceVersion = rev;
        return changes;
      }
      if (opts.mode !== 'apply' || !mayRetry(attempt + 1, STORE_TXN_RETRY)) {
        const { kind, metadata: { name } } = normalized[0].wanted;
        throw new ConflictError(kind, name, 'the object was modified concurrently');
      }
    }
  }

  private deleteOps(kind: Kind, name: string): IRequestOp[] {
    return [
      { request_delete_range: { key: Buffer.from(this.keys.object(kind, name)) } },
      { request_delete_range: { key: Buffer.from(this.keys.status(kind, name, { controller: true })) } },
    ];
  }

  /** Per-node status keys of objects being removed, so nothing is left behind. */
  private async nodeStatusDeleteOps(objs: { kind: Kind; name: string }[]): Promise<IRequestOp[]> {
    const all = await this.range(this.keys.nodeStatuses());
    const want = new Set(objs.map((o) => `${o.kind}/${o.name}`));
    return all.kvs
      .filter((kv) => { const p = this.keys.parseStatusKey(kv.key.toString()); return p && want.has(`${p.kind}/${p.name}`); })
      .map((kv) => ({ request_delete_range: { key: kv.key } }));
  }

  async delete(kind: Kind, name: string, opts: { resourceVersion?: string } = {}): Promise<boolean> {
    for (let attempt = 0; mayRetry(attempt, STORE_TXN_RETRY); attempt++) {
      const key = Buffer.from(this.keys.object(kind, name));
      const cur = await this.client.kv.range({ key });
      const kv = cur.kvs[0];
      if (!kv) return false;
      if (opts.resourceVersion && opts.resourceVersion !== String(kv.mod_revision)) {
        throw new ConflictError(kind, name, `resourceVersion ${opts.resourceVersion} is stale (stored: ${kv.mod_revision})`);
      }
      const obj = decodeObject(kv);
      const compare: ICompare[] = [{ key, target: 'Mod', result: 'Equal', mod_revision: kv.mod_revision }];
      let ops: IRequestOp[];
      if (obj.metadata.finalizers?.length) {
        if (obj.metadata.deletionTimestamp) return true;
        const marked = { ...obj, metadata: { ...obj.metadata, deletionTimestamp: new Date().toISOString() } };
        delete (marked.metadata as { resourceVersion?: string }).resourceVersion;
        ops = [{ request_put: { key, value: Buffer.from(JSON.stringify(marked)) } }];
      } else {
        ops = [...this.deleteOps(kind, name), ...(await this.nodeStatusDeleteOps([{ kind, name }]))];
      }
      const res = await this.client.kv.txn({ compare, success: ops, failure: [] });
      if (res.succeeded) return true;
    }
    throw new ConflictError(kind, name, 'the object kept changing while it was being deleted');
  }

  /** Status is written only while the object exists, so a late agent cannot resurrect garbage. */
  async writeStatus(kind: Kind, name: string, writer: StatusWriter, status: Status, opts: { lease?: Lease } = {}): Promise<void> {
    const objKey = Buffer.from(this.keys.object(kind, name));
    const key = Buffer.from(this.keys.status(kind, name, writer));
    const put: IRequestOp = { request_put: { key, value: Buffer.from(JSON.stringify(status)), ...(opts.lease ? { lease: await opts.lease.grant() } : {}) } };
    const res = await this.client.kv.txn({ compare: [{ key: objKey, target: 'Create', result: 'Greater', create_revision: 0 }], success: [put], failure: [] });
    if (!res.succeeded) throw new NotFoundError(kind, name);
  }

  async deleteStatus(kind: Kind, name: string, writer: StatusWriter): Promise<void> {
    await this.client.kv.deleteRange({ key: Buffer.from(this.keys.status(kind, name, writer)) });
  }

  async watch(kind: Kind, fromRevision: number, handlers: {
    onEvent: (e: WatchEvent) => void;
    onRelist?: (list: ListResult) => void;
    onError?: (err: Error) => void;
  }): Promise<{ close(): Promise<void> }> {
    return startWatch(this, kind, fromRevision, handlers);
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

export function createEtcdStore(client: Etcd3, prefix = DEFAULT_PREFIX): EtcdStore {
  return new EtcdStore(client, prefix);
}
