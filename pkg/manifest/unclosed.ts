// Where an unclosed quote or bracket opened. The YAML parser reports such an error where it ran
// out of input (often the end of the file, lines away); its concrete syntax tree still holds
// the token that was opened and never closed, with its offset, which is what a user looks for.
import { Parser } from 'yaml';

const CLOSER: Record<string, string> = { 'double-quoted-scalar': '"', 'single-quoted-scalar': "'" };

function unclosed(t: { type?: string; source?: string; end?: Array<{ source?: string }> }): boolean {
  const q = t.type ? CLOSER[t.type] : undefined;
  if (q) return !t.source || t.source.length < 2 || !t.source.endsWith(q) || (q === '"' && /(^|[^\\])(\\\\)*\\"$/.test(t.source));
  if (t.type === 'flow-collection') return !(t.end ?? []).some((e) => e.source === ']' || e.source === '}');
  return false;
}

/** The offset of the first quote or flow collection opened before `before` and never closed. */
export function unclosedOpening(text: string, before: number): number | undefined {
  let found: number | undefined;
  const visit = (v: unknown, depth: number): void => {
    if (found !== undefined || !v || typeof v !== 'object' || depth > 200) return;
    if (Array.isArray(v)) { for (const x of v) visit(x, depth + 1); return; }
    const t = v as { type?: string; offset?: number };
    if (typeof t.offset === 'number' && t.offset < before && unclosed(t as never)) { found = t.offset; return; }
    for (const [k, x] of Object.entries(v)) if (k !== 'source') visit(x, depth + 1);
  };
  for (const token of new Parser().parse(text)) visit(token, 0);
  return found;
}

/** Whether a parse error is one of an unclosed quote or flow collection. */
export const isUnclosedError = (e: { code: string; message: string }): boolean =>
  e.code === 'MISSING_CHAR' || /end with an? [\]}]/.test(e.message);
