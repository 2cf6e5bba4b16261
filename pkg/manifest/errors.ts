import { ValidationError } from '../errors.js';

// A rejected manifest must tell the user exactly where to look: file, document, line, field.

export interface ManifestIssue {
  /** file path as given, "<stdin>" for -f - */
  file: string;
  /** 1-based index of the YAML document in the file (JSON files have one document) */
  document?: number;
  /** 1-based line of the offending field (or of its closest existing parent) */
  line?: number;
  /** 1-based column, when known */
  column?: number;
  /** field path inside the document, e.g. spec.network.clusterNetwork or items[2].spec.cidr */
  path?: string;
  /** "kind/name" of the object, when it could be read */
  object?: string;
  reason: string;
}

/** file:line: document N (kind/name): path: reason — the file:line prefix lets editors jump there. */
export function formatIssue(i: ManifestIssue): string {
  return `${formatLocation(i)}: ${i.reason}`;
}

/** file:line: document N (kind/name): path — where an issue is, or where another message points to. */
export function formatLocation(i: Omit<ManifestIssue, 'reason'>): string {
  let where = i.file;
  if (i.line !== undefined) where += `:${i.line}`;
  if (i.line !== undefined && i.column !== undefined) where += `:${i.column}`;
  const parts = [where];
  if (i.document !== undefined) parts.push(`document ${i.document}` + (i.object ? ` (${i.object})` : ''));
  if (i.path) parts.push(i.path);
  return parts.join(': ');
}

/**
 * Issues in the order a reader meets them: files in the order given (`files`, as -f named them;
 * else as the issues first name them), then document and line (the checks that find them run
 * per rule, so their own order jumps around the file). Stable.
 */
export function inFileOrder(issues: ManifestIssue[], files: string[] = []): ManifestIssue[] {
  const fileRank = new Map<string, number>();
  for (const f of [...files, ...issues.map((i) => i.file)]) if (!fileRank.has(f)) fileRank.set(f, fileRank.size);
  const at = (n: number | undefined) => n ?? Number.MAX_SAFE_INTEGER;
  return issues.map((i, k) => ({ i, k })).sort((a, b) => (fileRank.get(a.i.file)! - fileRank.get(b.i.file)!)
    || at(a.i.document) - at(b.i.document) || at(a.i.line) - at(b.i.line) || a.k - b.k).map((x) => x.i);
}

export class ManifestError extends ValidationError {
  readonly issues: ManifestIssue[];
  /** `files`: the manifests in the order they were named, when the issues may not follow it */
  constructor(found: ManifestIssue[], files?: string[]) {
    const issues = inFileOrder(found, files);
    super('InvalidManifest', issues.length === 1
      ? `invalid manifest: ${formatIssue(issues[0])}`
      : `invalid manifests (${issues.length} problems):\n${issues.map((i) => '  ' + formatIssue(i)).join('\n')}`);
    this.issues = issues;
    this.name = 'ManifestError';
  }
}

/**
 * A path named by -f that is not there: nothing to call invalid. Worded as kubectl's (`the path
 * "x.yaml" does not exist`), every missing path named; the files that are there are not read on.
 */
export class MissingPathError extends ManifestError {
  constructor(readonly paths: string[]) {
    super(paths.map((file) => ({ file, reason: 'does not exist' })));
    this.message = paths.length === 1
      ? `the path ${JSON.stringify(paths[0])} does not exist`
      : `the paths ${paths.map((p) => JSON.stringify(p)).join(', ')} do not exist`;
    this.name = 'MissingPathError';
  }
}
