// Where an unclosed quote or bracket opened. The YAML parser reports such an error where it ran
// out of input (often the end of the file, lines away); its concrete syntax tree still holds
// the token that was opened and never closed, with its offset, which is what a user looks for.
// One such token swallows what follows it, closing brackets included, so the collections around
// it are unclosed too: `{a: [}` had two errors, both shown at the `{`, while the `[` is the one
// to close. A document's unclosed errors are one problem, shown at the innermost opening.
import { boundedTokens } from './document-bounds.js';

const CLOSER: Record<string, string> = { 'double-quoted-scalar': '"', 'single-quoted-scalar': "'" };

function unclosed(t: { type?: string; source?: string; start?: { source?: string }; end?: Array<{ source?: string }> }): boolean {
  const q = t.type ? CLOSER[t.type] : undefined;
  if (q) return !t.source || t.source.length < 2 || !t.source.endsWith(q) || (q === '"' && /(^|[^\\])(\\\\)*\\"$/.test(t.source));
  // closed by its own closer only: the parser ends a `[` at the `}` of the map around it (`{a: [}`)
  const closer = t.start?.source === '[' ? ']' : '}';
  if (t.type === 'flow-collection') return !(t.end ?? []).some((e) => e.source === closer);
  return false;
}

/** The offsets of the quotes and flow collections opened in `token` and never closed, in order. */
function openingsIn(token: unknown): number[] {
  const found: number[] = [];
  const visit = (v: unknown, depth: number): void => {
    if (!v || typeof v !== 'object' || depth > 200) return;
    if (Array.isArray(v)) { for (const x of v) visit(x, depth + 1); return; }
    const t = v as { type?: string; offset?: number };
    if (typeof t.offset === 'number' && unclosed(t as never)) found.push(t.offset);
    for (const [k, x] of Object.entries(v)) if (k !== 'source') visit(x, depth + 1);
  };
  visit(token, 0);
  return found.sort((a, b) => a - b);
}

/**
 * The offsets of every quote or flow collection opened and never closed before the offset
 * asked, in order: one parse of the text for all its errors (one per error made 5 000 of them
 * take more than ten minutes), and only as far as asked (the rest of a 16 MiB file, parsed at
 * its first error, took 15 s when reading stopped a few documents later), nor past a document
 * too large to read (document-bounds.ts).
 */
export function unclosedOpenings(text: string): (before: number) => number[] {
  const tokens = boundedTokens(text, {});
  const found: number[] = [];
  let reached = -1;
  return (before) => {
    while (reached < before) {
      const next = tokens.next();
      if (next.done) break;
      reached = (next.value as { offset?: number }).offset ?? reached;
      for (const o of openingsIn(next.value)) found.push(o);
    }
    return found;
  };
}

/**
 * The last of `openings` (sorted) at or after `from` (the errors' document's start) and before
 * `before` (its last unclosed error): the innermost, as an opening swallows what follows it.
 */
export function innermostOpening(openings: number[], from: number, before: number): number | undefined {
  let lo = 0;
  let hi = openings.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (openings[mid] < before) lo = mid + 1; else hi = mid;
  }
  return lo > 0 && openings[lo - 1] >= from ? openings[lo - 1] : undefined;
}

/** What is missing, by the character that opened it. */
export function unclosedReason(opener: string): string {
  if (opener === '[') return 'Flow sequence must end with a ]';
  if (opener === '{') return 'Flow map must end with a }';
  return `Missing closing ${opener}quote`;
}

/** Whether a parse error is one of an unclosed quote or flow collection. */
export const isUnclosedError = (e: { code: string; message: string }): boolean =>
  e.code === 'MISSING_CHAR' || /end with an? [\]}]/.test(e.message);
