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

export class ManifestError extends ValidationError {
  constructor(readonly issues: ManifestIssue[]) {
    super('InvalidManifest', issues.length === 1
      ? `invalid manifest: ${formatIssue(issues[0])}`
      : `invalid manifests (${issues.length} problems):\n${issues.map((i) => '  ' + formatIssue(i)).join('\n')}`);
    this.name = 'ManifestError';
  }
}
