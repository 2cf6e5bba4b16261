// How the agent reads a record in its state directory (network-record.ts: networks.json,
// parent-record.ts: parents.json). Each is the only evidence of what xnet did on the host, so
// one that exists but cannot be read (EIO, EACCES, EMFILE, EISDIR) is not taken as empty for
// good: it may read fine once the disk or its permissions are fixed. Its record says so once,
// writes nothing over it while it cannot be read, and a later pass reads it again, with
// backoff (RETRY_FIRST_MS doubling up to RETRY_MAX_MS); once it reads, the record says that
// once and joins what it holds with what the run recorded meanwhile.
import { readFileSync, statSync } from 'node:fs';

/** a file that could not be read is read again this long after, then after twice the last wait... */
export const RETRY_FIRST_MS = 30_000;
/** ...up to this: a disk that stays broken costs a read every 10 minutes, said once */
export const RETRY_MAX_MS = 10 * 60_000;

/** How a record says when a file it cannot read is read again (in its warning). */
export const RETRY_SAID = `read again after ${RETRY_FIRST_MS / 1000} s, then less and less often, up to every ${RETRY_MAX_MS / 60_000} min`;

/**
 * A state file's text; `absent` when there is none (ENOTDIR: a part of its path is a file, so
 * the record is not there either), `tooLarge` past `maxBytes` (not a record: its records are
 * small), the error when it exists but cannot be read.
 */
export function readStateText(path: string, maxBytes: number): { text: string } | 'absent' | 'tooLarge' | Error {
  try {
    if (statSync(path).size > maxBytes) return 'tooLarge';
    return { text: readFileSync(path, 'utf8') };
  } catch (e) {
    if (['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) return 'absent';
    return e as Error;
  }
}

/**
 * When a state file is read: once at first, and while it cannot be read, again when a pass
 * asks after the wait (RETRY_FIRST_MS after the first failure, then twice the last wait, up to
 * RETRY_MAX_MS). `read` gives what the file holds (empty when absent or not a record) or the
 * error that kept it from being read.
 */
export class StateFileReads<T> {
  private failing = false;
  private retryAt = 0;
  private retryWait = RETRY_FIRST_MS;

  constructor(private readonly read: () => T | Error, private readonly clock: () => number = Date.now) {}

  /** The file exists but could not be read (yet): its record writes nothing over it. */
  get unreadable(): boolean {
    return this.failing;
  }

  /** The first read: what the file holds, or undefined when it cannot be read (`cannotRead` is told, once). */
  first(cannotRead: (e: Error) => void): T | undefined {
    const r = this.read();
    if (!(r instanceof Error)) return r;
    this.failing = true;
    this.retryWait = RETRY_FIRST_MS;
    this.retryAt = this.clock() + this.retryWait;
    cannotRead(r);
    return undefined;
  }

  /**
   * While the file cannot be read and its wait is over: what it holds now that it reads (no
   * longer unreadable), or undefined (not due, or still failing: read again after twice the
   * last wait, and nothing said).
   */
  again(): T | undefined {
    if (!this.failing || this.clock() < this.retryAt) return undefined;
    const r = this.read();
    if (!(r instanceof Error)) {
      this.failing = false;
      return r;
    }
    this.retryWait = Math.min(this.retryWait * 2, RETRY_MAX_MS);
    this.retryAt = this.clock() + this.retryWait;
    return undefined;
  }
}
