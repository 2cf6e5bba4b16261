// What `get -o` takes a template or columns from: the word itself (`jsonpath=TEMPLATE`,
// `go-template=TEMPLATE`, `custom-columns=SPEC`) or, as kubectl's `-o jsonpath-file=PATH`,
// `-o go-template-file=PATH` and `-o custom-columns-file=PATH`, a file. A file that cannot be
// read is a usage error (exit 2) naming it, before etcd is read.
import { closeSync, openSync, readSync } from 'node:fs';
import { UsageError } from './exit.js';
import { CUSTOM_COLUMNS, parseCustomColumns, parseCustomColumnsFile, type Columns } from './custom-columns.js';
import { JSONPATH, jsonPathPrinter } from './jsonpath-printer.js';
import { GO_TEMPLATE, goTemplatePrinter } from './go-template-printer.js';

export const JSONPATH_FILE = 'jsonpath-file=';
export const GO_TEMPLATE_FILE = 'go-template-file=';
export const CUSTOM_COLUMNS_FILE = 'custom-columns-file=';

/** The formats with a template or columns, as the usage errors of get and get events list them. */
export const TEMPLATE_FORMATS = 'jsonpath=TEMPLATE, jsonpath-file=PATH, go-template=TEMPLATE, go-template-file=PATH, custom-columns=SPEC or custom-columns-file=PATH';
/** --allow-missing-template-keys with another format: refused rather than ignored, as --for is. */
export const MISSING_KEYS_FLAG_ONLY = '--allow-missing-template-keys is for -o jsonpath=TEMPLATE and -o go-template=TEMPLATE';

/** A template file is a line or a few: more than this is no template (`-o jsonpath-file=/dev/zero` would read forever). */
export const MAX_TEMPLATE_FILE = 1024 * 1024;

const spelled = (o: string, prefix: string) => o === prefix.slice(0, -1) || o.startsWith(prefix);
export const isJsonPathOutput = (o: string): boolean => spelled(o, JSONPATH) || spelled(o, JSONPATH_FILE);
export const isGoTemplateOutput = (o: string): boolean => spelled(o, GO_TEMPLATE) || spelled(o, GO_TEMPLATE_FILE);
/** A format printed by a template the user gives: kubectl's jsonpath or Go's text/template. */
export const isTemplateOutput = (o: string): boolean => isJsonPathOutput(o) || isGoTemplateOutput(o);
export const isCustomColumnsOutput = (o: string): boolean => spelled(o, CUSTOM_COLUMNS) || spelled(o, CUSTOM_COLUMNS_FILE);

/** The template of `-o jsonpath=TEMPLATE`, or the text of the file `-o jsonpath-file=PATH` names (kept as it is, as kubectl keeps it). */
export function jsonPathTemplateOf(o: string): string {
  if (!spelled(o, JSONPATH_FILE)) return o.slice(JSONPATH.length);
  return readTemplateFile('jsonpath-file', o.slice(JSONPATH_FILE.length));
}

const TEMPLATE_FLAG_FORMATS = ['go-template', 'go-template-file', 'jsonpath', 'jsonpath-file'];

/**
 * `-o` with kubectl's `--template` applied: the template (or, for a `-file` format, the file) given
 * apart, `-o go-template --template='{{.metadata.name}}'`; it wins over one after "=", as in kubectl,
 * and alone it means `-o go-template`. With any other format it is refused (it would be ignored).
 */
export function outputWithTemplateFlag(output: string | undefined, template: string | undefined): string | undefined {
  if (!template) return output;
  if (output === undefined) return `go-template=${template}`;
  const format = output.split('=')[0];
  if (!TEMPLATE_FLAG_FORMATS.includes(format)) throw new UsageError(`--template is for -o go-template, go-template-file, jsonpath and jsonpath-file, not -o ${format}`);
  return `${format}=${template}`;
}

/**
 * The printer of a template format (isTemplateOutput), its template parsed now: the object or
 * List in, its text out. `allowMissingKeys`: --allow-missing-template-keys, kubectl's for both.
 */
export function templatePrinterOf(o: string, allowMissingKeys: boolean): (data: unknown) => string {
  if (!isGoTemplateOutput(o)) return jsonPathPrinter(jsonPathTemplateOf(o), allowMissingKeys);
  const template = spelled(o, GO_TEMPLATE_FILE) ? readTemplateFile('go-template-file', o.slice(GO_TEMPLATE_FILE.length)) : o.slice(GO_TEMPLATE.length);
  return goTemplatePrinter(template, allowMissingKeys);
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
