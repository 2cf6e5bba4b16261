// How a field path is printed in every message: `spec.exclude[1]`, `metadata.labels.app`. A map
// key holding a dot or a space, or nothing, printed as plain path (`metadata.labels.xnet.io/x`,
// `metadata.labels.`) left a user guessing which key was meant. Such a key is written in
// brackets, as Kubernetes' field.Path writes a map key (`metadata.labels[xnet.io/x]`), and
// quoted as a JSON string when brackets alone would still hide it. Plain keys stay as they are.
import type { FieldPath } from './field-issue.js';

/** A key that reads as one segment after a dot: no dot, bracket, quote, backslash, space or unseen character. */
const PLAIN = /^[^.[\]"\\\s\p{C}\p{Z}]+$/u;
/** What brackets alone would hide: a bracket or quote inside, an unseen character, space at an end, or nothing. */
const NEEDS_QUOTES = /[[\]"\\\p{C}]|[^\P{Z} ]|[^\S ]|^ | $|^$/u;

/** A string key as one path segment, without the dot before it. */
function keySegment(key: string): string {
  if (PLAIN.test(key)) return key;
  if (!NEEDS_QUOTES.test(key)) return `[${key}]`;
  // JSON leaves format and separator characters (a zero-width space) as they are: escaped, they show
  const quoted = JSON.stringify(key).replace(/[\p{C}\p{Z}]/gu, (c) => (c === ' ' ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return `[${quoted}]`;
}

/** Renders a path the way users write it: spec.exclude[1], metadata.labels.app, metadata.labels[xnet.io/x] */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else {
      const segment = keySegment(p);
      out += segment.startsWith('[') || !out ? segment : `.${segment}`;
    }
  }
  return out || '(document)';
}

/** A schema issue's path (zod's keys), printed as formatPath prints it; `whenEmpty` for the whole value. */
export function formatIssuePath(path: readonly PropertyKey[], whenEmpty: string): string {
  return path.length ? formatPath(path.map((p) => (typeof p === 'number' ? p : String(p)))) : whenEmpty;
}
