// What `get -o` takes a template or columns from: the word itself (`jsonpath=TEMPLATE`,
// `custom-columns=SPEC`) or, as kubectl's `-o jsonpath-file=PATH` and
// `-o custom-columns-file=PATH`, a file. A file that cannot be read is a usage error (exit 2)
// naming it, before etcd is read.
import { closeSync, openSync, readSync } from 'node:fs';
import { UsageError } from './exit.js';
import { CUSTOM_COLUMNS, parseCustomColumns, parseCustomColumnsFile, type Columns } from './custom-columns.js';
import { JSONPATH } from './jsonpath-printer.js';

export const JSONPATH_FILE = 'jsonpath-file=';
export const CUSTOM_COLUMNS_FILE = 'custom-columns-file=';

/** A template file is a line or a few: more than this is no template (`-o jsonpath-file=/dev/zero` would read forever). */
export const MAX_TEMPLATE_FILE = 1024 * 1024;

const spelled = (o: string, prefix: string) => o === prefix.slice(0, -1) || o.startsWith(prefix);
export const isJsonPathOutput = (o: string): boolean => spelled(o, JSONPATH) || spelled(o, JSONPATH_FILE);
export const isCustomColumnsOutput = (o: string): boolean => spelled(o, CUSTOM_COLUMNS) || spelled(o, CUSTOM_COLUMNS_FILE);

/** The template of `-o jsonpath=TEMPLATE`, or the text of the file `-o jsonpath-file=PATH` names (kept as it is, as kubectl keeps it). */
export function jsonPathTemplateOf(o: string): string {
  if (!spelled(o, JSONPATH_FILE)) return o.slice(JSONPATH.length);
  return readTemplateFile('jsonpath-file', o.slice(JSONPATH_FILE.length));
}

/** The columns of `-o custom-columns=SPEC`, or of the file `-o custom-columns-file=PATH` names. */
export function customColumnsOf(o: string): Columns {
  if (!spelled(o, CUSTOM_COLUMNS_FILE)) return parseCustomColumns(o.slice(CUSTOM_COLUMNS.length));
  const path = o.slice(CUSTOM_COLUMNS_FILE.length);
  return parseCustomColumnsFile(readTemplateFile('custom-columns-file', path), path);
}

/** The file's text; why it cannot be read, naming it, as a usage error. */
function readTemplateFile(format: string, path: string): string {
  if (!path) throw new UsageError(`${format} format specified but no file given: use -o ${format}=PATH`);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(MAX_TEMPLATE_FILE + 1);
    let size = 0;
    for (let n = -1; n !== 0 && size < buf.length;) { n = readSync(fd, buf, size, buf.length - size, null); size += n; }
    if (size > MAX_TEMPLATE_FILE) throw new UsageError(`-o ${format}: "${path}" is larger than ${MAX_TEMPLATE_FILE / 1024 / 1024} MiB, too large for a template`);
    return buf.subarray(0, size).toString('utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`-o ${format}: cannot read "${path}": ${whyUnreadable(e)}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function whyUnreadable(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EISDIR') return 'a directory, not a file';
  if (code === 'EACCES') return 'permission denied';
  return (e as Error).message;
}
