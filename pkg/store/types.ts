// The store's public surface. Implementation: ./etcd-store.ts. Everything etcd-specific
// (keys, revisions, transactions) stays behind this interface.
import { formatPath, type AnyObject, type Kind, type LabelSelector, type Status } from '../api/index.js';
import type { FieldIssue } from '../api/field-issue.js';
import { StoreError, ValidationError, type EtcdPermissionError } from '../errors.js';
import type { NodeConditions } from './merge.js';

export type StatusWriter = { controller: true } | { node: string };

export interface ListOptions {
  /** requirements that metadata.labels must all meet (none: every object) */
  labelSelector?: LabelSelector;
  /** the objects as stored, without reading any status (cheaper: one status per node per object) */
  withoutStatus?: boolean;
  /** the objects with the controller's status alone, no node's report (what the controller decided, as a Node's accepted address) */
  controllerStatusOnly?: boolean;
}

/** A key that was read but did not decode; the rest of a list or watch goes on without it. */
export interface SkippedKey {
  key: string;
  error: string;
}

export interface ListResult<T = AnyObject> {
  items: T[];
  /** etcd revision the list was read at; watch from revision + 1 */
  revision: number;
  /** keys of this kind that did not decode against its schema: left out of items */
  skipped?: SkippedKey[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent<T = AnyObject> {
  type: WatchEventType;
  /** merged object (status included); for DELETED the last known state */
  object: T;
  revision: number;
}

export interface ApplyChange {
  action: 'created' | 'configured' | 'unchanged';
  object: AnyObject;
}

/** How far a write of many objects got (see ./txn-writer.ts). */
export interface WriteProgress {
  /** objects in the request */
  total: number;
  /** objects settled so far: committed, or with nothing to write */
  done: number;
  /** objects whose writes were committed */
  written: number;
  /** transactions committed */
  transactions: number;
  /** transactions the request needs, as planned now */
  planned: number;
}

export interface ApplyOptions {
  /**
   * every check, nothing written; onProgress hears once how many transactions it would take.
   * 'plan': the checks against what is stored, but not etcd's of the identity's permissions
   * (dry-run.ts): what `xctl diff` needs, which a read-only identity may run
   */
  dryRun?: boolean | 'plan';
  /** called before the first transaction and after each one */
  onProgress?: (p: WriteProgress) => void;
  /** aborted (Ctrl-C): no transaction is sent after it (txn-writer.ts, InterruptedError) */
  signal?: AbortSignal;
  /** `xctl label`: the labels written exactly as given; apply keeps the stored labels xnet sets itself (write-plan.ts) */
  labelsAsGiven?: boolean;
}

export type DeleteResult = 'deleted' | 'marked' | 'notfound';

/**
 * A check the caller made of stored objects before a delete (xctl's "network in use"), held
 * until the delete commits: the transaction that deletes or marks any of `refs` also compares
 * that no object of `kinds`, and none of `refs`, was created or changed after `revision` (a key
 * deleted since is not seen). When that transaction fails, `recheck` runs the check again (it
 * throws to refuse the delete) and returns the revision it read at; the transaction is then
 * planned anew, held to that one. Other transactions of a split delete carry no guard.
 */
export interface DeleteGuard {
  /** the revision the check read at (a key it read after that is held to it too: one changed since fails the guard) */
  revision: number;
  kinds: Kind[];
  refs: Array<{ kind: Kind; name: string }>;
  recheck(): Promise<number>;
}

export interface DeleteOptions extends Pick<ApplyOptions, 'onProgress' | 'signal'> {
  guard?: DeleteGuard;
  /** plan against what is stored (the same reads and checks) and write nothing */
  dryRun?: boolean;
  /**
   * given, once the delete is written, the uid of each object it deleted or marked, in the order
   * of the refs (undefined for one not found): the incarnation a wait for its going waits for
   */
  onUids?: (uids: Array<string | undefined>) => void;
}

/**
 * A node agent's liveness: an etcd lease kept alive by the client (the keep-alive is a stream
 * message, it writes no key and wakes no watcher). Keys written with it go when it expires.
 */
export interface NodeLease {
  readonly node: string;
  /** Grants the lease when there is none (first use, or after a loss) and (re)writes the node's liveness key under it. */
  heartbeat(value: Record<string, unknown>): Promise<void>;
  /** Stops the keep-alive without revoking: the keys expire with the TTL (a restart within it shows no change). */
  release(): void;
  /** Ends the lease now: every key written with it is deleted at once. */
  revoke(): Promise<void>;
}

export interface WatchHandlers {
  onEvent: (e: WatchEvent) => void;
  /**
   * The watch started over from a fresh list. `changesSent`: the differences from what it had
   * delivered came as events just before (a relist after a compaction); else (a watch whose
   * start revision was compacted before it began) no event told what changed since then.
   */
  onRelist?: (list: ListResult, changesSent?: boolean) => void;
  onError?: (err: Error) => void;
  /** a key of the kind written during the watch that does not decode (its last good value stays) */
  onSkipped?: (s: SkippedKey) => void;
  /** the key of an object of the kind that never decoded during the watch (no event named it) deleted */
  onUnreadableGone?: (name: string) => void;
  /**
   * etcd refused to make the watch again (permission denied: the identity lost its grants).
   * Without it the watch retries for ever, as a program's informer does; a user's `get -w` ends.
   */
  onRefused?: (err: EtcdPermissionError) => void;
}

/** What an informer lists and watches: the store (every object) or one node's view. */
export interface WatchSource {
  list(kind: Kind): Promise<ListResult>;
  watch(kind: Kind, fromRevision: number, handlers: WatchHandlers): Promise<{ close(): Promise<void> }>;
}

/**
 * What concerns one node, as its agent watches it (./node-view.ts): one cache, every kind's
 * events from it. start() lists and watches (throws when etcd cannot be read; callers retry).
 */
export interface NodeWatch extends WatchSource {
  start(): Promise<void>;
  close(): Promise<void>;
  /** Names of objects of `kind` whose key in the view does not decode (kept at their last good value, if any). */
  unreadable?(kind: Kind): string[];
  /** This node's own status key of the object as the view holds it now (raw JSON), if any. */
  ownStatus?(kind: Kind, name: string): string | undefined;
  /** The names of the objects of `kind` this node has a status key of in the view now. */
  ownReports?(kind: Kind): string[];
  /** Called when one of this node's own status keys changes: its value now, undefined when deleted. */
  onOwnStatus?(fn: (kind: Kind, name: string, value: string | undefined) => void): void;
  /** Called when the key of an object that never decoded in the view (no event named it) is deleted. */
  onUnreadableGone?(fn: (kind: Kind, name: string) => void): void;
}

export interface ReadResult { object?: AnyObject; skipped: SkippedKey[]; hidden?: NodeConditions }

export interface Store {
  get(kind: Kind, name: string): Promise<AnyObject | undefined>;
  /**
   * The objects named, without their status, in the order given, read in one transaction per
   * --max-txn-ops of them rather than one read each; undefined for one that is absent or whose
   * key does not decode (logged).
   */
  getMany(refs: Array<{ kind: Kind; name: string }>): Promise<Array<AnyObject | undefined>>;
  /** getMany, with each object key that does not decode named (`skipped`), so that absent and undecodable differ */
  readMany(refs: Array<{ kind: Kind; name: string }>): Promise<ReadResult[]>;
  /**
   * get, and every key of the object that did not decode (left out of the object), and the
   * bound node's conditions its merged view hides (a deleting object's, under Terminating)
   */
  read(kind: Kind, name: string): Promise<ReadResult>;
  /**
   * read of each object named, in the order given, all at one revision (returned) and in a fixed
   * number of requests however many are named, not a read each
   */
  readNamed(refs: Array<{ kind: Kind; name: string }>): Promise<{ results: ReadResult[]; revision: number }>;
  /**
   * Each listed node's own status of the object, as that node wrote it (untrusted) and the
   * kind's status schema decodes it; a node with none, or whose key does not decode, is left out.
   */
  nodeReports(kind: Kind, name: string, nodes: readonly string[]): Promise<Map<string, Status>>;
  list(kind: Kind, opts?: ListOptions): Promise<ListResult>;
  /** Fails with AlreadyExistsError. Sets uid, generation=1, creationTimestamp. */
  create(obj: AnyObject): Promise<AnyObject>;
  /**
   * Replaces spec/labels/annotations/finalizers. When obj.metadata.resourceVersion is set
   * and stale, and the object would change: ConflictError. generation grows when spec
   * changes. Status is ignored.
   */
  update(obj: AnyObject): Promise<AnyObject>;
  /**
   * kubectl-style apply of many objects. Every object is checked first (invalid: nothing is
   * written). A batch that fits one etcd transaction (etcd's limits on operations and bytes)
   * is written in one, all or nothing; a larger one in order, in consecutive transactions that
   * each fit: a failure after the first throws PartialWriteError (what was written stays; the
   * same apply again converges). Unchanged objects are not written (and their carried
   * resourceVersion is not checked). A carried resourceVersion that is stale is a conflict.
   */
  applyAll(objs: AnyObject[], opts?: ApplyOptions): Promise<ApplyChange[]>;
  /**
   * Deletes. When the object has finalizers, sets deletionTimestamp instead and the object
   * goes when the last finalizer is removed (update with finalizers: []).
   * Returns false when it did not exist.
   */
  delete(kind: Kind, name: string, opts?: { resourceVersion?: string }): Promise<boolean>;
  /**
   * delete of many objects, in transactions as applyAll writes them; one result per ref, in
   * order. With a guard (DeleteGuard), a guarded transaction that keeps failing (STORE_TXN_RETRY's
   * attempts, each after the check ran again) is a ConflictError, and it wrote nothing. A ref
   * with a uid deletes only that incarnation: another one under its name is 'notfound'.
   */
  deleteAll(refs: Array<{ kind: Kind; name: string; resourceVersion?: string; uid?: string }>, opts?: DeleteOptions): Promise<DeleteResult[]>;
  /**
   * Replaces the status written by `writer` for this object (merged view is recomputed).
   * Only while the object exists (NotFoundError otherwise). With a lease, the key goes when
   * the lease expires (agent heartbeats).
   */
  writeStatus(kind: Kind, name: string, writer: StatusWriter, status: Record<string, unknown>, opts?: { lease?: NodeLease }): Promise<void>;
  /**
   * A node's report about itself (address, interface, capabilities, agentVersion, conditions):
   * its own Node status key, written whether or not the Node object exists yet (the controller
   * creates the Node of a node that reported). Bound to the lease: it goes when the agent does.
   */
  reportNode(node: string, status: Record<string, unknown>, lease: NodeLease): Promise<void>;
  /** Whether the node's own report exists: a read (no watch event), refused once the node's access is revoked. */
  nodeReported(node: string): Promise<boolean>;
  /** Whether `writer`'s status key of the object exists (a read, no watch event). */
  hasStatus(kind: Kind, name: string, writer: StatusWriter): Promise<boolean>;
  /** The lease of a node's agent; `onLost` is told when etcd let it expire (keys gone). */
  nodeLease(node: string, opts: { ttlSeconds: number; onLost?: (err: Error) => void }): NodeLease;
  /** Removes the status written by `writer`. */
  deleteStatus(kind: Kind, name: string, writer: StatusWriter): Promise<void>;
  /**
   * Informer primitive: events for `kind` after `fromRevision` (exclusive), merged views.
   * Status writes produce MODIFIED events. Survives reconnects. On any cancel (compaction) it
   * relists, delivers the differences as events and calls onRelist with the fresh list.
   * Keys that do not decode are skipped (logged); no handler exception escapes.
   */
  watch(kind: Kind, fromRevision: number, handlers: WatchHandlers): Promise<{ close(): Promise<void> }>;
  /**
   * What `node`'s agent watches: only the keys that concern that node (docs/design.md).
   * `onRestart` is called when its watch restarts (the agent counts it in a metric).
   */
  nodeView(node: string, onRestart?: () => void): NodeWatch;
  /** The current etcd revision of the store. */
  revision(): Promise<number>;
  close(): Promise<void>;
}

export { StoreError };
export class NotFoundError extends StoreError {
  constructor(readonly kind: Kind, readonly objectName: string) { super("NotFound", `${kind} "${objectName}" not found`); }
}
export class AlreadyExistsError extends StoreError {
  constructor(readonly kind: Kind, readonly objectName: string) { super("AlreadyExists", `${kind} "${objectName}" already exists`); }
}
export class ConflictError extends StoreError {
  constructor(readonly kind: Kind, readonly objectName: string, detail: string, advice = 'get the object again and reapply your change') {
    super("Conflict", `${kind} "${objectName}": ${detail}; ${advice}`);
  }
}
/**
 * The object is being deleted and waits for its finalizers: no write changes it (kubectl's
 * "object is being deleted"), and getting it again would not help. Its own class so that xctl
 * can point at the object in the manifest.
 */
export class BeingDeletedError extends ConflictError {
  constructor(kind: Kind, objectName: string, readonly finalizers: string[]) {
    super(kind, objectName, `it is being deleted (it waits for its finalizers: ${finalizers.join(', ')})`, `apply it again once it is gone: ${BeingDeletedError.waitCommand(kind, objectName)}`);
  }

  static waitCommand(kind: Kind, name: string): string { return `xctl wait ${kind.toLowerCase()} ${name} --for delete`; }
}
/**
 * The object carried a resourceVersion that is no longer the stored one: it was modified since
 * it was read (kubectl's "the object has been modified"), or, `stored` undefined, no object is
 * stored any more (deleted since it was read: Kubernetes too refuses a create that carries a
 * resourceVersion). A conflict of its own class so that xctl can point at the manifest's
 * resourceVersion field.
 */
/**
 * A set-once field changed (pkg/api/set-once.ts), found when the write is planned against what
 * is stored: xctl checks it before, so this is a writer that skips xctl's checks, or one that
 * changed the object between that check and the transaction. Carries the fields, so that xctl
 * names the file, document and line of each (cli/commands/locate.ts); before, a plain message.
 */
export class SetOnceError extends ValidationError {
  constructor(readonly kind: Kind, readonly objectName: string, readonly issues: FieldIssue[]) {
    super('Invalid', `${kind} "${objectName}": ${issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`);
  }
}
export class StaleResourceVersionError extends ConflictError {
  constructor(kind: Kind, objectName: string, readonly resourceVersion: string, readonly stored: string | undefined) {
    super(kind, objectName, `resourceVersion ${resourceVersion} is stale (${stored === undefined ? 'the object no longer exists' : `stored: ${stored}`})`,
      stored === undefined ? 'remove metadata.resourceVersion to create it again' : undefined);
  }
}
/**
 * The object carried a uid that is not the stored object's: the object it was read from was
 * deleted and made again under its name since (Kubernetes' "Precondition failed: UID in
 * precondition"). Writing it would apply an edit meant for the old object to the new one.
 */
export class UidMismatchError extends ConflictError {
  constructor(kind: Kind, objectName: string, readonly uid: string, readonly stored: string) {
    super(kind, objectName, `uid ${uid} is not the stored object's (${stored}): it was deleted and made again since it was read`,
      'remove metadata.uid to apply to the object stored now');
  }
}
