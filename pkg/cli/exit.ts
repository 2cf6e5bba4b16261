// Exit codes are part of the CLI contract (docs/xctl.md): scripts branch on them.
import { CommanderError } from 'commander';
import { UnknownKindError } from '../api/kinds.js';
import { EtcdConfigError } from '../etcd/client.js';
import { ManifestError } from '../manifest/errors.js';
import { AlreadyExistsError, ConflictError, NotFoundError, StoreError } from '../store/types.js';

export const EXIT = {
  OK: 0,
  /** diff found a difference, ipam check found a problem, wait timed out; any other failure */
  FAILED: 1,
  USAGE: 2,
  CONFLICT: 3,
  NOT_FOUND: 4,
  UNREACHABLE: 5,
} as const;

/** An error whose exit code and message the command chose. */
export class CliError extends Error {
  constructor(readonly code: number, message: string) { super(message); }
}

export class UsageError extends CliError {
  constructor(message: string) { super(EXIT.USAGE, message); }
}

// etcd3 wraps gRPC failures in classes whose names say what happened; matching on the
// names keeps this independent of which error classes a given etcd3 version exports.
const UNREACHABLE = /^(GRPCConnectFailedError|GRPCUnavailableError|GRPCDeadlineExceededError|ClientClosedError)$/;
const UNREACHABLE_TEXT = /ECONNREFUSED|EHOSTUNREACH|ENOTFOUND|No connection established|failed to connect|Deadline exceeded|UNAVAILABLE/i;

export function isUnreachable(e: unknown): boolean {
  const err = e as Error;
  return UNREACHABLE.test(err?.constructor?.name ?? '') || UNREACHABLE_TEXT.test(err?.message ?? '');
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof CliError) return e.code;
  if (e instanceof ManifestError || e instanceof UnknownKindError || e instanceof EtcdConfigError) return EXIT.USAGE;
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  if (e instanceof ConflictError || e instanceof AlreadyExistsError) return EXIT.CONFLICT;
  if (e instanceof NotFoundError) return EXIT.NOT_FOUND;
  if (e instanceof StoreError) {
    if (e.reason === 'Conflict' || e.reason === 'AlreadyExists') return EXIT.CONFLICT;
    if (e.reason === 'NotFound') return EXIT.NOT_FOUND;
    if (e.reason === 'Invalid' || e.reason === 'Duplicate') return EXIT.USAGE;
  }
  if (isUnreachable(e)) return EXIT.UNREACHABLE;
  return EXIT.FAILED;
}
