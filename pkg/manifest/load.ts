// `-f FILE|DIR|-`: reads manifests, validates every object and reports every problem at once
// with its location. Nothing here talks to etcd: the checks against stored objects (crossObjectIssues in
// ../api/validate.ts) run on the objects the caller read.
import { lstat, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { validateObject, validateReference, type FieldIssue, type FieldPath } from '../api/validate.js';
import { crossObjectIssues, duplicateIssues, type ObjectIssue } from '../api/validate-cross.js';
import type { NodeReports } from '../api/validate-in-use-inside.js';
import type { AnyObject } from '../api/types.js';
import { formatLocation, ManifestError, MissingPathError, type ManifestIssue } from './errors.js';
import { parseManifestText, type ParsedDoc } from './parse.js';
import type { DocumentBounds } from './document-bounds.js';
import { decodeManifest } from './utf8.js';
import { collectBounded, readBounded } from './read-bounded.js';

export const STDIN = '-';
const MANIFEST_FILE = /\.(ya?ml|json)$/i;

export interface ManifestSource {
  /** path as the user gave it (joined with the directory for DIR), "<stdin>" for - */
  file: string;
  text: string;
}

export interface LoadedObject {
  /** validated, defaults applied, status dropped */
  object: AnyObject;
  doc: ParsedDoc;
}

/** stdin's bytes (checked as UTF-8 like a file's), text a caller already has, or why it was not read whole */
export type StdinReader = () => Promise<Buffer | string | { reason: string }>;

export async function readStdin(): Promise<Buffer | { reason: string }> {
  // leaving the loop early destroys the stream: a writer that never ends is not read on
  const r = await collectBounded(process.stdin);
  return 'bytes' in r ? r.bytes : r;
}

/** `listed`: the directory listed the file (as a link when `link`), so a missing one went since, or is a link to nothing */
function unreadable(file: string, e: unknown, listed?: { link: boolean }): ManifestIssue {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return { file, reason: (e as Error).message };
  if (!listed) return { file, reason: 'no such file or directory' };
  return { file, reason: listed.link ? 'a link to a file that does not exist' : 'removed after the directory was listed' };
}

/** Why a path -f named could not be read: 'missing' when nothing is there, not even a link (to nothing) */
async function namedUnreadable(path: string, e: unknown): Promise<ManifestIssue | 'missing'> {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return unreadable(path, e);
  return lstat(path).then(() => unreadable(path, e, { link: true }), () => 'missing' as const);
}

/**
 * The *.yaml, *.yml and *.json entries directly in `dir`, sorted, each with whether it is a
 * link. Subdirectories are not read, nor is a link to one (`sub.yaml -> sub`, which readFile
 * would refuse with EISDIR); a link to nothing is listed, to be named as such.
 */
async function manifestNames(dir: string): Promise<Array<{ name: string; link: boolean }>> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((n) => MANIFEST_FILE.test(n.name) && !n.isDirectory());
  const isDir = (n: { name: string; isSymbolicLink(): boolean }) => n.isSymbolicLink() && stat(join(dir, n.name)).then((s) => s.isDirectory(), () => false);
  const dirs = await Promise.all(entries.map(isDir));
  return entries.filter((_, i) => !dirs[i]).map((n) => ({ name: n.name, link: n.isSymbolicLink() })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Expands each -f argument: a file, a directory (its *.yaml, *.yml, *.json, sorted, not recursive) or - for stdin. */
export async function readSources(args: string[], stdin: StdinReader = readStdin): Promise<ManifestSource[]> {
  const out: ManifestSource[] = [];
  const issues: ManifestIssue[] = [];
  const missing: string[] = [];
  // a file named twice (`-f d -f d`, or a file and its directory) is read once, as if once named
  const seen = new Set<string>();
  const add = (file: string, got: Buffer | string | { reason: string }) => {
    if (file !== '<stdin>' && seen.has(resolve(file))) return;
    seen.add(resolve(file));
    if (typeof got === 'object' && 'reason' in got) { issues.push({ file, reason: got.reason }); return; }
    const d = typeof got === 'string' ? { text: got } : decodeManifest(got, file);
    if ('issue' in d) issues.push(d.issue); else out.push({ file, text: d.text });
  };
  const read = (file: string, filesOnly: boolean) => readBounded(file, filesOnly).then((r) => add(file, 'bytes' in r ? r.bytes : r));
  for (const arg of args) {
    if (arg === STDIN) {
      add('<stdin>', await stdin());
      continue;
    }
    try {
      const st = await stat(arg);
      if (st.isDirectory()) {
        const names = await manifestNames(arg);
        if (names.length === 0) issues.push({ file: arg, reason: 'directory holds no *.yaml, *.yml or *.json files' });
        // a file of the directory that cannot be read is named, and the others are still read
        for (const n of names) await read(join(arg, n.name), true).catch((e) => issues.push(unreadable(join(arg, n.name), e, n)));
      } else {
        await read(arg, false);
      }
    } catch (e) {
      const why = await namedUnreadable(arg, e);
      // named twice (`-f x -f ./x`), it is named once, as a file named twice is read once
      if (why !== 'missing') issues.push(why);
      else if (!missing.some((p) => resolve(p) === resolve(arg))) missing.push(arg);
    }
  }
  if (missing.length) throw new MissingPathError(missing);
  if (issues.length) throw new ManifestError(issues);
  return out;
}

/**
 * Every document of every source through `check`: what it accepted, and the problems of all
 * files, file by file in the order given and top to bottom (as an editor shows a file).
 */
function checkDocuments<T>(sources: ManifestSource[], check: (doc: ParsedDoc) => { value?: T; issues: { path: FieldPath; message: string }[] }, bounds?: DocumentBounds): { values: Array<{ value: T; doc: ParsedDoc }>; issues: ManifestIssue[]; named: NamedDoc[] } {
  const issues: ManifestIssue[] = [];
  const values: Array<{ value: T; doc: ParsedDoc }> = [];
  const named: NamedDoc[] = [];
  for (const src of sources) {
    const checked: ManifestIssue[] = [];
    // each object as it is read, so that reading stops once too many documents are refused
    const parsed = parseManifestText(src.text, src.file, (doc) => {
      const ref = rawRef(doc.raw);
      if (ref) named.push({ ...ref, doc });
      const r = check(doc);
      if (r.value !== undefined) values.push({ value: r.value, doc });
      else for (const i of r.issues) checked.push(issueAt(doc, i.path, i.message, objectLabel(doc.raw)));
      return r.value !== undefined;
    }, bounds);
    const fileIssues = parsed.issues;
    // one by one: push(...xs) takes xs as arguments, and 150 000 of them overflow the stack
    for (const i of checked) fileIssues.push(i);
    // sort is stable: the same line keeps its order
    for (const i of fileIssues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0))) issues.push(i);
    if (parsed.stopped) issues.push(parsed.stopped);
  }
  return { values, issues, named };
}

/** A document's kind and metadata.name as written, when both are strings, valid or not. */
interface NamedDoc { kind: string; metadata: { name: string }; doc: ParsedDoc }

function rawRef(raw: unknown): { kind: string; metadata: { name: string } } | undefined {
  const r = raw as { kind?: unknown; metadata?: { name?: unknown } } | null;
  return typeof r?.kind === 'string' && typeof r.metadata?.name === 'string' ? { kind: r.kind, metadata: { name: r.metadata.name } } : undefined;
}

const noObjects = (sources: ManifestSource[]) => new ManifestError([{ file: sources.map((s) => s.file).join(', ') || '(none)', reason: 'no objects found' }]);

/**
 * Parses and validates sources; throws ManifestError naming every problem, or returns every
 * object. `bounds`: what one document may hold (document-bounds.ts); lower ones are for tests.
 */
export function parseSources(sources: ManifestSource[], bounds?: DocumentBounds): LoadedObject[] {
  const checked = checkDocuments(sources, (doc) => { const r = validateObject(doc.raw, { syntax: doc.syntax }); return withTagIssues(doc, { value: r.object, issues: r.issues }); }, bounds);
  const issues = checked.issues;
  const loaded: LoadedObject[] = checked.values.map((v) => ({ object: v.value, doc: v.doc }));
  // over every document that names a kind and a name, valid or not: one run says a copy is
  // twice in the batch also while one of the copies has another problem
  const { named } = checked;
  const dups = duplicateIssues(named, (i) => nameLocation(named[i].doc));
  for (const d of dups) issues.push(issueAt(named[d.index].doc, d.path, d.message, objectLabel(named[d.index].doc.raw)));
  const second = new Set(dups.map((d) => named[d.index].doc));
  // a refused second copy is not checked against the store: it would clash with its first
  if (issues.length) throw new InvalidBatchError(issues, loaded.filter((l) => !second.has(l.doc)), sources.map((x) => x.file));
  if (loaded.length === 0) throw noObjects(sources);
  return loaded;
}

/** what `delete -f` reads of a document; a tag elsewhere (in labels, say) is none of its business */
const REFERENCE_FIELDS: FieldPath[] = [['apiVersion'], ['kind'], ['metadata', 'name']];

const within = (outer: FieldPath, inner: FieldPath) => outer.every((p, i) => inner[i] === p);

/**
 * The document's tag issues (those on `fields`, or on their parents or values, when given)
 * before the check's own, less the check's at or under a tagged value: a !!binary's bytes are
 * "not a string" only because of its tag. A document with a tag issue yields no value.
 */
function withTagIssues<T>(doc: ParsedDoc, r: { value?: T; issues: FieldIssue[] }, fields?: FieldPath[]): { value?: T; issues: FieldIssue[] } {
  const tags = doc.tagIssues.filter((t) => !fields || fields.some((f) => within(t.path, f) || within(f, t.path)));
  if (tags.length === 0) return r;
  return { issues: [...tags, ...r.issues.filter((i) => !tags.some((t) => within(t.path, i.path)))] };
}

/**
 * The kind and name of every document (`delete -f`), each named once in the order first met;
 * only apiVersion, kind and metadata.name are checked (validateReference). Throws ManifestError
 * naming every problem.
 */
export async function loadReferences(args: string[], stdin?: StdinReader): Promise<Array<{ kind: AnyObject['kind']; name: string }>> {
  const sources = await readSources(args, stdin);
  const checked = checkDocuments(sources, (doc) => { const r = validateReference(doc.raw, { syntax: doc.syntax }); return withTagIssues(doc, { value: r.ref, issues: r.issues }, REFERENCE_FIELDS); });
  if (checked.issues.length) throw new ManifestError(checked.issues);
  const seen = new Map<string, { kind: AnyObject['kind']; name: string }>();
  for (const { value } of checked.values) if (!seen.has(`${value.kind}/${value.name}`)) seen.set(`${value.kind}/${value.name}`, value);
  if (seen.size === 0) throw noObjects(sources);
  return [...seen.values()];
}

/**
 * The manifests' own problems, with the objects that passed them: the caller checks those
 * against the store too (checkAgainstStore), so that one run shows every problem.
 */
export class InvalidBatchError extends ManifestError {
  /** `files`: the sources' names in the order given */
  constructor(issues: ManifestIssue[], readonly valid: LoadedObject[], private readonly files: string[], note?: string) {
    super(issues);
    // a `note:` line after the problems (e.g. that some were not looked for)
    if (note) this.message += `\nnote: ${note}`;
  }

  /** these problems and `more`, file by file (in the order given) and top to bottom; `note` said after them */
  with(more: ManifestIssue[], note?: string): InvalidBatchError {
    const rank = (i: ManifestIssue) => this.files.indexOf(i.file);
    const all = [...this.issues, ...more].sort((a, b) => rank(a) - rank(b) || (a.line ?? 0) - (b.line ?? 0));
    return new InvalidBatchError(all, this.valid, this.files, note);
  }
}

export async function loadManifests(args: string[], stdin?: StdinReader): Promise<LoadedObject[]> {
  return parseSources(await readSources(args, stdin));
}

/** Apply-time checks of the batch against the stored objects; throws ManifestError when any fails. */
export function checkAgainstStore(loaded: LoadedObject[], existing: AnyObject[], reports?: NodeReports): void {
  const issues = objectIssues(loaded, crossObjectIssues(loaded.map((l) => l.object), existing, reports));
  if (issues.length) throw new ManifestError(issues, loaded.map((l) => l.doc.file));
}

/**
 * An issue about the batch object of this kind and name (unique in a batch: duplicates are
 * refused), at the field `path` or its nearest parent; undefined when no such object is loaded.
 */
export function objectIssue(loaded: LoadedObject[], ref: { kind: string; name: string }, path: FieldPath, reason: string): ManifestIssue | undefined {
  const l = loaded.find((x) => x.object.kind === ref.kind && x.object.metadata.name === ref.name);
  return l && issueAt(l.doc, path, reason, `${l.object.kind.toLowerCase()}/${l.object.metadata.name}`);
}

function objectIssues(loaded: LoadedObject[], issues: ObjectIssue[]): ManifestIssue[] {
  return issues.map((i) => {
    const l = loaded[i.index];
    return issueAt(l.doc, i.path, i.message, `${l.object.kind.toLowerCase()}/${l.object.metadata.name}`);
  });
}

function issueAt(doc: ParsedDoc, path: FieldPath, reason: string, object?: string): ManifestIssue {
  return { file: doc.file, document: doc.document, line: doc.lineOf(path), path: doc.pathText(path), object, reason };
}

/** file:line: document N (: items[i]) of an object's metadata.name: where a duplicate's first copy is. */
function nameLocation(doc: ParsedDoc): string {
  return formatLocation({ file: doc.file, line: doc.lineOf(['metadata', 'name']), document: doc.document, path: doc.pathText([]) });
}

function objectLabel(raw: unknown): string | undefined {
  const r = raw as { kind?: unknown; metadata?: { name?: unknown } } | null;
  if (typeof r?.kind === 'string' && typeof r.metadata?.name === 'string') return `${r.kind.toLowerCase()}/${r.metadata.name}`;
  return undefined;
}
