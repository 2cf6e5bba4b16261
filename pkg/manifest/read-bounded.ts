// Reading a manifest's bytes with a bound. `-f /dev/zero` or `yes | xctl apply -f -` never
// ends: read whole, it grew until the process ran out of memory and crashed. And a FIFO that a
// directory holds under a *.yaml name made the read wait, forever, for a writer. So at most
// MAX_MANIFEST_BYTES are read from one source, and a directory's entries are read only when
// they are files.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * The most read from one file or stdin: far above any cluster's manifests (10 000 NICs are
 * about 2 MB), and what node's heap holds once read: each object keeps its syntax tree for
 * the lines of later messages, 200 000 small ones in 14 MB took 1.5 GB of a heap limited to 4.
 */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
export const TOO_LARGE = `larger than ${MAX_MANIFEST_BYTES / 1024 / 1024} MiB, the most xctl reads from one file; split it`;
const CHUNK = 1024 * 1024;

export type Bytes = { bytes: Buffer } | { reason: string };

/** The chunks joined, or TOO_LARGE as soon as they pass the bound (the rest is not read). */
export async function collectBounded(chunks: AsyncIterable<Buffer | string>): Promise<Bytes> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const c of chunks) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    total += b.length;
    if (total > MAX_MANIFEST_BYTES) return { reason: TOO_LARGE };
    parts.push(b);
  }
  return { bytes: Buffer.concat(parts, total) };
}

async function* chunksOf(fh: FileHandle): AsyncIterable<Buffer> {
  for (;;) {
    const buf = Buffer.allocUnsafe(CHUNK);
    const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
    if (bytesRead === 0) return;
    yield buf.subarray(0, bytesRead);
  }
}

const KINDS: Array<[string, (s: import('node:fs').Stats) => boolean]> = [
  ['a FIFO', (s) => s.isFIFO()], ['a socket', (s) => s.isSocket()], ['a character device', (s) => s.isCharacterDevice()],
  ['a block device', (s) => s.isBlockDevice()], ['a directory', (s) => s.isDirectory()],
];

/**
 * A file's bytes, at most MAX_MANIFEST_BYTES. `filesOnly` (a directory's entries): anything but
 * a regular file is refused, and opened without blocking, so that a FIFO is not waited on. A
 * FIFO named by `-f` itself (`-f <(...)`, process substitution) is read as the user asked.
 */
export async function readBounded(path: string, filesOnly: boolean): Promise<Bytes> {
  const fh = await open(path, constants.O_RDONLY | (filesOnly ? constants.O_NONBLOCK : 0));
  try {
    if (filesOnly) {
      const st = await fh.stat();
      if (!st.isFile()) return { reason: `not a regular file (${KINDS.find(([, is]) => is(st))?.[0] ?? 'a special file'}); a directory's manifests must be files` };
    }
    return await collectBounded(chunksOf(fh));
  } finally {
    await fh.close();
  }
}
