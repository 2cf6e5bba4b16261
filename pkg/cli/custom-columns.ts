// `get -o custom-columns=NAME:.metadata.name,IP:.status.ip`, kubectl's: a table whose columns
// the user names, each cell a JSONPath over the object (get -o jsonpath's templates, braces
// optional), several results joined by ",", none printed `<none>`. Pure: parsing and cells.
import { UsageError } from './exit.js';
import { JsonPathExecError, JsonPathSyntaxError, parseTemplate, templateResults, printed, type Template } from './jsonpath.js';

export const CUSTOM_COLUMNS = 'custom-columns=';

/** A table's header and how each object makes a row. */
export interface Columns { header: string[]; row: (o: unknown) => string[] }

/** `HEADER:FIELD[,HEADER:FIELD...]`; a usage error (exit 2) naming the column that is wrong. */
export function parseCustomColumns(spec: string): Columns {
  if (!spec) throw new UsageError('custom-columns format specified but no custom columns given: use -o custom-columns=NAME:.metadata.name');
  return columnsOf(spec.split(',').map((part) => {
    const colon = part.indexOf(':');
    if (colon <= 0 || colon === part.length - 1) throw new UsageError(`unexpected custom-columns spec: "${part}", expected <header>:<json-path-expr>`);
    return { header: part.slice(0, colon), field: part.slice(colon + 1), part };
  }));
}

const FILE_FORMAT = 'one line of headers, then one line of as many field paths, separated by white space';

/**
 * kubectl's `-o custom-columns-file=PATH`: a line of headers and a line of field paths, both
 * split at white space (`NAME  IP` then `.metadata.name  .status.ip`); `path` names the file in errors.
 */
export function parseCustomColumnsFile(text: string, path: string): Columns {
  const [headerLine, fieldLine] = text.split(/\r?\n/);
  const headers = headerLine.split(/\s+/).filter(Boolean);
  if (!headers.length) throw new UsageError(`custom-columns file "${path}": no headers on its first line; expected ${FILE_FORMAT}`);
  if (fieldLine === undefined) throw new UsageError(`custom-columns file "${path}": no field paths (no second line); expected ${FILE_FORMAT}`);
  const fields = fieldLine.split(/\s+/).filter(Boolean);
  if (fields.length !== headers.length) throw new UsageError(`custom-columns file "${path}": number of headers (${headers.length}) and field paths (${fields.length}) don't match`);
  return columnsOf(headers.map((header, i) => ({ header, field: fields[i], part: `${header}:${fields[i]}` })));
}

function columnsOf(specs: Array<{ header: string; field: string; part: string }>): Columns {
  const columns = specs.map((c) => ({ header: c.header, template: fieldTemplate(c.field, c.part) }));
  return { header: columns.map((c) => c.header), row: (o) => columns.map((c) => cell(c.template, o)) };
}

/** kubectl's relaxed field: `.a.b`, `a.b`, `{.a.b}` are one template of one action. */
function fieldTemplate(field: string, part: string): Template {
  const inner = field.startsWith('{') && field.endsWith('}') ? field.slice(1, -1) : field;
  const source = `{${inner.startsWith('.') || inner.startsWith('[') ? inner : `.${inner}`}}`;
  try {
    const t = parseTemplate(source);
    if (t.segments.length !== 1 || t.segments[0].t !== 'action') throw new JsonPathSyntaxError('a column is one field path, without text or range', 1);
    return t;
  } catch (e) {
    throw e instanceof JsonPathSyntaxError ? new UsageError(`custom-columns "${part}": ${e.message}`) : e;
  }
}

function cell(t: Template, o: unknown): string {
  try {
    const values = templateResults(t, o);
    return values.length ? values.map(printed).join(',') : '<none>';
  } catch (e) {
    if (e instanceof JsonPathExecError) return '<none>';
    throw e;
  }
}
