// One error model for all of xnet. Every error xnet throws on purpose is an XnetError:
// `reason` is a short machine-readable cause (it becomes a condition's reason, a log field,
// a CLI exit code), `retryable` says whether the same call may succeed later without anyone
// changing anything. Callers branch on the class, never on the message text.
//
// The domain bases live here; the concrete errors live beside the code that throws them:
//   StoreError       store/types.ts (NotFound, AlreadyExists, Conflict and its StaleResourceVersion), store/etcd-store.ts (Invalid),
//                    store/txn-writer.ts (PartialWriteError: a write of many transactions stopped midway; InterruptedError),
//                    EtcdUnavailableError / EtcdCompactedError / EtcdPermissionError below
//   XnetError        auth/pki.ts (PkiError), cli/jsonpath.ts (JsonPathExecError)
//   ValidationError  manifest/errors.ts (ManifestError), api/kinds.ts (UnknownKindError), auth/roles.ts (InvalidNodeNameError),
//                    ip/ipv4.ts (IpParseError), store/etcd-store.ts (InvalidObjectError, Duplicate),
//                    store/txn-writer.ts (TooLargeError)
//   UsageError       etcd/client.ts (EtcdConfigError), cli/jsonpath-parse.ts (JsonPathSyntaxError); CLI flags and arguments
//   IpamError        ipam/plan.ts (AllocationError), controller/nic-errors.ts (WaitingError), dockeripam/journal.ts (JournalUnreadableError)
//   ControllerError  controller/term.ts (RetryLater), controller/txn-plan.ts (NotLeaderError, DuplicateKeyError),
//                    controller/pool-executor.ts (ConflictRetriesExceeded)
//   DataplaneError   agent/dataplane.ts (ApplyError), netlink/{exec,ip,iptables}.ts, docker/types.ts
//   LabError         lab/* and etcd/server.ts (EtcdStartError)
//   CliError         cli/exit.ts: an error whose exit code the command chose
// Errors from libraries (etcd3, gRPC) are mapped to these in ONE place: etcd/errors.ts.

export interface XnetErrorOptions {
  /** the same call may succeed later without a change by anyone (default false) */
  retryable?: boolean;
  /** the lower-level error this one explains */
  cause?: unknown;
}

export class XnetError extends Error {
  readonly retryable: boolean;
  constructor(readonly reason: string, message: string, opts: XnetErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.retryable = opts.retryable ?? false;
  }
}

/** Storage: reading and writing objects in etcd. */
export class StoreError extends XnetError {}

/** etcd could not be reached (connection refused, no leader, deadline exceeded, client closed). */
export class EtcdUnavailableError extends StoreError {
  constructor(message: string, cause?: unknown) { super('EtcdUnavailable', message, { retryable: true, cause }); }
}

/**
 * An agent's report on an object held back until its report about itself is in etcd
 * (agent/self-report-gate.ts): retried, it goes through once the agent has beaten.
 */
export class SelfReportPendingError extends StoreError {
  constructor(message: string) { super('SelfReportPending', message, { retryable: true }); }
}

/** The revision asked for was compacted away: relist instead of resuming. */
export class EtcdCompactedError extends StoreError {
  constructor(message: string, cause?: unknown) { super('Compacted', message, { retryable: true, cause }); }
}

/** etcd refused the credentials or the key range (auth enabled, role lacks the permission). */
export class EtcdPermissionError extends StoreError {
  constructor(message: string, cause?: unknown) { super('PermissionDenied', message, { cause }); }
}

/** Input that does not follow the contract: a manifest, an object, a kind, an address. */
export class ValidationError extends XnetError {}

/** How a program was called: flags, arguments, configuration. */
export class UsageError extends XnetError {
  constructor(message: string, reason = 'Usage') { super(reason, message); }
}

/** Address and block allocation. */
export class IpamError extends XnetError {}

/** Control loops: leadership, retries of a reconcile. */
export class ControllerError extends XnetError {}

/** Changing the kernel or Docker on a node: ip, iptables, nsenter, dockerd. */
export class DataplaneError extends XnetError {}

/**
 * Every lab failure says what the lab was doing and what the user can do about it, so
 * `xctl lab ...` can print it as is and tests can show it without a stack trace.
 */
export class LabError extends XnetError {
  constructor(
    /** short machine-readable cause, e.g. NotRoot, CommandFailed, DockerdNotReady */
    reason: string,
    message: string,
    /** what to do about it */
    readonly hint?: string,
  ) {
    super(reason, hint ? `${message} (${hint})` : message);
    this.name = 'LabError';
  }
}
