// Splits one file's text into documents and keeps the YAML syntax tree of each, so that a
// field path found invalid later can be mapped back to the line it came from.
import { Composer, isMap, isScalar, isSeq, type Document, type Pair, type YAMLMap } from 'yaml';
import { formatPath, LEADING_ZERO_NUMBER, type FieldIssue, type FieldPath, type ManifestSyntax } from '../api/validate.js';
import { documentSyntax } from './syntax-of.js';
import { documentAnchors, unresolvedReason, type EarlierAnchor } from './anchors.js';
import type { ManifestIssue } from './errors.js';
import { aliasExpansionOverflow, MAX_ALIAS_VALUES } from './aliases.js';
import { jsonStreamSpans } from './json-stream.js';
import { documentSpans, nextDocumentStart, type DocumentSpan } from './document-spans.js';
import { boundedTokens, DOCUMENT_BOUNDS, type BoundCrossed, type DocumentBounds } from './document-bounds.js';
import { innermostOpening, isUnclosedError, unclosedOpenings, unclosedReason } from './unclosed.js';
import { syntaxReason } from './syntax-reason.js';
import { unsupportedTags, type TagIssue } from './tags.js';
import { duplicateKeys } from './duplicate-keys.js';
import { withoutOtherVersions, type RefusedDirective } from './yaml-version.js';
import { RefusedDocuments, STOPPED_READING } from './refused-documents.js';
import { linePositions } from './line-starts.js';

const lineCol = (p: { line: number; col: number }) => ({ line: p.line, column: p.col });

export interface ParsedDoc {
  file: string;
  /** 1-based position of the document in the file's stream */
  document: number;
  /** set when the document is a List and this is one of its items: path prefix ['items', i] */
  prefix: FieldPath;
  raw: unknown;
  /** 1-based line of the field at path (relative to this object), or of its nearest existing parent */
  lineOf(path: FieldPath): number;
  /** path relative to the object, rendered with the List prefix if any */
  pathText(path: FieldPath): string;
  /** values the reader found to be no JSON value (tags.ts), at paths relative to the object */
  tagIssues: FieldIssue[];
  /** how the document was written (syntax-of.ts): the hints on its values are in its syntax */
  syntax: ManifestSyntax;
}

export interface ParseResult {
  docs: ParsedDoc[];
  issues: ManifestIssue[];
  /** where reading stopped, too many documents being refused (refused-documents.ts): the file's last issue */
  stopped?: ManifestIssue;
}

/** The caller's check of each object as it is read: whether it passed. */
export type CheckObject = (doc: ParsedDoc) => boolean;

/** A file being read: what was read, the caller's check, the refused documents, whether to stop. */
interface Reading extends ParseResult { check?: CheckObject; refused: RefusedDocuments; stop: boolean }

/** Offset in the file's text -> 1-based line and column. */
type PosOf = (offset: number) => { line: number; col: number };

/**
 * The documents of one file: YAML documents separated by `---`, or, when the text is a JSON
 * stream (json-stream.ts), one document per JSON value, numbered in order like YAML's.
 */
export function parseManifestText(text: string, file: string, check?: CheckObject, bounds = DOCUMENT_BOUNDS): ParseResult {
  // YAML lets every document of a stream start with a byte order mark: files joined with
  // `---` (`cat a.yaml b.yaml`, `type` on Windows) carry one after it. The file's first one
  // is gone already (utf8.ts); these would be part of the first key (U+FEFF apiVersion).
  text = text.replace(/^((?:---|\.\.\.)(?:[ \t][^\n]*)?\r?\n)\uFEFF/gm, '$1');
  const linePos = linePositions(text);
  const out: Reading = { docs: [], issues: [], check, refused: new RefusedDocuments(), stop: false };
  let documents = 0;
  const stream = jsonStreamSpans(text);
  const json = stream !== undefined || /\.json$/i.test(file);
  // the anchors of the documents read so far, by name, across parts; none to look for in a text without aliases
  const anchors = text.includes('*') ? new Map<string, EarlierAnchor>() : undefined;
  const spans: DocumentSpan[] = stream ?? documentSpans(text);
  for (const span of spans) {
    if (out.stop) break;
    if (span.empty !== undefined) {
      documents += span.empty;
      continue;
    }
    const part = span.start === 0 && span.end === text.length ? text : text.slice(span.start, span.end);
    // the end of the part stands for the end of the empty lines cut off it (an error at the end
    // of the input, a document's end), where the parser would have put it
    const end = span.blankUntil ?? span.end;
    documents = parsePart(part, { file, json, anchors, bounds }, documents, (offset) => linePos(offset >= part.length ? end : span.start + offset), out);
  }
  return { docs: out.docs, issues: out.issues, stopped: out.stopped };
}

/**
 * `030` is octal 24 to YAML 1.1 (kubectl's reader) and 30 to YAML 1.2: read as the text it is,
 * so that a field that wants a number refuses it (naming both readings) instead of storing one
 * of them, and a string field (a label) keeps what was written.
 */
const LEADING_ZERO = { identify: () => false, default: true, tag: 'tag:yaml.org,2002:str', test: LEADING_ZERO_NUMBER, resolve: (s: string) => s };

/** The file a part is of, whether it is JSON, the anchors of the documents before the part, and the bounds of one document. */
interface PartOf { file: string; json: boolean; anchors?: Map<string, EarlierAnchor>; bounds: DocumentBounds }

/**
 * Parses `text` (a part of the file at posOf, `json` when the file is JSON) whose documents
 * follow `before` others; returns how many there now are. A document that passes a bound
 * (document-bounds.ts) is refused where it did, unread, and reading goes on at the next `---`
 * line after that, or after the next `...` line, which start and end a document whatever
 * precedes them (document-spans.ts).
 */
function parsePart(text: string, of: PartOf, before: number, posOf: PosOf, out: Reading): number {
  let n = before;
  for (let from = 0; !out.stop;) {
    const found: { crossed?: BoundCrossed } = {};
    const at = (offset: number) => posOf(from + offset);
    n = parseDocuments(from === 0 ? text : text.slice(from), of, n, at, out, found);
    if (!found.crossed || out.stop) break;
    const { offset, reason } = found.crossed;
    out.issues.push({ file: of.file, document: ++n, ...lineCol(at(offset)), reason });
    if (out.refused.refuse(n)) {
      out.stop = true;
      out.stopped = { file: of.file, document: n, line: at(offset).line, reason: STOPPED_READING };
    }
    const next = nextDocumentStart(text, from + offset);
    if (next === undefined) break;
    from = next;
  }
  return n;
}

/**
 * The documents of `text` (see parsePart) up to the first that passes a bound, which is left
 * out and named in `found`; returns how many there now are.
 */
function parseDocuments(text: string, { file, json, anchors, bounds }: PartOf, before: number, posOf: PosOf, out: Reading, found: { crossed?: BoundCrossed }): number {
  // merge keys (`<<: *defaults`) as kubectl's YAML reader takes them; keys given twice are
  // found by duplicate-keys.ts, in one pass
  const composer = new Composer({ uniqueKeys: false, merge: true, customTags: (tags) => [LEADING_ZERO, ...tags] });
  // one document at a time, each let go once read unless it holds an object: a million empty
  // ones (`---` lines, 4 MB) all held at once took more than a gigabyte
  let n = before;
  // where unclosed quotes and brackets opened: looked for when a document has an error, in one
  // parse of the text up to there
  let openings: ((before: number) => number[]) | undefined;
  const unclosed = (before: number) => ({ offsets: (openings ??= unclosedOpenings(text))(before), text });
  // refused %YAML directives, in order; each one opens the first document that starts after it
  const directives: RefusedDirective[] = [];
  for (const doc of composer.compose(withoutOtherVersions(boundedTokens(text, found, bounds), directives))) {
    n++;
    const issues = out.issues.length;
    while (directives.length && directives[0].offset < (doc.range?.[0] ?? 0)) refuseDirective(directives.shift()!, { file, document: n }, posOf, out);
    readDocument(doc, { file, document: n, unclosed, posOf, anchors, syntax: () => documentSyntax(doc, text, json) }, out);
    if (out.issues.length > issues && out.refused.refuse(n)) out.stop = true;
    if (out.stop) {
      // the line after the document's end (its last, when the text ends there)
      out.stopped = { file, document: n, line: posOf(Math.min(doc.range?.[2] ?? text.length, text.length)).line, reason: STOPPED_READING };
      return n;
    }
  }
  // one that opens no document (at the end of the text, or before the one refused) is refused all the same
  for (const d of directives) refuseDirective(d, { file }, posOf, out);
  return n;
}

function refuseDirective(d: RefusedDirective, at: { file: string; document?: number }, posOf: PosOf, out: ParseResult): void {
  out.issues.push({ ...at, ...lineCol(posOf(d.offset)), reason: d.reason });
}

/** One document of the stream into `out`: its objects (a List's items), or why it cannot be read. */
/** Where a document is, and what its reading needs of the text around it. */
interface DocumentAt {
  file: string;
  document: number;
  unclosed: Unclosed;
  posOf: PosOf;
  /** the anchors of the documents before, by name (undefined: the text has no alias) */
  anchors?: Map<string, EarlierAnchor>;
  syntax: () => ManifestSyntax;
}

/**
 * Refuses the aliases of `doc` whose anchor is not set before them in it (naming an earlier
 * document's anchor of the name, which is out of reach), and records its anchors for the
 * documents after it. Whether any was refused.
 */
function refuseUnresolvedAliases(doc: Document, at: DocumentAt, out: ParseResult): boolean {
  if (!at.anchors) return false;
  const { unresolved, anchors } = documentAnchors(doc);
  for (const a of unresolved) {
    const path = a.path.length ? formatPath(a.path) : undefined;
    out.issues.push({ file: at.file, document: at.document, ...lineCol(at.posOf(a.offset)), path, reason: unresolvedReason(a, at.anchors.get(a.name)) });
  }
  for (const [name, offset] of anchors) at.anchors.set(name, { document: at.document, line: at.posOf(offset).line });
  return unresolved.length > 0;
}

function readDocument(doc: Document, at: DocumentAt, out: Reading): void {
  const { file, document, posOf } = at;
  const twice = duplicateKeys(doc).map((d): ManifestIssue => ({ file, document, ...lineCol(posOf(d.offset)), path: formatPath(d.path), reason: `key given twice (first at line ${posOf(d.first).line}); keep one` }));
  if (doc.errors.length || twice.length) {
    // one by one: a mapping's many keys given twice are too many arguments for one push
    for (const i of [...syntaxIssues(doc, at.unclosed, file, document, posOf), ...twice]) out.issues.push(i);
    return;
  }
  if (doc.contents === null) return;   // empty or comment-only document: skipped, as kubectl does
  if (refuseUnresolvedAliases(doc, at, out)) return;
  const bomb = aliasExpansionOverflow(doc);
  if (bomb !== undefined) {
    const pos = posOf(bomb);
    out.issues.push({ file, document, line: pos.line, column: pos.col, reason: `the aliases up to here stand for more than ${MAX_ALIAS_VALUES} values (an alias bomb?); write the repeated parts out, or share smaller anchors` });
    return;
  }
  let raw: unknown;
  try {
    // bounded above by what the aliases stand for, not by how often an anchor is used
    raw = doc.toJS({ maxAliasCount: -1 });
  } catch (e) {
    out.issues.push({ file, document, line: posOf(doc.range?.[0] ?? 0).line, reason: (e as Error).message });
    return;
  }
  if (raw === null || raw === undefined) return;
  raw = withoutNullFields(raw);
  const tags = unsupportedTags(doc);
  const syntax = at.syntax();
  const mk = (prefix: FieldPath, value: unknown): ParsedDoc => ({
    file, document, prefix, raw: value, syntax,
    lineOf: (path) => posOf(offsetOfPath(doc, [...prefix, ...path])).line,
    pathText: (path) => (path.length || prefix.length ? formatPath([...prefix, ...path]) : ''),
    tagIssues: tagsUnder(tags, prefix),
  });
  // A JSON/YAML `kind: List` (what `get -o json` prints) carries its objects in items; a List
  // without items is empty, as kubectl reads it (a nested List is not flattened: it is refused).
  if (!isRecord(raw) || raw.kind !== 'List') {
    keep(out, mk([], raw));
    return;
  }
  if (Array.isArray(raw.items) || raw.items === undefined) (raw.items as unknown[] | undefined)?.forEach((item, j) => keep(out, mk(['items', j], item)));
  else out.issues.push({ file, document, line: posOf(offsetOfPath(doc, ['items'])).line, path: 'items', reason: 'must be a list of objects' });
  // a tag on the List itself belongs to none of its items
  for (const t of tags.filter((x) => !(x.path[0] === 'items' && typeof x.path[1] === 'number'))) out.issues.push({ file, document, line: posOf(t.offset).line, path: formatPath(t.path), reason: t.message });
}

/** An object read, through the caller's check: one it refuses refuses its document. */
function keep(out: Reading, doc: ParsedDoc): void {
  out.docs.push(doc);
  if (out.check && !out.check(doc) && out.refused.refuse(doc.document)) out.stop = true;
}

/** The tags under `prefix` (a List item's), with paths relative to it. */
function tagsUnder(tags: TagIssue[], prefix: FieldPath): FieldIssue[] {
  return tags.filter((t) => prefix.every((p, i) => t.path[i] === p)).map((t) => ({ path: t.path.slice(prefix.length), message: t.message }));
}

/** The offsets of the text's unclosed quotes and brackets up to an offset (found once), and the text. */
type Unclosed = (before: number) => { offsets: number[]; text: string };

function syntaxIssues(doc: Document, unclosed: Unclosed, file: string, document: number, posOf: PosOf): ManifestIssue[] {
  const at = (offset: number, reason: string): ManifestIssue => ({ file, document, ...lineCol(posOf(offset)), reason });
  // an unclosed quote or bracket: where the innermost opened in this document, once, not where
  // the input ran out, nor again for each collection around it
  const open = doc.errors.filter(isUnclosedError);
  // reduce, not Math.max(...): thousands of errors are too many arguments
  const last = open.reduce((m, e) => Math.max(m, e.pos[0]), 0);
  const u = open.length ? unclosed(last) : undefined;
  const opened = u && innermostOpening(u.offsets, doc.range?.[0] ?? 0, last);
  const shown = opened === undefined ? doc.errors : doc.errors.filter((e) => !isUnclosedError(e));
  const issues = shown.map((e) => at(e.pos[0], syntaxReason(e)));
  if (opened !== undefined) issues.push(at(opened, `${unclosedReason(u!.text[opened])} (opened here)`));
  return issues.sort((a, b) => a.line! - b.line! || a.column! - b.column!);
}

/**
 * The value with every null-valued mapping entry left out, at every depth: `labels:` whose
 * entries are all commented out, or an empty `spec:`, reads as absent, as kubectl reads it.
 * A required field that is null is then reported missing, at its own line (lineOf follows
 * the syntax tree, which still holds the key). A null list element is kept: it is an entry.
 */
function withoutNullFields(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNullFields);
  if (!isRecord(v)) return v;
  // fromEntries defines each key as its own (a "__proto__" key stays a field, as toJS made it)
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNullFields(x)]));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * A mapping's pairs by key (the first of a key given twice), made once per mapping: a search of
 * its pairs for each issue's line took a mapping of 80 000 bad label keys 50 s, and of the
 * million a 16 MiB file holds, hours.
 */
const pairIndex = new WeakMap<YAMLMap, Map<string, Pair>>();
function pairsByKey(map: YAMLMap): Map<string, Pair> {
  let index = pairIndex.get(map);
  if (!index) {
    index = new Map();
    for (const it of map.items) {
      const key = String(isScalar(it.key) ? it.key.value : it.key);
      if (!index.has(key)) index.set(key, it);
    }
    pairIndex.set(map, index);
  }
  return index;
}

/** Follows the path through the syntax tree; stops at the deepest node that exists. Returns its offset. */
function offsetOfPath(doc: Document, path: FieldPath): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? doc.range?.[0] ?? 0;
  for (const p of path) {
    if (isMap(node)) {
      const pair = pairsByKey(node).get(String(p));
      if (!pair) break;
      offset = rangeStart(pair.key) ?? rangeStart(pair.value) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof p === 'number') {
      const item = node.items[p];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const r = (node as { range?: [number, number, number] } | null)?.range;
  return r ? r[0] : undefined;
}
