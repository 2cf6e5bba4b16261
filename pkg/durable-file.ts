// A small state file written so that a power loss leaves the old contents or the new, never an
// empty file: a rename alone is atomic against a crash of the process, not of the machine (the
// new file's data may not be on disk yet when the rename is). Used by the agent's records and
// the IPAM journal.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Written whole to `<path>.tmp`, synced, renamed into place, and the directory synced (so the
 * rename itself survives). write(2) may take only part of the buffer: it is called again for
 * the rest until every byte is written.
 */
export function writeFileDurably(path: string, text: string, mode = 0o600): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try { writeAll(fd, Buffer.from(text, 'utf8'), tmp); fsyncSync(fd); } finally { closeSync(fd); }
  renameSync(tmp, path);
  const d = openSync(dir, 'r');
  try { fsyncSync(d); } finally { closeSync(d); }
}

/** Writes buf whole, whatever each write(2) takes; one that takes nothing throws (never an endless loop). */
function writeAll(fd: number, buf: Buffer, what: string): void {
  for (let done = 0; done < buf.length;) {
    const n = writeSync(fd, buf, done, buf.length - done);
    if (!(n > 0)) throw new Error(`${what}: wrote ${done} of ${buf.length} bytes (write returned ${n})`);
    done += n;
  }
}
