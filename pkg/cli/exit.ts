// Exit codes are part of the CLI contract (docs/xctl.md): scripts branch on them. They follow
// from the error's class (../errors.ts); etcd3's own errors are classified first, in one place.
import { CommanderError } from 'commander';
import { EtcdUnavailableError, UsageError, ValidationError, XnetError } from '../errors.js';
import { fromEtcdError } from '../etcd/errors.js';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../store/types.js';
import { InterruptedError } from '../store/txn-writer.js';

export { UsageError };

export const EXIT = {
  OK: 0,
  /** diff found a difference, ipam check found a problem, wait timed out; any other failure */
  FAILED: 1,
  USAGE: 2,
  CONFLICT: 3,
  NOT_FOUND: 4,
  UNREACHABLE: 5,
  /** interrupted (Ctrl-C), as a shell reports a process ended by SIGINT */
  INTERRUPTED: 130,
} as const;

/** An error whose exit code and message the command chose. */
export class CliError extends XnetError {
  /** `cause`: the error this one reports under another exit code (diff's), for how it is worded */
  constructor(readonly code: number, message: string, cause?: unknown) { super('CommandFailed', message, { cause }); }
}

/** Error class -> exit code, first match wins (subclasses before their bases). */
const EXIT_BY_CLASS: Array<[abstract new (...args: never[]) => Error, number]> = [
  [UsageError, EXIT.USAGE],
  [ValidationError, EXIT.USAGE],
  [ConflictError, EXIT.CONFLICT],
  [AlreadyExistsError, EXIT.CONFLICT],
  [NotFoundError, EXIT.NOT_FOUND],
  [EtcdUnavailableError, EXIT.UNREACHABLE],
  [InterruptedError, EXIT.INTERRUPTED],
];

export function isUnreachable(e: unknown): boolean {
  return fromEtcdError(e) instanceof EtcdUnavailableError;
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof CliError) return e.code;
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  const err = fromEtcdError(e);
  for (const [cls, code] of EXIT_BY_CLASS) if (err instanceof cls) return code;
  return EXIT.FAILED;
}
